"""Job entry points: sync runs, the Perfex watcher, Xero webhooks, periodic jobs.

Jobs take ids and plain values, never ORM objects, and run inside an app context
(`pxflask worker` pushes one; the embedded queue pushes one per job), reaching the
app through current_app. A SyncRun row is created before its job is queued and
mirrors the job's progress; a second sync request for a scope that is queued or
running returns that run. Failures are recorded on the run and in the log, then
the job raises so RQ (or the embedded queue's log) sees them too.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from pxflask.extensions import db
from pxflask.models import Link, SyncLog, SyncRun, XeroConnection, utcnow
from pxflask.queueing import (
    DEFAULT_QUEUE,
    QUEUE_NAMES,
    SYNC_QUEUE,
    JobQueue,
    QueueUnavailable,
    current_job_id,
    get_queue,
    publish_progress,
    resolve,
)
from pxflask.settings import (
    ENTITY_NAMES,
    InvalidSetting,
    enabled_entities,
    load_settings,
    next_run,
    schedule_problem,
    validate,
)
from pxflask.sync.failures import describe as describe_error
from pxflask.sync.registry import owner_of

log = logging.getLogger(__name__)

LOCK_TTL = 3600
ACTIVE = ("queued", "running")
ALIVE_JOB_STATES = ("queued", "scheduled", "started", "deferred")
CHANGE_TRIGGERS = frozenset({"hook", "watch"})
"""Triggers about a change: a running run may have read past it, so they join
only a queued run of their scope and otherwise queue a follow-up."""
PROGRESS_EVERY_S = 1.0
SCOPE_MAX = 255
_GUARD = threading.RLock()


class InvalidSyncRequest(ValueError):
    """A sync request names an unknown entity or a malformed date."""


@dataclass(frozen=True)
class SyncRequest:
    """The run that serves a request, and whether it was created for it."""

    run: SyncRun
    created: bool


# ------------------------------------------------------------------ requests


def _normalise_entities(entities: Iterable[str] | None) -> list[str]:
    """Known entity names in canonical order; an unknown name is refused."""
    names = [name.strip() for name in entities or () if name and name.strip()]
    unknown = sorted({name for name in names if name not in ENTITY_NAMES})
    if unknown:
        raise InvalidSyncRequest(
            f"unknown entity {', '.join(unknown)} (known: {', '.join(ENTITY_NAMES)})"
        )
    return [name for name in ENTITY_NAMES if name in names]


def _normalise_keys(
    record_keys: Mapping[str, Iterable[Any]] | None,
) -> dict[str, list[str]] | None:
    """Record keys per entity as sorted lists of text."""
    if not record_keys:
        return None
    clean: dict[str, list[str]] = {}
    for entity, keys in record_keys.items():
        _normalise_entities([entity])
        values = sorted({str(key) for key in keys}, key=lambda k: (len(k), k))
        if values:
            clean[entity] = values
    return clean or None


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


def _lock_name(scope: str) -> str:
    """The lock name of a sync scope (hashed: scopes may be long)."""
    return "sync:" + hashlib.sha256(scope.encode()).hexdigest()[:32]


def _app_and_session(app_or_session: Flask | Session | None) -> tuple[Flask, Session]:
    """The app and the session to use for a request."""
    if isinstance(app_or_session, Flask):
        return app_or_session, db.session
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app, app_or_session or db.session


def job_is_alive(queue: JobQueue, run: SyncRun) -> bool:
    """True while the run's job is queued, scheduled or running."""
    # A run without a job (a foreground `pxflask sync`) counts as alive for
    # LOCK_TTL seconds after it started, so a crashed one blocks nothing for long.
    if not run.job_id:
        started = run.started_at or run.created_at
        return started is not None and started > utcnow() - timedelta(seconds=LOCK_TTL)
    return queue.job_status(run.job_id) in ALIVE_JOB_STATES


def _mark_interrupted(session: Session, run: SyncRun) -> None:
    """Close a run whose job is gone (worker or app stopped mid-run)."""
    run.status = "failed"
    run.error = run.error or "interrupted: its job is no longer queued or running"
    run.finished_at = utcnow()
    session.commit()


def _serves(run: SyncRun, follow_up: bool) -> bool:
    """Whether an active run serves a new request (change-driven: only if queued)."""
    return run.status == "queued" or not follow_up


def _active_run(
    session: Session, queue: JobQueue, scope: str, follow_up: bool
) -> SyncRun | None:
    """The live run of this scope that serves the request, if any."""
    runs = session.scalars(
        select(SyncRun)
        .where(SyncRun.scope == scope, SyncRun.status.in_(ACTIVE))
        .order_by(SyncRun.id)
    ).all()
    for run in runs:
        if not job_is_alive(queue, run):
            _mark_interrupted(session, run)
        elif _serves(run, follow_up):
            return run
    return None


def _claim_lock(
    session: Session, queue: JobQueue, lock: str, run: SyncRun, follow_up: bool
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
            _mark_interrupted(session, other)
        elif _serves(other, follow_up):
            return other
    queue.force_lock(lock, str(run.id), LOCK_TTL)
    return None


def request_sync(
    app_or_session: Flask | Session | None,
    entities: Iterable[str] | None,
    trigger: str,
    *,
    full: bool = False,
    since: str | None = None,
    dry_run: bool = False,
    record_keys: Mapping[str, Iterable[Any]] | None = None,
) -> SyncRequest:
    """Create and queue a sync run, or return the run already active for the scope."""
    # A manual, scheduled or retry request joins a queued or running run of the same
    # scope; a change (hook, watch) joins only a queued one, else queues a follow-up.
    app, session = _app_and_session(app_or_session)
    if isinstance(app_or_session, Flask) and not has_app_context():
        with app.app_context():
            result = request_sync(
                app,
                entities,
                trigger,
                full=full,
                since=since,
                dry_run=dry_run,
                record_keys=record_keys,
            )
            db.session.refresh(result.run)
            db.session.expunge(result.run)
            return result
    names = _normalise_entities(entities)
    keys = _normalise_keys(record_keys)
    if keys:
        names = _normalise_entities([*names, *keys])
    if since:
        try:
            date.fromisoformat(since)
        except ValueError as exc:
            raise InvalidSyncRequest(
                f"{since!r} is not a date like 2025-01-31"
            ) from exc
    scope = sync_scope(names, keys)
    follow_up = trigger in CHANGE_TRIGGERS
    queue = get_queue(app)
    lock = _lock_name(scope)
    with _GUARD:
        if queue.mode == "embedded":
            active = _active_run(session, queue, scope, follow_up)
            if active is not None:
                return SyncRequest(active, False)
        run = SyncRun(
            scope=scope,
            trigger=trigger,
            status="queued",
            dry_run=dry_run,
            full=full,
            since=since or None,
            job_id=f"{queue.prefix}sync-{uuid.uuid4().hex}",
        )
        session.add(run)
        session.commit()
        try:
            with queue.guarded():
                other = _claim_lock(session, queue, lock, run, follow_up)
                if other is not None:
                    session.delete(run)
                    session.commit()
                    return SyncRequest(other, False)
                queue.enqueue(
                    "pxflask.jobs.sync_job",
                    run.id,
                    names,
                    full=full,
                    since=since or None,
                    dry_run=dry_run,
                    record_keys=keys,
                    queue=SYNC_QUEUE,
                    job_id=run.job_id,
                )
        except QueueUnavailable as exc:
            run.status = "failed"
            run.error = f"could not queue the sync: {exc}"
            run.finished_at = utcnow()
            session.commit()
            raise
    return SyncRequest(run, True)


def enqueue_sync(
    app_or_session: Flask | Session | None,
    entities: Iterable[str] | None,
    trigger: str,
    full: bool = False,
    since: str | None = None,
    dry_run: bool = False,
    record_keys: Mapping[str, Iterable[Any]] | None = None,
) -> SyncRun:
    """Queue a sync (or find the one active for the scope) and return its run."""
    return request_sync(
        app_or_session,
        entities,
        trigger,
        full=full,
        since=since,
        dry_run=dry_run,
        record_keys=record_keys,
    ).run


# ------------------------------------------------------------------- sync job


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
    lock = _lock_name(run.scope)
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


# ------------------------------------------------------------------- retries


def retry_record(session: Session, entity: str, perfex_key: str) -> SyncRequest:
    """Queue a targeted sync of one record."""
    return request_sync(session, [entity], "retry", record_keys={entity: [perfex_key]})


def retry_log_entry(session: Session, log_id: int) -> SyncRequest:
    """Queue a targeted sync of the record of one log row."""
    entry = session.get(SyncLog, log_id)
    if entry is None:
        raise LookupError(f"log entry {log_id} does not exist")
    owner = owner_of(entry.entity)
    if owner is not None:  # kept by another unit's step: rerun that step
        return request_sync(session, [owner], "retry")
    if not entry.perfex_key or entry.entity not in ENTITY_NAMES:
        raise InvalidSyncRequest(
            f"log entry {log_id} is not about one record: rerun the whole sync"
        )
    return retry_record(session, entry.entity, entry.perfex_key)


def failed_record_keys(
    session: Session, entities: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Perfex keys of the records whose link is failed, per entity (or these only)."""
    wanted = set(entities or ENTITY_NAMES) & set(ENTITY_NAMES)
    rows = session.execute(
        select(Link.entity, Link.perfex_key).where(Link.state == "failed")
    ).all()
    keys: dict[str, list[str]] = {}
    for entity, key in rows:
        if entity in wanted:
            keys.setdefault(entity, []).append(key)
    return keys


def retry_failed(session: Session) -> SyncRequest | None:
    """Queue one targeted sync of every record whose link is failed.

    Failed links another unit's step keeps (credit allocations) are retried by a
    run of that unit; the targeted run's answer is returned when there is one.
    """
    keys = failed_record_keys(session)
    owners = failed_part_owners(session)
    result = None
    for owner in owners:
        result = request_sync(session, [owner], "retry")
    if keys:
        result = request_sync(session, list(keys), "retry", record_keys=keys)
    return result


def failed_part_owners(session: Session) -> list[str]:
    """Units whose step keeps a failed link of another entity (see Unit.parts)."""
    rows = session.scalars(
        select(Link.entity).where(Link.state == "failed").distinct()
    ).all()
    return sorted({owner for e in rows if (owner := owner_of(e)) is not None})


# ---------------------------------------------------------- real-time sources


def hook_job(entity: str, key: str) -> dict[str, Any]:
    """A Perfex "something changed" nudge: queue a targeted sync of that record."""
    result = request_sync(db.session, [entity], "hook", record_keys={entity: [key]})
    return {"run_id": result.run.id, "created": result.created}


def watch_job() -> dict[str, Any]:
    """Look for changed Perfex rows and queue targeted syncs for them."""
    from pxflask.runtime import perfex_db
    from pxflask.watcher import detect_changes

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = load_settings(db.session)
    if settings.get("sync_mode") != "realtime":
        return {"skipped": "sync mode is not realtime"}
    queue = get_queue(app)
    interval = _watch_seconds(settings)
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


def _has_links(session: Session, entity: str) -> bool:
    """True when an entity has been synced before (it has a link)."""
    found = session.scalar(select(Link.id).where(Link.entity == entity).limit(1))
    return found is not None


XERO_CATEGORIES = {
    "INVOICE": ("invoices", "invoices"),
    "CONTACT": ("customers", "contacts"),
}
"""Webhook category -> (entity of our links, gateway read kind)."""


def xero_webhook_job(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Record Xero webhook events and pull the changed invoices and contacts."""
    session = db.session
    connection = session.scalar(select(XeroConnection).limit(1))
    tenant = connection.tenant_id if connection is not None else None
    wanted: dict[str, set[str]] = {}
    for event in events:
        category = str(event.get("eventCategory", "")).upper()
        resource = str(event.get("resourceId", ""))
        entity, kind = XERO_CATEGORIES.get(category, ("xero", ""))
        foreign = tenant is not None and event.get("tenantId") not in (None, tenant)
        link = _link_by_xero_id(session, entity, resource)
        session.add(
            SyncLog(
                entity=entity,
                perfex_key=link.perfex_key if link else None,
                xero_id=resource or None,
                action="webhook",
                outcome="ignored" if foreign or not kind else "received",
                message=(
                    f"Xero {category} {event.get('eventType', '')} at "
                    f"{event.get('eventDateUtc', '?')}"
                    + (" (another organisation)" if foreign else "")
                ),
                payload=json.dumps(event, sort_keys=True),
            )
        )
        if kind and resource and not foreign:
            wanted.setdefault(kind, set()).add(resource)
    session.commit()
    pulled = 0
    if wanted:
        try:
            pulled = _pull_changed(session, wanted)
        except Exception as exc:
            session.rollback()
            session.add(
                SyncLog(
                    entity="xero",
                    action="inbound",
                    outcome="failed",
                    message=f"{type(exc).__name__}: {describe_error(exc)}",
                )
            )
            session.commit()
            log.error("pulling Xero changes failed", exc_info=exc)
            raise
    return {"events": len(events), "pulled": pulled}


def _pull_changed(session: Session, wanted: dict[str, set[str]]) -> int:
    """Read the changed invoices and contacts from Xero and log what they say."""
    from pxflask.runtime import xero_gateway
    from pxflask.sync.links import DELETED, VOIDED

    pulled = 0
    gateway = xero_gateway()
    for kind, ids in wanted.items():
        entity = "invoices" if kind == "invoices" else "customers"
        for record in gateway.read_all(kind, ids=sorted(ids)):
            pulled += 1
            xero_id = record.get("InvoiceID") or record.get("ContactID")
            link = _link_by_xero_id(session, entity, str(xero_id))
            status = record.get("Status") or record.get("ContactStatus") or ""
            if link is not None and status in ("VOIDED", "DELETED", "ARCHIVED"):
                link.state = VOIDED if status == "VOIDED" else DELETED
            session.add(
                SyncLog(
                    entity=entity,
                    perfex_key=link.perfex_key if link else None,
                    xero_id=str(xero_id),
                    action="inbound",
                    outcome="ok",
                    message=_inbound_summary(kind, record),
                    response=json.dumps(record, sort_keys=True, default=str)[:60000],
                )
            )
    session.commit()
    return pulled


def _link_by_xero_id(session: Session, entity: str, xero_id: str) -> Link | None:
    """The link of a Xero id, if the record is one of ours."""
    if not xero_id:
        return None
    return session.scalar(
        select(Link).where(Link.entity == entity, Link.xero_id == xero_id).limit(1)
    )


def _inbound_summary(kind: str, record: Mapping[str, Any]) -> str:
    """One line about a record pulled from Xero."""
    if kind == "invoices":
        return (
            f"Xero invoice {record.get('InvoiceNumber', '?')}: "
            f"{record.get('Status', '?')}, due {record.get('AmountDue', '?')} "
            f"of {record.get('Total', '?')}"
        )
    return f"Xero contact {record.get('Name', '?')}: {record.get('ContactStatus', '?')}"


def relink_preview_job() -> dict[str, Any]:
    """Match Perfex customers and invoices with records already in Xero."""
    from pxflask.maintenance import relink_preview
    from pxflask.runtime import perfex_db, xero_gateway

    preview = relink_preview(db.session, perfex_db(), xero_gateway())
    return preview.to_dict()


# ----------------------------------------------------------- periodic jobs


@dataclass(frozen=True)
class Periodic:
    """A job that repeats while a setting asks for it (declared as data)."""

    name: str
    run: str
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


def _watch_seconds(settings: dict[str, str]) -> int:
    """The watcher's interval; a bad stored value (a DB edit) falls back to 30 s."""
    stored = settings.get("watch_interval") or "30"
    try:
        return int(validate("watch_interval", stored))
    except InvalidSetting as exc:
        log.warning("watch_interval %r is invalid (%s): every 30 s", stored, exc)
        return 30


def _watch_due(settings: dict[str, str], now: datetime) -> datetime | None:
    """The next watcher tick, watch_interval seconds from now, in realtime mode."""
    if settings.get("sync_mode") != "realtime":
        return None
    return now + timedelta(seconds=_watch_seconds(settings))


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


PERIODIC: tuple[Periodic, ...] = (
    Periodic(
        "scheduled-sync",
        "pxflask.jobs.scheduled_sync",
        _scheduled_sync_due,
        lambda s: f"{s.get('sync_mode')}|{s.get('schedule')}",
    ),
    Periodic(
        "watch",
        "pxflask.jobs.watch_job",
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
        due,
        "pxflask.jobs.periodic_job",
        periodic.name,
        queue=DEFAULT_QUEUE,
        job_id=job_id,
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
    with _GUARD:
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


def periodic_job(name: str) -> Any:
    """Run one periodic job, then schedule its next occurrence."""
    periodic = _periodic(name)
    queue = get_queue()
    try:
        return resolve(periodic.run)()
    finally:
        settings = load_settings(db.session)
        mine = current_job_id()
        scheduled = queue.get_value(f"periodic:{name}")
        if not scheduled or scheduled == mine or queue.scheduled_for(scheduled) is None:
            with _GUARD:
                _schedule_one(queue, periodic, settings, replace=True)


# ------------------------------------------------------------------ start-up


def recover_stale_runs(session: Session, queue: JobQueue) -> int:
    """Close runs left queued or running by a stopped worker; return how many."""
    runs = session.scalars(select(SyncRun).where(SyncRun.status.in_(ACTIVE))).all()
    stale = [run for run in runs if not job_is_alive(queue, run)]
    for run in stale:
        _mark_interrupted(session, run)
    return len(stale)


def start_background(app: Flask) -> dict[str, datetime | None]:
    """Embedded mode at app start: close stale runs, schedule periodic jobs."""
    queue = get_queue(app)
    with app.app_context():
        recovered = recover_stale_runs(db.session, queue)
        if recovered:
            log.warning("closed %d sync run(s) interrupted by a restart", recovered)
    return reconcile_periodic(app)


def run_worker(
    app: Flask, *, burst: bool = False, queues: Iterable[str] | None = None
) -> None:
    """The RQ worker with its scheduler, on this app's named queues."""
    # Syncs of one scope must not run side by side: run one worker on the sync queue.
    from rq import Worker

    from pxflask.config import ConfigError
    from pxflask.queueing import RQQueue

    queue = get_queue(app)
    if not isinstance(queue, RQQueue):
        raise ConfigError(
            "pxflask worker needs REDIS_URL; without it the app runs its jobs "
            "itself (embedded queue), so no worker is needed"
        )
    from redis.exceptions import RedisError

    try:
        queue.redis.ping()
    except RedisError as exc:
        raise ConfigError(f"cannot reach Redis (REDIS_URL): {exc}") from exc
    recovered = recover_stale_runs(db.session, queue)
    if recovered:
        log.warning("closed %d sync run(s) left by a stopped worker", recovered)
    db.session.commit()
    db.session.remove()
    reconcile_periodic(app)
    db.engine.dispose()  # work horses are forks: give each its own connections
    names = list(queues) if queues else list(QUEUE_NAMES)
    worker = Worker(
        [queue.rq_queue(name) for name in names],
        connection=queue.redis,
        name=f"pxflask-{uuid.uuid4().hex[:8]}",
    )
    worker.work(burst=burst, with_scheduler=True)
