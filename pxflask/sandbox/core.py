"""The Sandbox controller: state, switches, counters and helpers for tests."""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

from . import tokens
from .counters import Counters
from .faults import Faults
from .idempotency import IdempotencyStore
from .options import SandboxOptions
from .ratelimit import RateLimiter
from .seed import seed_tenant
from .serialize import iso_utc
from .state import Clock, State

if TYPE_CHECKING:
    from .contract import ContractChecker
    from .inject import Injector

DEFAULT_SCOPE = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
]
CONTRACT_EXTRA = "pip install 'pxflask[contract]'"


class ContractExtraMissing(RuntimeError):
    """Contract mode was asked for without the `contract` extra installed."""


def load_contract_checker() -> ContractChecker:
    """The spec validator, or ContractExtraMissing naming the extra to install."""
    try:
        from .contract import ContractChecker
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "pxflask":
            raise
        raise ContractExtraMissing(
            f"contract mode needs the optional 'contract' extra ({exc.name} is"
            f" not installed): {CONTRACT_EXTRA}"
        ) from None
    return ContractChecker()


class Sandbox:
    """One fake Xero: all state and switches, safe to use from test threads."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        """Build fresh state from options."""
        self.base_options = options or SandboxOptions()
        self.lock = threading.RLock()
        self.clock = Clock()
        self.contract: ContractChecker | None = None
        self.violations: list[str] = []
        self.reset()

    # ----------------------------------------------------------------- setup
    def reset(self, **overrides: Any) -> None:
        """Fresh state, counters and switches; overrides change options."""
        with self.lock:
            opts = self.base_options.replace(**overrides)
            if opts.contract_mode and self.contract is None:
                self.contract = load_contract_checker()
            self.options = opts
            self.clock.reset()
            self.state = State()
            for seed in opts.tenant_seeds():
                tenant = seed_tenant(seed, self.clock)
                self.state.tenants[tenant.tenant_id] = tenant
            self.counters = Counters()
            self.faults = Faults()
            self.limiter = RateLimiter(
                self.clock.time,
                calls_per_window=opts.calls_per_window,
                window_s=opts.window_s,
                concurrent_limit=opts.concurrent_limit,
                day_limit=opts.day_limit,
                day_window_s=opts.day_window_s,
                app_calls_per_window=opts.app_calls_per_window,
            )
            self.idempotency = IdempotencyStore(self.clock.time, opts.idempotency_ttl_s)
            self.violations.clear()

    @property
    def tenant_id(self) -> str:
        """The demo (first) tenant's id."""
        return next(iter(self.state.tenants))

    @property
    def contract_mode(self) -> bool:
        """Whether traffic is validated against the OpenAPI specs."""
        return bool(self.options.contract_mode and self.contract is not None)

    def new_response_id(self) -> str:
        """The Id of a response envelope."""
        return str(uuid.uuid4())

    def add_violation(self, message: str) -> None:
        """Record a contract violation."""
        with self.lock:
            self.violations.append(message)

    # ---------------------------------------------------------------- tokens
    def issue_token(
        self,
        tenant_ids: list[str] | None = None,
        scope: list[str] | None = None,
    ) -> dict[str, Any]:
        """A token set as if the user had consented (SDK token dict shape)."""
        with self.lock:
            chosen = tenant_ids or [self.tenant_id]
            grant = tokens.new_grant(
                self, self.options.client_id, scope or list(DEFAULT_SCOPE), chosen
            )
            token = tokens.issue(self, grant)
        token["scope"] = token["scope"].split()
        token["expires_at"] = self.clock.time() + token["expires_in"]
        return token

    def expire_access_tokens(self) -> int:
        """Fault: every access token issued so far is now expired (401)."""
        with self.lock:
            return tokens.expire_access_tokens(self)

    def advance_time(self, seconds: float) -> None:
        """Move the sandbox clock (token expiry, rate windows, idempotency TTL)."""
        self.clock.advance(seconds)

    def connections(self) -> list[dict[str, Any]]:
        """All current connections (public fields)."""
        with self.lock:
            return [
                {k: v for k, v in c.items() if not k.startswith("_")}
                for c in self.state.identity.connections.values()
            ]

    # ---------------------------------------------------------------- events
    def record_event(
        self, tenant_id: str, category: str, event_type: str, resource_id: str
    ) -> None:
        """Queue a webhook event (deliver with webhooks.deliver_pending)."""
        path = {
            "CONTACT": "Contacts",
            "INVOICE": "Invoices",
            "CREDITNOTE": "CreditNotes",
        }[category]
        self.state.event_sequence += 1
        self.state.events.append(
            {
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/{path}/{resource_id}",
                "resourceId": resource_id,
                "eventDateUtc": iso_utc(self.clock.now()),
                "eventType": event_type,
                "eventCategory": category,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "_sequence": self.state.event_sequence,
            }
        )

    def take_events(self) -> list[dict[str, Any]]:
        """Pop the queued webhook events."""
        with self.lock:
            events, self.state.events = self.state.events, []
        return events

    # ------------------------------------------------------------- injection
    @property
    def inject(self) -> Injector:
        """Helpers that change data server-side (see inject.Injector)."""
        from .inject import Injector

        return Injector(self)
