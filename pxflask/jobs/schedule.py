"""The schedule as data: periodic jobs, when each is due, and their scheduling.

Each Periodic names a task and a due-time function of the settings; the queue
holds one scheduled occurrence of each, replaced when its settings change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

from pxflask.extensions import db
from pxflask.models import utcnow
from pxflask.queueing import JobQueue, current_job_id, get_queue
from pxflask.sync.settings import load_settings, next_run, schedule_problem

from .locks import GUARD
from .registry import queue_of, task
from .tasks import scheduled_sync, watch_job, watch_seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A job that repeats while a setting asks for it (declared as data)."""

    name: str
    run: Callable[[], Any]
    due: Callable[[dict[str, str], datetime], datetime | None]
    signature: Callable[[dict[str, str]], str]


def _scheduled_sync_due(settings: dict[str, str], now: datetime) -> datetime | None:
    """The next scheduled sync: N minutes from now, or the next cron time (UTC).

    A stored schedule that cannot run (older versions saved any five fields, or the
    table was edited) pauses the scheduled sync with a warning instead of failing.
    """
    if settings.get("sync_mode") != "scheduled":
        return None
    problem = schedule_problem(settings)
    if problem:
        log.warning("%s", problem)
        return None
    return next_run(settings.get("schedule", ""), now)


def _watch_due(settings: dict[str, str], now: datetime) -> datetime | None:
    """The next watcher tick, watch_interval seconds from now, in realtime mode."""
    if settings.get("sync_mode") != "realtime":
        return None
    return now + timedelta(seconds=watch_seconds(settings))


PERIODIC: tuple[Periodic, ...] = (
    Periodic(
        "scheduled-sync",
        scheduled_sync,
        _scheduled_sync_due,
        lambda s: f"{s.get('sync_mode')}|{s.get('schedule')}",
    ),
    Periodic(
        "watch",
        watch_job,
        _watch_due,
        lambda s: f"{s.get('sync_mode')}|{s.get('watch_interval')}",
    ),
)


def _periodic(name: str) -> Periodic:
    """A periodic job by name."""
    for periodic in PERIODIC:
        if periodic.name == name:
            return periodic
    raise LookupError(f"unknown periodic job {name!r}")


def _schedule_one(
    queue: JobQueue, periodic: Periodic, settings: dict[str, str], *, replace: bool
) -> datetime | None:
    """Make sure the next occurrence of one periodic job is scheduled."""
    id_key = f"periodic:{periodic.name}"
    sig_key = f"{id_key}:signature"
    current = queue.get_value(id_key)
    current_due = queue.scheduled_for(current) if current else None
    signature = periodic.signature(settings)
    due = periodic.due(settings, utcnow())
    same = queue.get_value(sig_key) == signature
    if current_due is not None and same and not replace:
        return current_due
    if current and current_due is not None:
        queue.cancel(current)
    queue.set_value(sig_key, signature)
    if due is None:
        queue.set_value(id_key, "")
        return None
    job_id = f"{queue.prefix}periodic-{periodic.name}-{uuid.uuid4().hex[:12]}"
    queue.enqueue_at(
        due, periodic_job, periodic.name, queue=queue_of(periodic_job), job_id=job_id
    )
    queue.set_value(id_key, job_id)
    return due


def reconcile_periodic(app: Flask | None = None) -> dict[str, datetime | None]:
    """Schedule each periodic job as the settings say; return the next due times."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        settings = load_settings(db.session)
        db.session.remove()
    queue = get_queue(app)
    with GUARD:
        return {
            p.name: _schedule_one(queue, p, settings, replace=False) for p in PERIODIC
        }


def next_due(app: Flask | None = None) -> dict[str, datetime | None]:
    """When each periodic job runs next (None: off or not scheduled yet)."""
    queue = get_queue(app)
    out: dict[str, datetime | None] = {}
    with queue.guarded():
        for periodic in PERIODIC:
            job_id = queue.get_value(f"periodic:{periodic.name}")
            out[periodic.name] = queue.scheduled_for(job_id) if job_id else None
    return out


@task()
def periodic_job(name: str) -> Any:
    """Run one periodic job, then schedule its next occurrence."""
    periodic = _periodic(name)
    queue = get_queue()
    try:
        return periodic.run()
    finally:
        settings = load_settings(db.session)
        mine = current_job_id()
        scheduled = queue.get_value(f"periodic:{name}")
        if not scheduled or scheduled == mine or queue.scheduled_for(scheduled) is None:
            with GUARD:
                _schedule_one(queue, periodic, settings, replace=True)
