"""The one place that stores and refreshes Xero tokens (single-flight)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.exceptions import LockError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from pxflask.dbtypes import SessionLike, rowcount
from pxflask.models import XeroConnection, utcnow
from pxflask.xero import oauth
from pxflask.xero.crypto import TokenCipher
from pxflask.xero.errors import (
    NeedsReconnect,
    NotConnected,
    XeroAuthError,
    XeroUnavailable,
)
from pxflask.xero.stats import CallStats

log = logging.getLogger(__name__)

REFRESH_MARGIN_S = 120.0
LEASE_S = 45.0
REFRESH_TOKEN_LIFETIME = timedelta(days=60)
REFRESH_WARNING = timedelta(days=10)


@dataclass(frozen=True)
class StoredConnection:
    """A decrypted snapshot of the XeroConnection row."""

    id: int
    grant_type: str
    tenant_id: str | None
    tenant_name: str | None
    tenant_type: str | None
    connection_id: str | None
    token: dict[str, Any]
    version: int
    access_expires_at: datetime | None
    refresh_issued_at: datetime | None
    connected_at: datetime | None
    minute_remaining: int | None
    day_remaining: int | None
    quota_seen_at: datetime | None

    @property
    def scopes(self) -> list[str]:
        """Granted scopes, as a list."""
        return list(self.token.get("scope") or [])

    def expires_within(self, seconds: float) -> bool:
        """Whether the access token is gone (or nearly) in `seconds`."""
        expires_at = self.token.get("expires_at")
        if expires_at is None:
            return False
        return float(expires_at) - time.time() < seconds


@dataclass(frozen=True)
class StaleConnection:
    """A stored connection made with other XERO_CLIENT_ID/SECRET: kept, not used."""

    grant_type: str
    tenant_id: str | None
    tenant_name: str | None
    connected_at: datetime | None

    @property
    def message(self) -> str:
        """What the panel, the CLI and a refused sync say."""
        who = self.tenant_name or self.tenant_id or "Xero"
        return (
            "Xero needs reconnecting: XERO_CLIENT_ID or XERO_CLIENT_SECRET is not "
            f"the one the connection to {who} was made with. Restore the previous "
            "credentials, or connect again with these; the stored connection is "
            "kept until a new one succeeds."
        )


def _stale(row: XeroConnection) -> StaleConnection:
    """The StaleConnection of a row."""
    return StaleConnection(
        row.grant_type, row.tenant_id, row.tenant_name, row.connected_at
    )


def _naive_utc(stamp: float | None) -> datetime | None:
    """Epoch seconds as a naive UTC datetime."""
    if stamp is None:
        return None
    return datetime.fromtimestamp(float(stamp), UTC).replace(tzinfo=None)


class TokenStore:
    """Encrypted token storage and single-flight refresh of the one connection."""

    def __init__(
        self,
        settings: dict[str, Any],
        session_factory: sessionmaker[Session] | Callable[[], Session],
        cipher: TokenCipher,
        stats: CallStats,
        redis: Any = None,
        redis_prefix: str = "pxflask:xero",
    ) -> None:
        self.settings = settings
        self._redis_prefix = redis_prefix
        self._sessions = session_factory
        self._cipher = cipher
        self._stats = stats
        self._redis = redis
        self._owner = uuid.uuid4().hex
        self._local = threading.Lock()
        client_id = settings.get("XERO_CLIENT_ID") or ""
        secret = settings.get("XERO_CLIENT_SECRET") or ""
        self.configured = bool(client_id and secret)
        self.fingerprint = oauth.fingerprint(client_id, secret)

    # -- reading -------------------------------------------------------------

    def new_session(self) -> Session:
        """A session on the module database (use it as a context manager)."""
        return self._sessions()

    def _row(self, session: SessionLike) -> XeroConnection | None:
        """The one connection row (None while the credentials are unset)."""
        if not self.configured:
            return None  # never judge a connection while the settings are unset
        return session.scalars(
            select(XeroConnection).order_by(XeroConnection.id)
        ).first()

    def _usable_row(self, session: SessionLike) -> XeroConnection | None:
        """The row if made with the configured credentials; NeedsReconnect if not.

        A changed client id or secret (a typo, a rotated secret not yet in place)
        keeps the row and its tokens: restoring the credentials restores the
        connection, and only a new successful connection (save_new) replaces it.
        """
        row = self._row(session)
        if row is not None and row.client_fingerprint != self.fingerprint:
            raise NeedsReconnect(_stale(row).message)
        return row

    def stale(self) -> StaleConnection | None:
        """The stored connection when it was made with other credentials, else None."""
        with self._sessions() as session:
            row = self._row(session)
            if row is None or row.client_fingerprint == self.fingerprint:
                return None
            return _stale(row)

    def load(self, require_tenant: bool = True) -> StoredConnection:
        """The stored connection, decrypted; NotConnected when there is none."""
        if not self.configured:
            raise NotConnected(
                "Xero is not configured: set XERO_CLIENT_ID and XERO_CLIENT_SECRET"
            )
        with self._sessions() as session:
            row = self._usable_row(session)
            if row is None or not row.token_encrypted:
                raise NotConnected("Xero is not connected; connect it on /connection/")
            snap = self._snapshot(row)
        if require_tenant and not snap.tenant_id:
            raise NotConnected(
                "Xero is connected but no organisation is chosen yet; pick one on "
                "/connection/"
            )
        return snap

    def peek(self) -> StoredConnection | None:
        """The stored connection or None (never raises NotConnected)."""
        try:
            return self.load(require_tenant=False)
        except NotConnected:
            return None

    def _snapshot(self, row: XeroConnection) -> StoredConnection:
        """Decrypt a row into a StoredConnection."""
        token = self._cipher.decrypt_json(row.token_encrypted or "")
        if isinstance(token.get("scope"), str):
            token["scope"] = token["scope"].split()
        return StoredConnection(
            id=row.id,
            grant_type=row.grant_type,
            tenant_id=row.tenant_id,
            tenant_name=row.tenant_name,
            tenant_type=row.tenant_type,
            connection_id=row.connection_id,
            token=token,
            version=row.token_version or 0,
            access_expires_at=row.access_expires_at,
            refresh_issued_at=row.refresh_issued_at,
            connected_at=row.connected_at,
            minute_remaining=row.minute_remaining,
            day_remaining=row.day_remaining,
            quota_seen_at=row.quota_seen_at,
        )

    # -- writing -------------------------------------------------------------

    def _token_columns(self, token: dict[str, Any]) -> dict[str, Any]:
        """Column values for a new token set."""
        values: dict[str, Any] = {
            "token_encrypted": self._cipher.encrypt_json(token),
            "scopes": " ".join(token.get("scope") or []),
            "access_expires_at": _naive_utc(token.get("expires_at")),
        }
        if token.get("refresh_token"):
            values["refresh_issued_at"] = utcnow()
        return values

    def save_new(self, token: dict[str, Any], grant_type: str) -> StoredConnection:
        """Replace any stored connection with a fresh token (tenant not chosen)."""
        with self._sessions() as session:
            for old in session.scalars(select(XeroConnection)).all():
                session.delete(old)
            session.flush()
            row = XeroConnection(
                grant_type=grant_type,
                client_fingerprint=self.fingerprint,
                token_version=1,
                connected_at=utcnow(),
                **self._token_columns(token),
            )
            session.add(row)
            session.commit()
            return self._snapshot(row)

    def set_tenant(
        self,
        tenant_id: str,
        name: str | None,
        tenant_type: str | None,
        connection_id: str | None,
    ) -> None:
        """Record the chosen organisation."""
        with self._sessions() as session:
            row = self._usable_row(session)
            if row is None:
                raise NotConnected("Xero is not connected; connect it on /connection/")
            row.tenant_id, row.tenant_name = tenant_id, name
            row.tenant_type, row.connection_id = tenant_type, connection_id
            session.commit()

    def forget(self) -> None:
        """Delete the stored connection."""
        with self._sessions() as session:
            for row in session.scalars(select(XeroConnection)).all():
                session.delete(row)
            session.commit()

    def record_quota(self, minute: int | None, day: int | None) -> None:
        """Persist the latest quota headers on the row."""
        values: dict[str, Any] = {"quota_seen_at": utcnow()}
        if minute is not None:
            values["minute_remaining"] = minute
        if day is not None:
            values["day_remaining"] = day
        with self._sessions() as session:
            session.execute(update(XeroConnection).values(**values))
            session.commit()

    # -- refreshing ----------------------------------------------------------

    def fresh(
        self, margin_s: float = REFRESH_MARGIN_S, require_tenant: bool = True
    ) -> StoredConnection:
        """The connection with an access token valid for at least margin_s."""
        conn = self.load(require_tenant)
        if conn.expires_within(margin_s):
            conn = self.refresh(conn.version)
        return conn

    def refresh(self, seen_version: int) -> StoredConnection:
        """Refresh once for all callers that saw `seen_version`; others re-read."""
        with self._local:  # threads of this process queue here first
            conn = self.load(require_tenant=False)
            if conn.version != seen_version:
                return conn
            if self._redis is not None:
                return self._refresh_with_redis(seen_version)
            return self._refresh_with_lease(seen_version)

    def _refresh_with_redis(self, seen_version: int) -> StoredConnection:
        """Single-flight refresh under a Redis lock."""
        conn = self.load(require_tenant=False)
        lock = self._redis.lock(
            f"{self._redis_prefix}:refresh:{conn.id}",
            timeout=LEASE_S,
            blocking_timeout=LEASE_S + 15,
        )
        if not lock.acquire():
            raise XeroUnavailable(
                "timed out waiting for another worker's token refresh"
            )
        try:
            conn = self.load(require_tenant=False)
            if conn.version != seen_version:
                return conn
            token = self._request_new_token(conn)
            with self._sessions() as session:
                session.execute(
                    update(XeroConnection)
                    .where(XeroConnection.id == conn.id)
                    .values(
                        token_version=seen_version + 1, **self._token_columns(token)
                    )
                )
                session.commit()
        finally:
            try:
                lock.release()
            except LockError:
                log.warning("the Xero refresh lock expired before release")
        return self.load(require_tenant=False)

    def _refresh_with_lease(self, seen_version: int) -> StoredConnection:
        """Single-flight refresh with a lease claimed by compare-and-swap."""
        deadline = time.monotonic() + LEASE_S * 2
        delay = 0.02
        while True:
            conn = self.load(require_tenant=False)
            if conn.version != seen_version:
                return conn
            if self._claim(conn.id, seen_version):
                break
            if time.monotonic() > deadline:
                raise XeroUnavailable(
                    "timed out waiting for another worker's token refresh"
                )
            time.sleep(delay)
            delay = min(0.2, delay * 1.5)
        try:
            token = self._request_new_token(conn)
        except BaseException:
            self._release(conn.id)
            raise
        with self._sessions() as session:
            session.execute(
                update(XeroConnection)
                .where(
                    XeroConnection.id == conn.id,
                    XeroConnection.refresh_owner == self._owner,
                )
                .values(
                    token_version=seen_version + 1,
                    refresh_owner=None,
                    refresh_until=None,
                    **self._token_columns(token),
                )
            )
            session.commit()
        return self.load(require_tenant=False)

    def _claim(self, conn_id: int, seen_version: int) -> bool:
        """Take the refresh lease if nobody holds a live one and nobody refreshed."""
        now = utcnow()
        with self._sessions() as session:
            result = session.execute(
                update(XeroConnection)
                .where(
                    XeroConnection.id == conn_id,
                    XeroConnection.token_version == seen_version,
                    or_(
                        XeroConnection.refresh_until.is_(None),
                        XeroConnection.refresh_until < now,
                    ),
                )
                .values(
                    refresh_owner=self._owner,
                    refresh_until=now + timedelta(seconds=LEASE_S),
                )
            )
            session.commit()
            return rowcount(result) == 1

    def _release(self, conn_id: int) -> None:
        """Give the lease back after a failed refresh."""
        with self._sessions() as session:
            session.execute(
                update(XeroConnection)
                .where(
                    XeroConnection.id == conn_id,
                    XeroConnection.refresh_owner == self._owner,
                )
                .values(refresh_owner=None, refresh_until=None)
            )
            session.commit()

    def _request_new_token(self, conn: StoredConnection) -> dict[str, Any]:
        """Ask the identity service for a new token set (the only such place)."""
        self._stats.count("refreshes")
        if conn.grant_type == "client_credentials":
            return oauth.client_credentials(self.settings)
        refresh_token = conn.token.get("refresh_token")
        if not refresh_token:
            raise XeroAuthError(
                "the stored Xero token cannot be refreshed (no refresh token; the "
                "offline_access scope is needed); reconnect Xero"
            )
        token = oauth.refresh(self.settings, refresh_token)
        if not token.get("scope"):
            token["scope"] = conn.scopes
        return token


def refresh_expiry(conn: StoredConnection) -> datetime | None:
    """When the refresh token lapses if unused (60 days after it was issued)."""
    if conn.grant_type == "client_credentials" or not conn.token.get("refresh_token"):
        return None
    if conn.refresh_issued_at is None:
        return None
    return conn.refresh_issued_at + REFRESH_TOKEN_LIFETIME
