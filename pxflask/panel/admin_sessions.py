"""Panel sessions kept on the server, so sign-out ends them everywhere (no Flask).

The session cookie carries a random token; the table holds its SHA-256, the staff
member, and a fingerprint of their Perfex password hash: a session is valid while
not revoked, younger than its lifetime, and the password has not changed since.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import AdminSession
from pxflask.perfex.records import Staff

SEEN_EVERY = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 100


def start(
    session: SessionLike, staff: Staff, now: datetime, lifetime: timedelta
) -> str:
    """Record a new session for the staff member; return the cookie's token."""
    session.execute(
        sa.delete(AdminSession).where(AdminSession.created_at < now - lifetime)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            id=_digest(token),
            staff_id=staff.id,
            password_fingerprint=_fingerprint(staff),
            created_at=now,
            last_seen_at=now,
        )
    )
    session.commit()
    return token


def is_valid(
    session: SessionLike,
    token: object,
    staff: Staff,
    now: datetime,
    lifetime: timedelta,
) -> bool:
    """True for a live session of this staff member; a changed password revokes it."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    row = session.get(AdminSession, _digest(token))
    if row is None or row.revoked_at is not None or row.staff_id != staff.id:
        return False
    if row.created_at <= now - lifetime:
        return False
    if row.password_fingerprint != _fingerprint(staff):
        row.revoked_at = now
        session.commit()
        return False
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        session.commit()
    return True


def revoke(session: SessionLike, token: object, now: datetime) -> None:
    """End the session of this token (nothing when it is unknown)."""
    if isinstance(token, str) and token and len(token) <= MAX_TOKEN_LENGTH:
        session.execute(
            sa.update(AdminSession)
            .where(AdminSession.id == _digest(token), AdminSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.commit()


def _digest(token: str) -> str:
    """The stored id of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _fingerprint(staff: Staff) -> str:
    """A digest of the staff's stored password hash: it changes with the password."""
    return hashlib.sha256(staff.password_hash.encode()).hexdigest()
