"""Locks of sync scopes: one live run per scope, stale runs closed."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.models import SyncRun, utcnow
from pxflask.queueing import JobQueue
from pxflask.sync.runs import close_unstarted

LOCK_TTL = 3600
ACTIVE = ("queued", "running")
ALIVE_JOB_STATES = ("queued", "scheduled", "started", "deferred")
SCOPE_MAX = 255
GUARD = threading.RLock()
"""Serialises requests and periodic scheduling inside one process."""


def sync_scope(entities: list[str], record_keys: dict[str, list[str]] | None) -> str:
    """The scope text of a run: entity names, plus record keys when targeted."""
    scope = ",".join(entities) if entities else "all"
    if record_keys:
        keys = ";".join(f"{e}:{','.join(k)}" for e, k in sorted(record_keys.items()))
        scope = f"{scope}#{keys}"
    if len(scope) > SCOPE_MAX:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        scope = f"{scope[: SCOPE_MAX - 18]}~{digest}"
    return scope


def lock_name(scope: str) -> str:
    """The lock name of a sync scope (hashed: scopes may be long)."""
    return "sync:" + hashlib.sha256(scope.encode()).hexdigest()[:32]


def job_is_alive(queue: JobQueue, run: SyncRun) -> bool:
    """True while the run's job is queued, scheduled or running."""
    # A run without a job (a foreground `pxflask sync`) counts as alive for
    # LOCK_TTL seconds after it started, so a crashed one blocks nothing for long.
    if not run.job_id:
        started = run.started_at or run.created_at
        return started is not None and started > utcnow() - timedelta(seconds=LOCK_TTL)
    return queue.job_status(run.job_id) in ALIVE_JOB_STATES


def serves(run: SyncRun, follow_up: bool) -> bool:
    """Whether an active run serves a new request (change-driven: only if queued)."""
    return run.status == "queued" or not follow_up


def active_run(
    session: SessionLike, queue: JobQueue, scope: str, follow_up: bool
) -> SyncRun | None:
    """The live run of this scope that serves the request, if any."""
    runs = session.scalars(
        select(SyncRun)
        .where(SyncRun.scope == scope, SyncRun.status.in_(ACTIVE))
        .order_by(SyncRun.id)
    ).all()
    for run in runs:
        if not job_is_alive(queue, run):
            close_unstarted(session, run)
        elif serves(run, follow_up):
            return run
    return None


def claim_lock(
    session: SessionLike, queue: JobQueue, lock: str, run: SyncRun, follow_up: bool
) -> SyncRun | None:
    """RQ mode: SET NX the scope's lock for run; return the live holder's run."""
    if queue.mode != "rq":
        return None
    holder = queue.acquire_lock(lock, str(run.id), LOCK_TTL)
    if holder is None:
        return None
    other = session.get(SyncRun, int(holder)) if holder.isdigit() else None
    if other is not None and other.status in ACTIVE:
        if not job_is_alive(queue, other):
            close_unstarted(session, other)
        elif serves(other, follow_up):
            return other
    queue.force_lock(lock, str(run.id), LOCK_TTL)
    return None


def recover_stale_runs(session: SessionLike, queue: JobQueue) -> int:
    """Close runs left queued or running by a stopped worker; return how many."""
    runs = session.scalars(select(SyncRun).where(SyncRun.status.in_(ACTIVE))).all()
    stale = [run for run in runs if not job_is_alive(queue, run)]
    for run in stale:
        close_unstarted(session, run)
    return len(stale)
