"""The OAuth connection core: authorize, exchange, tenant choice, status, disconnect."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from pxflask.config import LEGACY_SCOPES
from pxflask.models import SyncCursor, utcnow
from pxflask.xero import oauth
from pxflask.xero.errors import NotConnected, XeroAuthError, XeroConfigError, XeroError
from pxflask.xero.oauth import AuthorizationRequest
from pxflask.xero.tokens import REFRESH_WARNING, TokenStore, refresh_expiry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tenant:
    """One Xero organisation the token can reach."""

    tenant_id: str
    name: str | None
    tenant_type: str | None
    connection_id: str | None


LOCK_SEEN = "xero.lock_date"
"""SyncCursor: the lock date the last sync run read ('' when the books were open)."""


@dataclass
class ConnectionStatus:
    """What the panel and `pxflask xero status` show."""

    connected: bool
    message: str
    grant_type: str | None = None
    tenant_id: str | None = None
    tenant_name: str | None = None
    needs_tenant: bool = False
    needs_reconnect: bool = False
    """A connection is stored, made with other XERO_CLIENT_ID/SECRET (kept)."""
    scopes: list[str] = field(default_factory=list)
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    refresh_warning: str | None = None
    minute_remaining: int | None = None
    day_remaining: int | None = None
    quota_seen_at: datetime | None = None
    connected_at: datetime | None = None
    lock_date: date | None = None
    """Xero's period lock date as the last sync read it (None: open, or not read)."""
    lock_seen_at: datetime | None = None


class IdentityClient(Protocol):
    """What the connection needs of the gateway: settings, tokens, identity calls."""

    settings: dict[str, Any]
    tokens: TokenStore

    def call_identity(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the identity API (connections) with the gateway's token and retries."""


class ConnectionManager:
    """Connect, choose the tenant, report and disconnect (used via the gateway)."""

    def __init__(self, gateway: IdentityClient) -> None:
        self.gateway = gateway
        self.settings = gateway.settings
        self.tokens = gateway.tokens

    def start_authorization(
        self,
        redirect_uri: str | None = None,
        *,
        pkce: bool = False,
        legacy_scopes: bool = False,
    ) -> AuthorizationRequest:
        """The authorize URL with a fresh random state; keep state for the callback."""
        redirect = redirect_uri or self.settings.get("XERO_REDIRECT_URI")
        if not redirect:
            raise XeroConfigError(
                "no redirect URI: set XERO_REDIRECT_URI or pass the callback URL"
            )
        scopes = LEGACY_SCOPES if legacy_scopes else self.settings["XERO_SCOPES"]
        return oauth.authorization_url(self.settings, redirect, scopes.split(), pkce)

    def complete_authorization(
        self,
        code: str | None,
        state: str | None,
        expected_state: str | None,
        *,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        error: str | None = None,
    ) -> list[Tenant]:
        """Check state, exchange the code, store the token; the reachable tenants."""
        if (
            not state
            or not expected_state
            or not hmac.compare_digest(str(state), str(expected_state))
        ):
            raise XeroAuthError(
                "the answer from Xero does not match this sign-in (state mismatch); "
                "start the connection again"
            )
        if error:
            raise XeroAuthError(f"Xero did not grant access ({error})")
        if not code:
            raise XeroAuthError("Xero sent no authorization code; start again")
        redirect = redirect_uri or self.settings.get("XERO_REDIRECT_URI")
        if not redirect:
            raise XeroConfigError(
                "no redirect URI: set XERO_REDIRECT_URI or pass the callback URL"
            )
        token = oauth.exchange_code(self.settings, code, redirect, code_verifier)
        self.tokens.save_new(token, "authorization_code")
        tenants = self.tenants()
        if not tenants:
            self.tokens.forget()
            raise XeroAuthError("no Xero organisation was authorised; start again")
        if len(tenants) == 1:
            self._store_tenant(tenants[0])
        return tenants

    def choose_tenant(self, tenant_id: str) -> Tenant:
        """Pick one of the authorised organisations."""
        for tenant in self.tenants():
            if tenant.tenant_id == tenant_id:
                self._store_tenant(tenant)
                return tenant
        raise XeroAuthError(
            f"organisation {tenant_id} is not among those authorised; start again"
        )

    def connect_client_credentials(self) -> Tenant:
        """Connect a Xero Custom Connection (client_credentials grant)."""
        token = oauth.client_credentials(self.settings)
        self.tokens.save_new(token, "client_credentials")
        tenants = self.tenants()
        if not tenants:
            self.tokens.forget()
            raise XeroAuthError(
                "the Custom Connection reaches no organisation; authorise it in Xero"
            )
        self._store_tenant(tenants[0])
        return tenants[0]

    def tenants(self) -> list[Tenant]:
        """The organisations the stored token can reach (GET /connections)."""
        answer = self.gateway.call_identity("get_connections") or []
        return [
            Tenant(
                tenant_id=str(item.tenant_id),
                name=item.tenant_name,
                tenant_type=item.tenant_type,
                connection_id=None if item.id is None else str(item.id),
            )
            for item in answer
            if item.tenant_id
        ]

    def _store_tenant(self, tenant: Tenant) -> None:
        """Persist the chosen tenant."""
        self.tokens.set_tenant(
            tenant.tenant_id, tenant.name, tenant.tenant_type, tenant.connection_id
        )

    def disconnect(self) -> None:
        """Remove the connection in Xero (best effort) and always locally."""
        if self.tokens.stale() is not None:  # other credentials cannot revoke it
            log.warning("forgetting a Xero connection made with other credentials")
            self.tokens.forget()
            return
        try:
            conn = self.tokens.peek()
        except XeroConfigError as exc:  # undecryptable token: just forget it
            log.warning("forgetting a Xero connection that cannot be read: %s", exc)
            self.tokens.forget()
            return
        if conn is None:
            return
        if conn.connection_id:
            try:
                self.gateway.call_identity("delete_connection", conn.connection_id)
            except XeroError as exc:
                log.warning("could not delete the Xero connection: %s", exc)
        refresh_token = conn.token.get("refresh_token")
        if refresh_token:
            try:
                oauth.revoke(self.settings, refresh_token)
            except XeroError as exc:
                log.warning("could not revoke the Xero token: %s", exc)
        self.tokens.forget()

    def connection_status(self) -> ConnectionStatus:
        """The stored connection, token expiry, scopes and quota left."""
        if not self.tokens.configured:
            return ConnectionStatus(
                False,
                "Xero is not configured: set XERO_CLIENT_ID and XERO_CLIENT_SECRET.",
            )
        stale = self.tokens.stale()
        if stale is not None:
            return ConnectionStatus(
                False,
                stale.message,
                grant_type=stale.grant_type,
                tenant_id=stale.tenant_id,
                tenant_name=stale.tenant_name,
                needs_reconnect=True,
                connected_at=stale.connected_at,
            )
        try:
            conn = self.tokens.peek()
        except XeroConfigError as exc:
            return ConnectionStatus(False, str(exc))
        if conn is None:
            return ConnectionStatus(False, "Xero is not connected.")
        refresh_at = refresh_expiry(conn)
        warning = None
        now = utcnow()
        if refresh_at is not None and refresh_at - now < REFRESH_WARNING:
            days = max(0, (refresh_at - now).days)
            warning = (
                f"the Xero refresh token lapses in {days} day(s) unless used; "
                "run a sync or reconnect"
            )
        status = ConnectionStatus(
            connected=bool(conn.tenant_id),
            message="",
            grant_type=conn.grant_type,
            tenant_id=conn.tenant_id,
            tenant_name=conn.tenant_name,
            needs_tenant=not conn.tenant_id,
            scopes=conn.scopes,
            access_expires_at=conn.access_expires_at,
            refresh_expires_at=refresh_at,
            refresh_warning=warning,
            minute_remaining=conn.minute_remaining,
            day_remaining=conn.day_remaining,
            quota_seen_at=conn.quota_seen_at,
            connected_at=conn.connected_at,
        )
        status.lock_date, status.lock_seen_at = self._lock_seen()
        if status.needs_tenant:
            status.message = "Xero is authorised; choose the organisation to use."
        else:
            status.message = f"Connected to {conn.tenant_name or conn.tenant_id}."
        return status

    def _lock_seen(self) -> tuple[date | None, datetime | None]:
        """The lock date the last sync run read, and when (no Xero call)."""
        with self.tokens.new_session() as session:
            row = session.get(SyncCursor, LOCK_SEEN)
            if row is None:
                return None, None
            lock = date.fromisoformat(row.value) if row.value else None
            return lock, row.updated_at


def require_connected(status: ConnectionStatus) -> None:
    """Raise NotConnected with the status message when not connected."""
    if not status.connected:
        raise NotConnected(status.message)


__all__ = [
    "AuthorizationRequest",
    "ConnectionManager",
    "ConnectionStatus",
    "Tenant",
    "require_connected",
]
