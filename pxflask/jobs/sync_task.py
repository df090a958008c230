"""The sync task: run the engine for one queued SyncRun and publish its progress."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from pxflask.extensions import db
from pxflask.models import SyncLog, SyncRun, utcnow
from pxflask.queueing import (
    SYNC_QUEUE,
    JobQueue,
    current_job_id,
    get_queue,
    publish_progress,
)
from pxflask.settings import enabled_entities, load_settings
from pxflask.sync.failures import describe as describe_error

from .locks import LOCK_TTL, lock_name
from .registry import task

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0


class ProgressMirror:
    """The engine's progress(entity, done, total) to the job meta and the run row."""

    # The engine owns the row's cumulative counts (done, ok, failed, skipped); the
    # mirror adds the current entity, the records seen so far (total) and, in the
    # job's meta, the position inside the current step for the progress bar.

    def __init__(
        self,
        session: Session,
        run_id: int,
        queue: JobQueue,
        lock: str,
        steps: list[str],
    ) -> None:
        self.session = session
        self.run_id = run_id
        self.queue = queue
        self.lock = lock
        self.steps = steps
        self.step_totals: dict[str, int] = {}
        self.meta: dict[str, Any] = {"steps": len(steps), "percent": 0}
        self._last_write = 0.0
        self._last_entity: str | None = None

    def __call__(self, entity: str, done: int, total: int) -> None:
        """Take one progress report from the engine; flush when due."""
        self.step_totals[entity] = total
        index = self.steps.index(entity) if entity in self.steps else 0
        fraction = done / total if total else 1.0
        percent = 100 * (index + min(fraction, 1.0)) / max(len(self.steps), 1)
        self.meta.update(
            entity=entity,
            entity_done=done,
            entity_total=total,
            step=index + 1,
            percent=round(percent, 1),
        )
        now = time.monotonic()
        if (
            entity != self._last_entity
            or done >= total
            or now - self._last_write >= PROGRESS_EVERY_S
        ):
            self._last_entity = entity
            self.flush()

    def flush(self) -> None:
        """Write the meta to the job and the current entity and total to the row."""
        self._last_write = time.monotonic()
        publish_progress(run_id=self.run_id, **self.meta)
        run = self.session.get(SyncRun, self.run_id)
        if run is None:
            return
        if self.meta.get("entity"):
            run.current_entity = self.meta["entity"]
        run.total = sum(self.step_totals.values())
        self.session.commit()
        self.queue.refresh_lock(self.lock, str(self.run_id), LOCK_TTL)


def _engine() -> Callable[..., Any]:
    """The sync engine's run_sync."""
    from pxflask.sync.engine import run_sync

    return run_sync


def _planned_steps(entities: list[str]) -> list[str]:
    """The built entities a run will step through, in dependency order."""
    from pxflask.sync.registry import REGISTRY

    return [unit.name for unit in REGISTRY.ordered(entities) if unit.built]


def _dry_run_counts(run: SyncRun, result: Any) -> None:
    """A dry run leaves the row to the job: copy the planned counts onto it."""
    reports = list(getattr(result, "reports", []))
    run.ok_count = sum(r.created + r.updated + r.pulled for r in reports)
    run.failed_count = sum(r.failed for r in reports)
    run.skipped_count = sum(r.skipped + r.blocked for r in reports)
    run.done = sum(r.created + r.updated + r.unchanged + r.skipped for r in reports)
    run.status = "partial" if run.failed_count else "done"


def _keep_preview(app: Flask, run_id: int, result: Any) -> None:
    """Keep a dry run's record list for the panel (pxflask/sync/preview.py)."""
    from pxflask.runtime import perfex_db
    from pxflask.sync import preview

    numbers = preview.perfex_numbers(perfex_db(app), result.planned)
    preview.save(app.instance_path, run_id, result, numbers)


@task(queue=SYNC_QUEUE)
def sync_job(
    run_id: int,
    entities: list[str],
    full: bool = False,
    since: str | None = None,
    dry_run: bool = False,
    record_keys: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Run one sync through the engine and record its outcome on its SyncRun row."""
    from pxflask.runtime import perfex_db, xero_gateway

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = get_queue(app)
    session = db.session
    run = session.get(SyncRun, run_id)
    if run is None:
        raise LookupError(f"sync run {run_id} does not exist")
    lock = lock_name(run.scope)
    run.status = "running"
    run.started_at = utcnow()
    run.job_id = current_job_id() or run.job_id
    session.commit()
    try:
        settings = load_settings(session)
        chosen = entities or enabled_entities(settings)
        mirror = ProgressMirror(session, run_id, queue, lock, _planned_steps(chosen))
        mirror.flush()
        run_sync = _engine()
        kwargs: dict[str, Any] = {
            "entities": chosen,
            "full": full,
            "dry_run": dry_run,
            "since": date.fromisoformat(since) if since else None,
            "progress": mirror,
            "run_id": run_id,
        }
        if record_keys and "record_keys" in inspect.signature(run_sync).parameters:
            kwargs["record_keys"] = record_keys
        result = run_sync(
            session, perfex_db(app), xero_gateway(app), settings, **kwargs
        )
        run = session.get(SyncRun, run_id)
        if dry_run:
            _keep_preview(app, run_id, result)
        if dry_run or run.status == "running":
            _dry_run_counts(run, result)
            run.current_entity = None
            run.finished_at = utcnow()
        session.commit()
        publish_progress(status=run.status, percent=100)
        return {"run_id": run_id, "status": run.status}
    except Exception as exc:
        record_run_failure(session, run_id, exc)
        raise
    finally:
        queue.release_lock(lock, str(run_id))


def record_run_failure(session: Session, run_id: int, exc: BaseException) -> None:
    """Mark the run failed with a one-line cause (the traceback goes to the log)."""
    session.rollback()
    log.error("sync run %s failed", run_id, exc_info=exc)
    run = session.get(SyncRun, run_id)
    cause = f"{type(exc).__name__}: {describe_error(exc)}"
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
    publish_progress(status="failed", error=cause)
