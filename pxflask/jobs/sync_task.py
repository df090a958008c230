"""The sync task: run the engine for one queued SyncRun and publish its progress.

The engine writes the run's row (pxflask/sync/runs.py); this task hands it a
progress callback that only feeds the job's meta (the panel's progress bar) and
keeps the scope's lock alive.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from flask import Flask, current_app

from pxflask.extensions import db
from pxflask.models import SyncRun
from pxflask.queueing import (
    SYNC_QUEUE,
    JobQueue,
    QueueUnavailable,
    get_queue,
    publish_progress,
)
from pxflask.sync import runs
from pxflask.sync.settings import enabled_entities, load_settings

from .locks import LOCK_TTL, lock_name
from .online_links import online_links_job
from .registry import submit, task

PROGRESS_EVERY_S = 1.0


class JobProgress:
    """The engine's progress(entity, done, total) to the job's meta and the lock."""

    def __init__(self, queue: JobQueue, run_id: int, lock: str, steps: list[str]):
        self.queue = queue
        self.run_id = run_id
        self.lock = lock
        self.steps = steps
        self.meta: dict[str, Any] = {"steps": len(steps), "percent": 0}
        self._last_publish = 0.0
        self._last_entity: str | None = None

    def __call__(self, entity: str, done: int, total: int) -> None:
        """Take one progress report from the engine; publish when due."""
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
            or now - self._last_publish >= PROGRESS_EVERY_S
        ):
            self._last_entity = entity
            self.publish()

    def publish(self) -> None:
        """Merge the meta into the job's and extend the scope's lock."""
        self._last_publish = time.monotonic()
        publish_progress(run_id=self.run_id, **self.meta)
        self.queue.refresh_lock(self.lock, str(self.run_id), LOCK_TTL)


def _planned_steps(entities: list[str]) -> list[str]:
    """The built entities a run will step through, in dependency order."""
    from pxflask.sync.registry import REGISTRY

    return [unit.name for unit in REGISTRY.ordered(entities)]


def _keep_preview(app: Flask, run_id: int, result: Any) -> None:
    """Keep a dry run's record list for the panel (pxflask/sync/preview.py)."""
    from pxflask.sync import preview
    from pxflask.web.runtime import perfex_db

    numbers = preview.perfex_numbers(perfex_db(app), result.planned)
    preview.save(app.instance_path, run_id, result, numbers)


def _online_links_after(queue: JobQueue, session: Any) -> None:
    """Queue the online-links job when a URL is wanted (no Xero call here)."""
    from pxflask.sync.entities.invoices.online_urls import pending

    if pending(session):
        try:
            submit(queue, online_links_job)
        except QueueUnavailable:  # the sync is done; the next one queues it again
            return


@task(queue=SYNC_QUEUE)
def sync_job(
    run_id: int,
    entities: list[str],
    full: bool = False,
    since: str | None = None,
    dry_run: bool = False,
    record_keys: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Run one sync through the engine, which records its outcome on the run."""
    from pxflask.sync.engine import run_sync
    from pxflask.web.runtime import perfex_db, xero_gateway

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = get_queue(app)
    session = db.session
    run = session.get(SyncRun, run_id)
    if run is None:
        raise LookupError(f"sync run {run_id} does not exist")
    lock = lock_name(run.scope)
    try:
        settings = load_settings(session)
        chosen = entities or enabled_entities(settings)
        progress = JobProgress(queue, run_id, lock, _planned_steps(chosen))
        progress.publish()
        result = run_sync(
            session,
            perfex_db(app),
            xero_gateway(app),
            settings,
            entities=chosen,
            full=full,
            dry_run=dry_run,
            since=date.fromisoformat(since) if since else None,
            progress=progress,
            run_id=run_id,
            record_keys=record_keys,
        )
        if dry_run:
            _keep_preview(app, run_id, result)
        elif "invoices" in chosen:
            _online_links_after(queue, session)
    except Exception as exc:
        cause = runs.fail(session, run_id, exc)
        publish_progress(status="failed", error=cause)
        raise
    finally:
        queue.release_lock(lock, str(run_id))
    status = session.get(SyncRun, run_id).status  # type: ignore[union-attr]
    publish_progress(status=status, percent=100)
    return {"run_id": run_id, "status": status}
