"""The sync engine: runs entity steps in dependency order over a Session.

`run_sync(session, perfex_db, gateway, settings, ...)` is the one entry point for
the CLI, jobs and tests. Each step (pxflask/sync/steps/<entity>.py) reads what
changed, maps it with the pure mappers, decides per record through the link store
(create / update / nothing / blocked) and writes in batches through the gateway.
A dry run does everything but write: it returns the exact payloads and actions.

A targeted run (`record_keys`, e.g. a Perfex hook about invoice 123) syncs only
those records and what they need: a payment's invoice, an invoice's customer, and
an invoice's payments when payments are asked for. It reads those rows by id and
scans neither the Perfex tables nor Xero's changes.

The engine is the only writer of a run's row (pxflask/sync/runs.py): a job passes
`run_id` and a `progress` callback for its own progress bar, and reads the row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.sync.context import (
    Gateway,
    PlannedAction,
    Progress,
    StepContext,
    StepReport,
    SyncResult,
    SyncSettings,
    numeric_ids,
)
from pxflask.sync.failures import Reach, describe, reach
from pxflask.sync.links import LogEntry, write_log
from pxflask.sync.registry import REGISTRY, Registry, Unit
from pxflask.sync.runs import RunRow

__all__ = [
    "Gateway",
    "PlannedAction",
    "Progress",
    "StepContext",
    "StepReport",
    "SyncResult",
    "SyncSettings",
    "numeric_ids",
    "run_sync",
]

log = logging.getLogger(__name__)

TARGETABLE = REGISTRY.targetable()
"""Entities a targeted run syncs record by record (the others run whole)."""


def run_sync(
    session: SessionLike,
    perfex_db: PerfexDB,
    gateway: Gateway,
    settings: Mapping[str, str] | SyncSettings,
    entities: list[str] | None = None,
    full: bool = False,
    since: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    *,
    run_id: int | None = None,
    registry: Registry = REGISTRY,
    record_keys: Mapping[str, Iterable[str | int]] | None = None,
) -> SyncResult:
    """Run the chosen entities (default: the enabled ones) in dependency order.

    With `record_keys` (entity -> Perfex keys) only those records and their
    dependencies are synced, plus the non-record entities named in `entities`.
    """
    conf = (
        settings
        if isinstance(settings, SyncSettings)
        else SyncSettings.from_mapping(settings)
    )
    names = entities or (list(conf.entities) if conf.entities else None)
    targets = None
    if record_keys:
        targets = expand_targets(perfex_db, record_keys, entities or (), registry)
        by_record = registry.targetable()
        wanted = {n for n in entities or () if n not in by_record}
        wanted |= {n for n in record_keys if n not in by_record}
        names = sorted(wanted | {n for n, keys in targets.items() if keys})
    units = registry.ordered(names)
    row = RunRow.start(
        session,
        run_id,
        scope=",".join(u.name for u in units) or "all",
        full=full,
        since=since.isoformat() if since else None,
        dry_run=dry_run,
    )
    ctx = StepContext(
        session=session,
        perfex=perfex_db,
        gateway=gateway,
        settings=conf,
        full=full,
        since=since,
        dry_run=dry_run,
        run_id=row.id if row and not dry_run else None,
        run_key=f"run-{row.id}"
        if row and not dry_run
        else f"dry-{uuid.uuid4().hex[:8]}",
        progress=_reporter(row, progress),
        targets=targets,
        targetable=frozenset(registry.targetable()),
        step_modules=registry.step_modules(),
    )
    result = SyncResult(run_id=ctx.run_id, dry_run=dry_run)
    calls_before = _calls_made(gateway)
    failed_steps: dict[str, str] = {}
    stopped: str | None = None
    try:
        for unit in units:
            if row is not None:
                row.step(unit.name)
            blocker = stopped or _blocked_by(unit, failed_steps, registry)
            if blocker is not None:
                report = not_run(unit.name, blocker)
            else:
                report = _run_step(unit, ctx)
            if report.step_error is not None:
                failed_steps[unit.name] = report.step_error
                if not dry_run:  # the panel's log shows why the step did not run
                    entry = LogEntry(None, "run", "failed", report.step_error)
                    write_log(session, unit.name, [entry], run_id=ctx.run_id)
                if report.stops_run and stopped is None:
                    stopped = f"not run: {report.step_error}"
            result.reports.append(report)
            if row is not None:
                row.step_done(report, _calls_made(gateway) - calls_before)
    except Exception as exc:
        if row is not None:
            row.fail(exc, _calls_made(gateway) - calls_before)
        raise
    if row is not None:
        row.finish(result, failed_steps)
    return result


def _reporter(row: RunRow | None, progress: Progress | None) -> Progress | None:
    """The step's progress callback: the run's row first, then the caller's."""
    if row is None:
        return progress

    def report(entity: str, done: int, total: int) -> None:
        """Write the row (throttled), then tell the caller (a job's progress bar)."""
        row.tick(entity, done, total)
        if progress is not None:
            progress(entity, done, total)

    return report


def _blocked_by(
    unit: Unit, failed: Mapping[str, str], registry: Registry
) -> str | None:
    """Why a step cannot run: a step it depends on (directly or not) failed."""
    for name in failed:
        if unit.name in registry.dependents(name):
            return f"not run: {name} failed ({failed[name]})"
    return None


def not_run(entity: str, reason: str) -> StepReport:
    """The report of a step skipped because a step it needs failed."""
    report = StepReport(entity, failed=1, step_error=reason)
    report.errors.append(("*", reason))
    return report


def _run_step(unit: Unit, ctx: StepContext) -> StepReport:
    """Run one step; an error that only ends this step becomes its report."""
    try:
        return unit.load_step().run(ctx)
    except Exception as exc:
        kind = reach(exc)
        if kind is Reach.FATAL:
            raise
        ctx.session.rollback()
        reason = describe(exc)
        if kind is Reach.RUN:
            log.warning("sync step %s stopped the run: %s", unit.name, reason)
        else:
            log.error("sync step %s failed: %s", unit.name, reason, exc_info=exc)
        report = StepReport(unit.name, failed=1, step_error=reason)
        report.stops_run = kind is Reach.RUN
        report.errors.append(("*", f"step failed: {reason}"))
        return report


def _calls_made(gateway: Any) -> int:
    """Xero calls the gateway has made so far (its counters span its lifetime)."""
    stats = getattr(gateway, "stats", None)
    return int(stats.snapshot()["total"]) if stats is not None else 0


ID_CHUNK = 500
"""Ids per `IN (...)` when expanding targets."""


def _lookup(
    conn: sa.Connection, out: sa.Column, by: sa.Column, keys: Iterable[str]
) -> set[str]:
    """Values of `out` in the rows whose `by` is one of the numeric keys."""
    ids = numeric_ids(keys)
    found: set[str] = set()
    for start in range(0, len(ids), ID_CHUNK):
        part = ids[start : start + ID_CHUNK]
        found.update(
            str(v) for v in conn.execute(sa.select(out).where(by.in_(part))).scalars()
        )
    return found


def expand_targets(
    perfex: PerfexDB,
    record_keys: Mapping[str, Iterable[str | int]],
    entities: Iterable[str] = (),
    registry: Registry = REGISTRY,
) -> dict[str, frozenset[str]]:
    """Targeted keys plus their parents (payment -> invoice -> customer).

    The children of an asked record (the payments of a targeted invoice) are
    added when their entity is asked for (named in `entities` or `record_keys`).
    """
    keys = {e: {str(k) for k in ks} for e, ks in record_keys.items()}
    asked = {e: set(ks) for e, ks in keys.items()}
    named = set(keys) | set(entities)
    children = [
        (u.name, u.target, u.target.parent, u.target.parent_column)
        for u in registry
        if u.target is not None and u.target.parent and u.target.parent_column
    ]
    with perfex.engine.connect() as conn:
        for name, target, parent, column in reversed(children):
            table = getattr(perfex.tables, target.table)
            if keys.get(name):
                found = _lookup(conn, table.c[column], table.c[target.key], keys[name])
                keys.setdefault(parent, set()).update(found)
        for name, target, parent, column in children:
            if target.follows_parent and name in named and asked.get(parent):
                table = getattr(perfex.tables, target.table)
                found = _lookup(
                    conn, table.c[target.key], table.c[column], asked[parent]
                )
                keys.setdefault(name, set()).update(found)
    return {e: frozenset(ks) for e, ks in keys.items()}
