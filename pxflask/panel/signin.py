"""Sign-in of Perfex admins: password, Perfex's two-factor codes, throttling (no Flask).

Each step reserves an attempt on the throttle counters before checking anything
(see throttling.py), and unknown emails, non-admins and odd hashes cost one
bcrypt check like a known admin's wrong password, so timing tells nothing.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from functools import cache

import sqlalchemy as sa

from pxflask.dbtypes import SessionLike, table_of
from pxflask.models import TotpStep, utcnow
from pxflask.panel import throttling, totp
from pxflask.panel.throttling import Throttle
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.passwords import UnknownHashFormat, hash_password, verify_password
from pxflask.perfex.reads import find_staff_by_email, get_staff
from pxflask.perfex.records import (
    TWO_FACTOR_AUTHENTICATOR,
    TWO_FACTOR_EMAIL,
    TWO_FACTOR_OFF,
    Staff,
)

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Invalid email or password, or the account is not an active admin."
WRONG_CODE = "That code is not valid. Enter the current code of your authenticator app."
FROM_PERFEX = (
    "Your Perfex account signs in with a code sent by e-mail, which pxflask cannot "
    "send: open pxflask from Perfex's admin menu instead."
)
UNUSABLE_SECOND_FACTOR = (
    "Your Perfex account's two-factor sign-in cannot be checked here: "
    "open pxflask from Perfex's admin menu instead."
)


class SignInRefused(Exception):
    """The credentials did not identify an active Perfex admin."""

    def __init__(self, message: str = GENERIC_FAILURE) -> None:
        super().__init__(message)
        self.message = message


class SignInThrottled(SignInRefused):
    """Too many recent failures for this account or address."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"Too many failed sign-ins. Try again in {minutes} minute(s).")
        self.retry_after = retry_after


class SecondFactorNeeded(Exception):
    """The password was right; the authenticator code is still to be asked for."""

    def __init__(self, staff: Staff) -> None:
        super().__init__(staff.id)
        self.staff = staff


def authenticate(
    session: SessionLike,
    perfex: PerfexDB,
    email: str,
    password: str,
    address: str | None,
    now: datetime | None = None,
) -> Staff:
    """Return the admin these credentials sign in.

    Raises SecondFactorNeeded when an authenticator code must follow, and
    SignInRefused (or SignInThrottled) otherwise.
    """
    now = now or utcnow()
    staff = find_staff_by_email(perfex, email.strip())
    throttle = Throttle.of(staff.id if staff else None, email, address)
    engine = _engine(session)
    _reserve(engine, throttle, now)
    matches = _password_matches(staff, password)
    if staff is None or not matches or not is_admin(staff):
        throttling.fail(engine, throttle, now)
        if staff is not None and matches:
            log.info("sign-in refused for staff %s: not an active admin", staff.id)
        raise SignInRefused()
    if staff.two_factor == TWO_FACTOR_OFF:
        throttling.succeed(engine, throttle, now)
        return staff
    throttling.release(engine, throttle)  # right password: not a failure
    if staff.two_factor == TWO_FACTOR_AUTHENTICATOR and _authenticator_key(staff):
        raise SecondFactorNeeded(staff)
    if staff.two_factor == TWO_FACTOR_EMAIL:
        raise SignInRefused(FROM_PERFEX)
    raise SignInRefused(UNUSABLE_SECOND_FACTOR)


def verify_second_factor(
    session: SessionLike,
    perfex: PerfexDB,
    staff_id: int,
    code: str,
    address: str | None,
    now: datetime | None = None,
) -> Staff:
    """Return the admin whose authenticator code this is; else raise SignInRefused.

    The code's time step is claimed, so the same code never signs in twice.
    """
    now = now or utcnow()
    throttle = Throttle.of(staff_id, "", address)
    engine = _engine(session)
    _reserve(engine, throttle, now)
    staff = get_staff(perfex, staff_id)
    key = _authenticator_key(staff)
    step = None
    if (
        staff is not None
        and key
        and is_admin(staff)
        and staff.two_factor == TWO_FACTOR_AUTHENTICATOR
    ):
        step = totp.matching_step(key, code, now.replace(tzinfo=UTC).timestamp())
    if staff is None or step is None or not _claim_step(engine, staff_id, step, now):
        throttling.fail(engine, throttle, now)
        raise SignInRefused(WRONG_CODE)
    throttling.succeed(engine, throttle, now)
    return staff


def is_admin(staff: Staff | None) -> bool:
    """True for an active administrator."""
    return bool(staff and staff.admin and staff.active)


def _engine(session: SessionLike) -> sa.Engine:
    """The engine behind the module's session (counters use their own transactions)."""
    bind = session.get_bind()
    return bind if isinstance(bind, sa.Engine) else bind.engine


def _reserve(engine: sa.Engine, throttle: Throttle, now: datetime) -> None:
    """Count the attempt before checking it; raise SignInThrottled when locked."""
    wait = throttling.reserve(engine, throttle, now)
    if wait is not None:
        raise SignInThrottled(wait)


@cache
def _stand_in_hash() -> str:
    """A bcrypt hash of Perfex's cost for a random password, checked in vain."""
    return hash_password(secrets.token_urlsafe(24))


def _password_matches(staff: Staff | None, password: str) -> bool:
    """Verify the password; no staff or an unknown hash format costs the same."""
    if staff is None:
        verify_password(password, _stand_in_hash())
        return False
    try:
        return verify_password(password, staff.password_hash)
    except UnknownHashFormat:
        log.warning(
            "staff %s has a password hash in an unknown format; "
            "reset the password in Perfex to sign in",
            staff.id,
        )
        verify_password(password, _stand_in_hash())
        return False


def _authenticator_key(staff: Staff | None) -> bytes | None:
    """The staff's Google Authenticator key, or None when unset or unreadable."""
    if staff is None or not staff.authenticator_secret.strip():
        return None
    try:
        return totp.decode_secret(staff.authenticator_secret)
    except totp.BadSecret:
        log.warning("staff %s has an unreadable google_auth_secret", staff.id)
        return None


def _claim_step(engine: sa.Engine, staff_id: int, step: int, now: datetime) -> bool:
    """Record the step as used unless it (or a later one) already was."""
    steps = table_of(TotpStep)
    with engine.begin() as conn:
        throttling.insert_ignore(
            conn, steps, {"staff_id": staff_id, "last_step": 0, "used_at": now}
        )
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(steps)
            .where(steps.c.staff_id == staff_id, steps.c.last_step < step)
            .values(last_step=step, used_at=now)
        ).rowcount
    return claimed == 1
