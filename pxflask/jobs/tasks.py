"""The small tasks: Perfex hooks, the watcher, Xero webhooks, relink, scheduled sync.

Each runs inside an app context (the worker or the embedded queue pushes one) and
reaches the app through current_app; each takes plain values, never ORM objects.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.extensions import db
from pxflask.models import Link
from pxflask.queueing import get_queue
from pxflask.sync.settings import (
    InvalidSetting,
    enabled_entities,
    load_settings,
    schedule_problem,
    validate,
)

from .registry import task
from .requests import request_sync

log = logging.getLogger(__name__)


@task()
def hook_job(entity: str, key: str) -> dict[str, Any]:
    """A Perfex "something changed" nudge: queue a targeted sync of that record."""
    result = request_sync(db.session, [entity], "hook", record_keys={entity: [key]})
    return {"run_id": result.run.id, "created": result.created}


def watch_seconds(settings: dict[str, str]) -> int:
    """The watcher's interval; a bad stored value (a DB edit) falls back to 30 s."""
    stored = settings.get("watch_interval") or "30"
    try:
        return int(validate("watch_interval", stored))
    except InvalidSetting as exc:
        log.warning("watch_interval %r is invalid (%s): every 30 s", stored, exc)
        return 30


@task()
def watch_job() -> dict[str, Any]:
    """Look for changed Perfex rows and queue targeted syncs for them."""
    from pxflask.sync.watcher import detect_changes
    from pxflask.web.runtime import perfex_db

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = load_settings(db.session)
    if settings.get("sync_mode") != "realtime":
        return {"skipped": "sync mode is not realtime"}
    queue = get_queue(app)
    interval = watch_seconds(settings)
    changes = detect_changes(
        perfex_db(app),
        enabled_entities(settings),
        queue.get_value,
        queue.set_value,
        synced=lambda entity: _has_links(db.session, entity),
        stale_after=max(3 * interval, 120),
    )
    runs: list[int] = []
    for change in changes:
        keys = None if change.everything else {change.entity: list(change.keys)}
        runs.append(
            request_sync(db.session, [change.entity], "watch", record_keys=keys).run.id
        )
    return {"changes": len(changes), "runs": runs}


def _has_links(session: SessionLike, entity: str) -> bool:
    """True when an entity has been synced before (it has a link)."""
    found = session.scalar(select(Link.id).where(Link.entity == entity).limit(1))
    return found is not None


@task()
def xero_webhook_job(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Hand verified Xero webhook events to the sync layer (pxflask/sync/inbound.py)."""
    from pxflask.sync.entities.expenses_pull import UNIT as EXPENSES_PULL
    from pxflask.sync.entities.expenses_pull.webhooks import pull_wanted
    from pxflask.sync.inbound import handle_webhook
    from pxflask.web.runtime import xero_gateway

    result = handle_webhook(db.session, events, xero_gateway)
    if result.get("customers"):
        keys = {"customers": result["customers"]}
        run = request_sync(db.session, ["customers"], "webhook", record_keys=keys)
        result["run_id"] = run.run.id
    if result.get("documents"):
        from pxflask.sync.entities.documents_pull import ENTITY

        result["run_id"] = request_sync(db.session, [ENTITY], "webhook").run.id
    if pull_wanted(events, load_settings(db.session)):  # bills made in Xero
        pull = request_sync(db.session, [EXPENSES_PULL.name], "webhook")
        result["expenses_pull_run"] = pull.run.id
    return result


@task()
def relink_preview_job() -> dict[str, Any]:
    """Match Perfex customers and invoices with records already in Xero."""
    from pxflask.panel.maintenance import relink_preview
    from pxflask.web.runtime import perfex_db, xero_gateway

    preview = relink_preview(db.session, perfex_db(), xero_gateway())
    return preview.to_dict()


@task()
def scheduled_sync() -> dict[str, Any]:
    """The scheduled pass: every enabled entity; a cron schedule runs a full pass."""
    settings = load_settings(db.session)
    if settings.get("sync_mode") != "scheduled":
        return {"skipped": "sync mode is not scheduled"}
    problem = schedule_problem(settings)
    if problem:
        log.warning("%s", problem)
        return {"skipped": problem}
    full = not settings.get("schedule", "").strip().isdigit()
    result = request_sync(db.session, None, "schedule", full=full)
    return {"run_id": result.run.id, "created": result.created}
