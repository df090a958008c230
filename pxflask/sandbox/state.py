"""In-memory state of the fake Xero: a clock, organisations and identity data."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

RESOURCES = (
    "Accounts",
    "TaxRates",
    "Contacts",
    "Items",
    "Invoices",
    "CreditNotes",
    "Payments",
    "BankTransactions",
)


class Clock:
    """Wall clock with a test offset; timestamps handed out strictly increase."""

    def __init__(self) -> None:
        """Start at real time with no offset."""
        self.offset = 0.0
        self._last_us = 0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, shifted by the offset."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move sandbox time forward (token expiry, windows, TTLs)."""
        self.offset += seconds

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self.offset = 0.0
            self._last_us = 0

    def stamp(self) -> datetime:
        """A unique, increasing UTC timestamp (microseconds; shown as ms)."""
        with self._lock:
            us = max(int(self.time() * 1_000_000), self._last_us + 1)
            self._last_us = us
        return datetime.fromtimestamp(us / 1_000_000, tz=UTC)

    def now(self) -> datetime:
        """The current sandbox time as aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=UTC)


@dataclass
class Tenant:
    """One Xero organisation and all its records (dicts keyed by ID)."""

    tenant_id: str
    name: str
    base_currency: str
    country_code: str
    organisation: dict[str, Any] = field(default_factory=dict)
    currencies: list[str] = field(default_factory=list)
    records: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in RESOURCES}
    )
    sequences: dict[str, int] = field(default_factory=dict)

    def table(self, resource: str) -> dict[str, dict[str, Any]]:
        """The records of one resource type."""
        return self.records[resource]

    def next_number(self, kind: str) -> int:
        """The next value of a numbering sequence (INV-, CN-, TAX)."""
        value = self.sequences.get(kind, 0) + 1
        self.sequences[kind] = value
        return value


@dataclass
class Grant:
    """One user's consent for the app: which tenants the tokens may reach."""

    grant_id: str
    client_id: str
    scope: list[str]
    auth_event_id: str
    custom_tenant: str | None = None
    revoked: bool = False


@dataclass
class AccessToken:
    """An issued access token."""

    token: str
    grant_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    """An issued refresh token and its rotation state."""

    token: str
    grant_id: str
    scope: list[str]
    expires_at: float
    rotated_at: float | None = None
    grace_used: bool = False
    revoked: bool = False


@dataclass
class AuthCode:
    """A single-use authorization code."""

    code: str
    client_id: str
    redirect_uri: str
    scope: list[str]
    tenant_ids: list[str]
    expires_at: float
    code_challenge: str | None = None
    used: bool = False


@dataclass
class Identity:
    """Tokens, codes and connections of the identity service."""

    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class State:
    """Everything the sandbox knows; replaced wholesale on reset."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    identity: Identity = field(default_factory=Identity)
    events: list[dict[str, Any]] = field(default_factory=list)
    event_sequence: int = 0

    def tenant(self, tenant_id: str | None = None) -> Tenant:
        """A tenant by id, or the first (demo) one."""
        if tenant_id is None:
            return next(iter(self.tenants.values()))
        return self.tenants[tenant_id]
