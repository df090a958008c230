"""A sync run's row (SyncRun): the only code that writes one.

A request opens the row (queued); the engine drives it through RunRow (running,
the current step and the records seen, the counts, the outcome); a run that
never got to the engine is closed here too (the queue refused it, its job is
gone, the job failed before the engine started). Jobs and views only read it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from pxflask.dbtypes import SessionLike
from pxflask.models import SyncLog, SyncRun, utcnow

from .failures import describe

if TYPE_CHECKING:
    from .context import StepReport, SyncResult

log = logging.getLogger(__name__)

ROW_EVERY_S = 1.0
"""At most one progress write of the row a second (plus one per step)."""
INTERRUPTED = "interrupted: its job is no longer queued or running"


def open_run(
    session: SessionLike,
    *,
    scope: str,
    trigger: str,
    dry_run: bool = False,
    full: bool = False,
    since: str | None = None,
    job_id: str | None = None,
) -> SyncRun:
    """Create a queued run (before its job is queued) and commit it."""
    run = SyncRun(
        scope=scope,
        trigger=trigger,
        status="queued",
        dry_run=dry_run,
        full=full,
        since=since or None,
        job_id=job_id,
    )
    session.add(run)
    session.commit()
    return run


def discard(session: SessionLike, run: SyncRun) -> None:
    """Delete a queued run that another live run of its scope serves instead."""
    session.delete(run)
    session.commit()


def close_unstarted(
    session: SessionLike, run: SyncRun, reason: str = INTERRUPTED
) -> None:
    """Close a run whose job never ran or is gone (an earlier error is kept)."""
    run.status = "failed"
    run.error = run.error or reason
    run.finished_at = utcnow()
    session.commit()


def fail(session: SessionLike, run_id: int, exc: BaseException) -> str:
    """Close a run as failed with a one-line cause and a log row; return the cause.

    The traceback goes to the log file, never to the row. A run already closed
    as failed (the engine recorded it) is left as it is.
    """
    session.rollback()
    run = session.get(SyncRun, run_id)
    if run is not None and run.status == "failed" and run.finished_at is not None:
        return run.error or ""
    log.error("sync run %s failed", run_id, exc_info=exc)
    cause = f"{type(exc).__name__}: {describe(exc)}"
    if run is not None:
        run.status = "failed"
        run.error = cause
        run.finished_at = utcnow()
    session.add(
        SyncLog(
            run_id=run_id if run is not None else None,
            entity=(run.current_entity if run is not None else None) or "sync",
            action="run",
            outcome="failed",
            message=cause,
        )
    )
    session.commit()
    return cause


class RunRow:
    """The engine's handle on its run's row: start, progress, counts, outcome."""

    def __init__(self, session: SessionLike, run: SyncRun) -> None:
        self.session = session
        self.run = run
        self.step_totals: dict[str, int] = {}
        self._last_write = 0.0

    @classmethod
    def start(
        cls,
        session: SessionLike,
        run_id: int | None,
        *,
        scope: str,
        full: bool,
        since: str | None,
        dry_run: bool,
    ) -> RunRow | None:
        """Mark the run running (a foreground run gets a new row; a dry one none)."""
        run = session.get(SyncRun, run_id) if run_id is not None else None
        if run is None:
            if dry_run:
                return None
            run = SyncRun(scope=scope, dry_run=False, full=full, since=since)
            session.add(run)
        run.status, run.started_at = "running", utcnow()
        session.commit()
        return cls(session, run)

    @property
    def id(self) -> int:
        """The run's id."""
        return self.run.id

    def step(self, entity: str) -> None:
        """A step begins: it is the run's current entity."""
        self.run.current_entity = entity
        self.session.commit()

    def tick(self, entity: str, done: int, total: int) -> None:
        """Progress inside a step: the records seen so far, written once a second."""
        self.step_totals[entity] = total
        now = time.monotonic()
        if done >= total or now - self._last_write >= ROW_EVERY_S:
            self._last_write = now
            self.run.current_entity = entity
            self.run.total = sum(self.step_totals.values())
            self.session.commit()

    def step_done(self, report: StepReport, api_calls: int) -> None:
        """Add a finished step's counts."""
        run = self.run
        run.done += report.writes + report.unchanged + report.skipped
        run.ok_count += report.writes + report.pulled
        run.failed_count += report.failed
        run.skipped_count += report.skipped + report.blocked
        run.api_calls = api_calls
        self.session.commit()

    def finish(self, result: SyncResult, failed_steps: dict[str, str]) -> None:
        """The run ended: done when no record failed, else partial."""
        run = self.run
        run.status = "done" if result.ok else "partial"
        if failed_steps:
            run.error = "; ".join(f"{k}: {v}" for k, v in failed_steps.items())[:2000]
        run.current_entity, run.finished_at = None, utcnow()
        self.session.commit()

    def fail(self, exc: BaseException, api_calls: int) -> None:
        """The run ended on an error no step could absorb."""
        run_id = self.run.id
        fail(self.session, run_id, exc)
        run = self.session.get(SyncRun, run_id)
        if run is not None:
            run.api_calls = api_calls
            self.session.commit()
