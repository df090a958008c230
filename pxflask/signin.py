"""Sign-in of Perfex admins: password check and throttling (no Flask)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pxflask.models import LoginFailure, utcnow
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.passwords import UnknownHashFormat, verify_password
from pxflask.perfex.reads import find_staff_by_email
from pxflask.perfex.records import Staff

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Invalid email or password, or the account is not an active admin."
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


class SignInRefused(Exception):
    """The credentials did not identify an active Perfex admin."""

    def __init__(self, message: str = GENERIC_FAILURE) -> None:
        super().__init__(message)
        self.message = message


class SignInThrottled(SignInRefused):
    """Too many recent failures for this account or address."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Throttle:
    """The keys a sign-in attempt is counted under."""

    account: str
    address: str

    @classmethod
    def of(cls, email: str, address: str | None) -> Throttle:
        """Build the keys from the typed email and the client address."""
        return cls(f"account:{email.strip().lower()}", f"address:{address or '-'}")


def authenticate(
    session: Session,
    perfex: PerfexDB,
    email: str,
    password: str,
    address: str | None,
    now: datetime | None = None,
) -> Staff:
    """Return the staff row for valid admin credentials; else raise SignInRefused."""
    now = now or utcnow()
    throttle = Throttle.of(email, address)
    _raise_if_locked(session, throttle, now)
    staff = find_staff_by_email(perfex, email.strip())
    if staff is None or not _password_matches(staff, password):
        _record_failure(session, throttle, now)
        raise SignInRefused()
    if not (staff.admin and staff.active):
        _record_failure(session, throttle, now)
        log.info("sign-in refused for staff %s: not an active admin", staff.id)
        raise SignInRefused()
    _clear_failures(session, throttle)
    return staff


def is_admin(staff: Staff | None) -> bool:
    """True for an active administrator."""
    return bool(staff and staff.admin and staff.active)


def _password_matches(staff: Staff, password: str) -> bool:
    """Verify the password; an unknown hash format is logged and refused."""
    try:
        return verify_password(password, staff.password_hash)
    except UnknownHashFormat:
        log.warning(
            "staff %s has a password hash in an unknown format; "
            "reset the password in Perfex to sign in",
            staff.id,
        )
        return False


def _raise_if_locked(session: Session, throttle: Throttle, now: datetime) -> None:
    """Raise SignInThrottled while the account or the address is locked."""
    for key in (throttle.account, throttle.address):
        row = session.get(LoginFailure, key)
        if row and row.locked_until and row.locked_until > now:
            raise SignInThrottled(int((row.locked_until - now).total_seconds()) + 1)


def _record_failure(session: Session, throttle: Throttle, now: datetime) -> None:
    """Count a failure under both keys and lock a key that went over its limit."""
    for key, limit in ((throttle.account, MAX_PER_ACCOUNT),
                       (throttle.address, MAX_PER_ADDRESS)):
        row = session.get(LoginFailure, key)
        if row is None or now - row.first_at > WINDOW:
            if row is None:
                row = LoginFailure(key=key)
                session.add(row)
            row.count, row.first_at, row.locked_until = 0, now, None
        row.count += 1
        if row.count >= limit:
            row.locked_until = now + LOCK_FOR
    session.commit()


def _clear_failures(session: Session, throttle: Throttle) -> None:
    """Forget the account's failures after a successful sign-in."""
    row = session.get(LoginFailure, throttle.account)
    if row is not None:
        session.delete(row)
        session.commit()
