"""Sign-in from the Perfex module: verify its signed single-use tokens (no Flask).

A token is base64url(JSON payload) "." base64url(HMAC-SHA256 of the first part
with the shared secret); the payload names the staff member, an expiry (Unix
seconds) and a random nonce. Perfex's own sign-in (and its two-factor step) has
already checked the person; the panel checks the signature, the expiry, that
the nonce was never used, and that the staff row is an active admin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pxflask.dbtypes import SessionLike
from pxflask.models import SsoNonce, utcnow
from pxflask.panel import throttling
from pxflask.panel.signin import SignInThrottled, _engine, is_admin
from pxflask.panel.throttling import Throttle
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.reads import get_staff
from pxflask.perfex.records import Staff

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 600
MAX_LIFETIME = 300
"""Seconds: a token whose expiry lies further ahead is refused (the module uses 60)."""
NONCE = re.compile(r"[0-9a-f]{16,64}")
MAX_STAFF_ID = 2**31 - 1

AGAIN = "Open the panel again from Perfex's Xero menu."
INVALID = f"This sign-in link is not valid. {AGAIN}"
EXPIRED = f"This sign-in link has expired. {AGAIN}"
USED = f"This sign-in link was already used. {AGAIN}"
NOT_ADMIN = "Your Perfex account is not an active admin, so it cannot open the panel."


class SsoRefused(Exception):
    """The token does not sign anyone in; the message says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    staff_id: int
    expires: int
    nonce: str


def _b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    """Decode base64url with or without padding; raise ValueError on bad input."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def _mac(body: str, secret: str) -> bytes:
    """HMAC-SHA256 of the token's first part with the shared secret."""
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()


def sign_token(staff_id: int, secret: str, now: int, ttl: int = 60) -> str:
    """A token as the module makes it (for tests and tools)."""
    payload = {"staff": staff_id, "exp": now + ttl, "nonce": secrets.token_hex(16)}
    body = _b64url(json.dumps(payload).encode())
    return f"{body}.{_b64url(_mac(body, secret))}"


def verify_token(token: str, secret: str, now: int) -> Claims:
    """The claims of a well-signed, unexpired token; else raise SsoRefused."""
    if not secret or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise SsoRefused(INVALID)
    body, _, signature = token.partition(".")
    try:
        given = _unb64url(signature)
        payload = json.loads(_unb64url(body))
    except ValueError as exc:
        raise SsoRefused(INVALID) from exc
    if not hmac.compare_digest(given, _mac(body, secret)):
        raise SsoRefused(INVALID)
    claims = _claims(payload)
    if claims.expires <= now:
        raise SsoRefused(EXPIRED)
    if claims.expires > now + MAX_LIFETIME:
        raise SsoRefused(INVALID)
    return claims


def _claims(payload: object) -> Claims:
    """Read the payload's fields; raise SsoRefused when one is missing or odd."""
    if not isinstance(payload, dict):
        raise SsoRefused(INVALID)
    staff, expires, nonce = (payload.get(key) for key in ("staff", "exp", "nonce"))
    if not (_whole(staff) and _whole(expires) and isinstance(nonce, str)):
        raise SsoRefused(INVALID)
    if not 0 < staff <= MAX_STAFF_ID or not NONCE.fullmatch(nonce):
        raise SsoRefused(INVALID)
    return Claims(staff, expires, nonce)


def _whole(value: object) -> TypeGuard[int]:
    """True for a JSON whole number (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def claim_nonce(session: SessionLike, claims: Claims, now: datetime) -> bool:
    """Record the nonce as used; False when it already was (a replay)."""
    session.execute(sa.delete(SsoNonce).where(SsoNonce.expires_at < now))
    session.commit()
    expires = datetime.fromtimestamp(claims.expires, UTC).replace(tzinfo=None)
    session.add(SsoNonce(nonce=claims.nonce, expires_at=expires + timedelta(seconds=1)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def sign_in(
    session: SessionLike,
    perfex: PerfexDB,
    secret: str,
    token: str,
    address: str | None,
    now: datetime | None = None,
) -> Staff:
    """Return the admin a token signs in; else raise SsoRefused (or SignInThrottled).

    Each attempt is counted on the throttle like a password sign-in.
    """
    now = now or utcnow()
    unix = int(now.replace(tzinfo=UTC).timestamp())
    try:
        claims: Claims | None = verify_token(token, secret, unix)
        refusal = None
    except SsoRefused as exc:
        claims, refusal = None, exc
    throttle = Throttle.of(claims.staff_id if claims else None, "", address)
    engine = _engine(session)
    wait = throttling.reserve(engine, throttle, now)
    if wait is not None:
        raise SignInThrottled(wait)
    staff = get_staff(perfex, claims.staff_id) if claims else None
    if claims is not None and refusal is None:
        if not is_admin(staff):
            refusal = SsoRefused(NOT_ADMIN)
            log.info("sso refused for staff %s: not an active admin", claims.staff_id)
        elif not claim_nonce(session, claims, now):
            refusal = SsoRefused(USED)
    if refusal is not None or staff is None:
        throttling.fail(engine, throttle, now)
        raise refusal or SsoRefused(INVALID)
    throttling.succeed(engine, throttle, now)
    return staff
