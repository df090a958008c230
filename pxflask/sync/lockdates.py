"""Xero's lock dates: records dated in a locked period are skipped, not failed.

Xero refuses every write dated on or before the organisation's lock date (the
later of `PeriodLockDate` and `EndOfYearLockDate`). A run reads it once, with one
GET /Organisation, and only when a step has dated documents to send; records in a
locked period are skipped before any write, with the lock date in the reason.
When a later run reads an earlier lock date than the one a skip recorded, the
record is planned again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pxflask.dbtypes import SessionLike
from pxflask.sync import lock_refusal
from pxflask.sync.context import PlannedAction, StepContext
from pxflask.sync.links import SKIPPED, LinkStore, LogEntry, Outcome, store_cursor
from pxflask.sync.lock_refusal import ADVICE
from pxflask.sync.organisation import organisation
from pxflask.xero.connection import LOCK_SEEN

if TYPE_CHECKING:
    from pxflask.sync.steps.base import Pending, Pusher

explain = lock_refusal.explain
"""Xero's refusal, made clear when it is about a lock date (steps call it here)."""
SHARED = "xero.lock_date"
"""ctx.shared key: the run's effective lock date (None: the books are open)."""
FIELDS = ("PeriodLockDate", "EndOfYearLockDate")
PHRASE = "on or before Xero's period lock date"
RECORDED = re.compile(re.escape(PHRASE) + r" (\d{4}-\d{2}-\d{2})")
"""Words of Xero's own refusal ("...cannot be before the period lock date...")."""


def naive_utc(stamp: datetime) -> datetime:
    """A naive UTC datetime."""
    if stamp.tzinfo is None:
        return stamp
    return stamp.astimezone(UTC).replace(tzinfo=None)


def xero_day(value: Any) -> date | None:
    """A Xero date (date, datetime or ISO text) as a date (UTC for a datetime)."""
    if isinstance(value, datetime):
        return naive_utc(value).date()
    return as_date(value)


def as_date(value: Any) -> date | None:
    """A date from what the gateway or a payload holds (date, datetime, ISO text)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def effective_lock(organisation: dict[str, Any]) -> date | None:
    """The later of the organisation's two lock dates, or None."""
    found = [d for d in (as_date(organisation.get(f)) for f in FIELDS) if d]
    return max(found) if found else None


def lock_date(ctx: StepContext) -> date | None:
    """The run's lock date: one GET /Organisation (shared) on first need."""
    if SHARED not in ctx.shared:
        lock = effective_lock(organisation(ctx))
        ctx.shared[SHARED] = lock
        if not ctx.dry_run:
            remember_lock(ctx.session, lock)
    return ctx.shared[SHARED]


def remember_lock(session: SessionLike, lock: date | None) -> None:
    """Note the lock date a run read (cursor LOCK_SEEN, '' for none) for the panel."""
    # Committed at once: an open write would hold SQLite's write lock across the
    # Xero calls that follow, and the gateway's own quota write would then fail
    # with "database is locked" (seen under load in the sync tests).
    store_cursor(session, LOCK_SEEN, lock.isoformat() if lock else "", commit=True)


def reason(when: date, lock: date) -> str:
    """Why a record dated `when` is not sent, and what finance can do."""
    return f"dated {when.isoformat()}, {PHRASE} {lock.isoformat()}: {ADVICE}"


def recorded_lock(message: str | None) -> date | None:
    """The lock date a skip recorded in its reason, if it was a lock-date skip."""
    found = RECORDED.search(message or "")
    return date.fromisoformat(found.group(1)) if found else None


def released(ctx: StepContext, store: LinkStore) -> frozenset[str]:
    """Keys skipped for a lock date later than Xero's lock date now (re-plan them)."""
    waiting = {
        key: when
        for key, link in store.links.items()
        if link.state == SKIPPED and (when := recorded_lock(link.last_error))
    }
    if not waiting:
        return frozenset()
    lock = lock_date(ctx)
    return frozenset(k for k, when in waiting.items() if lock is None or lock < when)


def locked(dates: Iterable[date | None], lock: date | None) -> date | None:
    """The earliest of the dates on or before the lock date (None: all open)."""
    inside = [d for d in dates if d is not None and lock is not None and d <= lock]
    return min(inside) if inside else None


def hold(
    ctx: StepContext,
    pusher: Pusher,
    dates_of: Callable[[Pending], Iterable[date | None]] | None = None,
) -> None:
    """Skip planned creates and updates dated in a locked period, before writing.

    `dates_of` gives the dates Xero checks for a record (default: the payload's
    Date; an update may add the date the document has in Xero now).
    """
    if not pusher.creates and not pusher.updates:
        return
    lock = lock_date(ctx)
    if lock is None:
        return
    dates_of = dates_of or (lambda p: [as_date(p.payload.get("Date"))])
    outcomes: list[Outcome] = []
    for queue in (pusher.creates, pusher.updates):
        for p in list(queue):
            when = locked(dates_of(p), lock)
            if when is None:
                continue
            queue.remove(p)
            why = reason(when, lock)
            link = pusher.store.get(p.key)
            if (
                link is not None
                and link.state == SKIPPED
                and link.payload_hash == p.hash
                and link.last_error == why
            ):
                pusher.report.unchanged += 1
                continue
            skip(pusher, p.key, why)
            outcomes.append(
                Outcome(
                    p.key,
                    SKIPPED,
                    payload_hash=p.hash,
                    error=why,
                    source=pusher.sources.get(p.key),
                )
            )
    if outcomes and not ctx.dry_run:
        pusher.store.record(outcomes)
        pusher.flush_logs()


def skip(pusher: Pusher, key: str, why: str) -> None:
    """Count, plan and log one record skipped for the lock date."""
    pusher.report.skipped += 1
    pusher.report.planned.append(PlannedAction(pusher.entity, key, "skip", None, why))
    pusher.logs.append(LogEntry(key, "skip", SKIPPED, why))


def hold_change(pusher: Pusher, key: str, why: str) -> Outcome | None:
    """A void or delete in a locked period: its skip outcome (None: told before)."""
    link = pusher.store.get(key)
    if link is not None and link.state == SKIPPED and link.last_error == why:
        pusher.report.unchanged += 1
        return None
    skip(pusher, key, why)
    return Outcome(key, SKIPPED, error=why)
