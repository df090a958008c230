"""Sync requests: validate, find the run already serving a scope, or queue one.

A SyncRun row is created before its job is queued; a second request for a scope
that is queued or running returns that run (a change-driven request joins only a
queued one). Retries are requests too: of one record, one log row, or every
failed link.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.extensions import db
from pxflask.models import Link, SyncLog, SyncRun
from pxflask.queueing import QueueUnavailable, get_queue
from pxflask.sync import runs
from pxflask.sync.registry import owner_of
from pxflask.sync.settings import ENTITY_NAMES

from .locks import GUARD, active_run, claim_lock, lock_name, sync_scope
from .registry import submit
from .sync_task import sync_job

CHANGE_TRIGGERS = frozenset({"hook", "watch", "webhook"})
"""Triggers about a change: a running run may have read past it, so they join
only a queued run of their scope and otherwise queue a follow-up."""


class InvalidSyncRequest(ValueError):
    """A sync request names an unknown entity or a malformed date."""


@dataclass(frozen=True)
class SyncRequest:
    """The run that serves a request, and whether it was created for it."""

    run: SyncRun
    created: bool


def _app_and_session(
    app_or_session: Flask | SessionLike | None,
) -> tuple[Flask, SessionLike]:
    """The app and the session to use for a request."""
    if isinstance(app_or_session, Flask):
        return app_or_session, db.session
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app, app_or_session or db.session


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


def request_sync(
    app_or_session: Flask | SessionLike | None,
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
    lock = lock_name(scope)
    with GUARD:
        if queue.mode == "embedded":
            active = active_run(session, queue, scope, follow_up)
            if active is not None:
                return SyncRequest(active, False)
        run = runs.open_run(
            session,
            scope=scope,
            trigger=trigger,
            dry_run=dry_run,
            full=full,
            since=since,
            job_id=f"{queue.prefix}sync-{uuid.uuid4().hex}",
        )
        try:
            with queue.guarded():
                other = claim_lock(session, queue, lock, run, follow_up)
                if other is not None:
                    runs.discard(session, run)
                    return SyncRequest(other, False)
                submit(
                    queue,
                    sync_job,
                    run.id,
                    names,
                    full=full,
                    since=since or None,
                    dry_run=dry_run,
                    record_keys=keys,
                    job_id=run.job_id,
                )
        except QueueUnavailable as exc:
            runs.close_unstarted(session, run, f"could not queue the sync: {exc}")
            raise
    return SyncRequest(run, True)


def retry_record(session: SessionLike, entity: str, perfex_key: str) -> SyncRequest:
    """Queue a targeted sync of one record."""
    return request_sync(session, [entity], "retry", record_keys={entity: [perfex_key]})


def retry_log_entry(session: SessionLike, log_id: int) -> SyncRequest:
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
    session: SessionLike, entities: Iterable[str] | None = None
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


def retry_failed(session: SessionLike) -> SyncRequest | None:
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


def failed_part_owners(session: SessionLike) -> list[str]:
    """Units whose step keeps a failed link of another entity (see Unit.parts)."""
    rows = session.scalars(
        select(Link.entity).where(Link.state == "failed").distinct()
    ).all()
    return sorted({owner for e in rows if (owner := owner_of(e)) is not None})
