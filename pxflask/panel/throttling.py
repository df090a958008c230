"""Sign-in throttling: attempt counters per account and per address (no Flask).

Every attempt is counted before it is checked (`reserve`), in one UPDATE that
only succeeds below the limit, so parallel attempts cannot all slip through:
the database serialises the increments on SQLite, MariaDB and PostgreSQL.
A failure keeps its count and locks a key that reached its limit; a success
clears the account's keys; an attempt that was neither (`release`) gives its count back.
Counters whose window and lock have passed are deleted by the next attempt, so
addresses tried once do not pile up.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pxflask.dbtypes import table_of
from pxflask.models import LoginFailure

WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20
PRUNE_BATCH = 200
"""Passed counters one attempt deletes at most."""

_counters = table_of(LoginFailure)


def normalise_email(email: str) -> str:
    """The address as Perfex's collation sees it: no accents, casefolded, trimmed."""
    decomposed = unicodedata.normalize("NFKD", email or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().strip()


@dataclass(frozen=True)
class Throttle:
    """The keys one sign-in attempt is counted under, with their limits."""

    accounts: tuple[str, ...]
    address: str

    @classmethod
    def of(cls, staff_id: int | None, email: str, address: str | None) -> Throttle:
        """Key on the staff row found and on the normalised address typed."""
        accounts = []
        if staff_id is not None:
            accounts.append(f"account:staff:{staff_id}")
        if normalise_email(email):
            digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()
            accounts.append(f"account:email:{digest[:40]}")
        return cls(tuple(sorted(accounts)), f"address:{(address or '-')[:100]}")

    @property
    def limits(self) -> tuple[tuple[str, int], ...]:
        """Each key with its limit, in the one order every transaction locks them."""
        counted = [(key, MAX_PER_ACCOUNT) for key in self.accounts]
        return (*counted, (self.address, MAX_PER_ADDRESS))


class _Full(Exception):
    """A key is at its limit: roll the reservation back."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


def reserve(engine: sa.Engine, throttle: Throttle, now: datetime) -> int | None:
    """Count one attempt under both keys; None, or the seconds until unlocked."""
    try:
        with engine.begin() as conn:
            _prune(conn, now)
    except sa.exc.OperationalError:
        pass  # best effort: a lock timeout or deadlock leaves them to the next attempt
    with engine.begin() as conn:  # its own transaction: no lock held into the next
        for key, _ in throttle.limits:
            insert_ignore(conn, _counters, {"key": key, "count": 0, "first_at": now})
    c = _counters.c
    try:
        with engine.begin() as conn:
            for key, limit in throttle.limits:
                _expire(conn, key, now)
                taken = conn.execute(
                    sa.update(_counters)
                    .where(c.key == key, c.count < limit)
                    # first_at before count: MySQL reads values assigned earlier
                    .ordered_values(
                        (c.first_at, sa.case((c.count == 0, now), else_=c.first_at)),
                        (c.count, c.count + 1),
                    )
                ).rowcount
                if taken != 1:
                    raise _Full(_seconds_left(conn, key, now))
    except _Full as full:
        return full.wait
    return None


def fail(engine: sa.Engine, throttle: Throttle, now: datetime) -> None:
    """Keep the reserved count and lock each key that has reached its limit."""
    with engine.begin() as conn:
        for key, limit in throttle.limits:
            conn.execute(
                sa.update(_counters)
                .where(
                    _counters.c.key == key,
                    _counters.c.count >= limit,
                    _counters.c.locked_until.is_(None),
                )
                .values(locked_until=now + LOCK_FOR)
            )


def succeed(engine: sa.Engine, throttle: Throttle, now: datetime) -> None:
    """Forget the account's failures and give the address its attempt back."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(_counters)
            .where(_counters.c.key.in_(throttle.accounts))
            .values(count=0, first_at=now, locked_until=None)
        )
        _give_back(conn, throttle.address)


def release(engine: sa.Engine, throttle: Throttle) -> None:
    """Give a reserved attempt back under both keys (it was not a failure)."""
    with engine.begin() as conn:
        for key, _ in throttle.limits:
            _give_back(conn, key)


def insert_ignore(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """Insert a row unless its primary key exists, without a uniqueness error."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        conn.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())
    elif dialect == "postgresql":
        conn.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    elif dialect in ("mysql", "mariadb"):
        conn.execute(sa.insert(table).values(values).prefix_with("IGNORE"))
    else:
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(table).values(values))
        except sa.exc.IntegrityError:
            pass


def _expire(conn: sa.Connection, key: str, now: datetime) -> None:
    """Start a new window when the lock has ended or the window has passed."""
    c = _counters.c
    conn.execute(
        sa.update(_counters)
        .where(
            c.key == key,
            sa.or_(
                c.locked_until <= now,
                sa.and_(c.locked_until.is_(None), c.first_at <= now - WINDOW),
            ),
        )
        .values(count=0, first_at=now, locked_until=None)
    )


def _prune(conn: sa.Connection, now: datetime) -> None:
    """Delete counters whose window and lock have passed (they count nothing now).

    The passed keys are read first and deleted by primary key in ascending order,
    the order ``reserve`` locks its keys in, so a prune and parallel attempts wait
    for each other instead of deadlocking (a range DELETE locks the whole table).
    """
    c = _counters.c
    passed = sa.or_(
        c.locked_until <= now,
        sa.and_(c.locked_until.is_(None), c.first_at <= now - WINDOW),
    )
    keys = conn.scalars(
        sa.select(c.key).where(passed).order_by(c.key).limit(PRUNE_BATCH)
    ).all()
    for key in keys:
        conn.execute(sa.delete(_counters).where(c.key == key, passed))


def _give_back(conn: sa.Connection, key: str) -> None:
    """Take one attempt off a key's count."""
    conn.execute(
        sa.update(_counters)
        .where(_counters.c.key == key, _counters.c.count > 0)
        .values(count=_counters.c.count - 1)
    )


def _seconds_left(conn: sa.Connection, key: str, now: datetime) -> int:
    """Seconds until a full key frees up: its lock, else its window (at least 1)."""
    row = conn.execute(
        sa.select(_counters.c.locked_until, _counters.c.first_at).where(
            _counters.c.key == key
        )
    ).first()
    if row is None:
        return 1
    until = row.locked_until or row.first_at + WINDOW
    return max(1, int((until - now).total_seconds()) + 1)
