"""The records a run did not sync, grouped by reason, for the CLI (no Flask).

`pxflask sync` ends with the per-entity counts; these lines follow them: every
failed, skipped or blocked record of the run, one line per entity, outcome and
reason with the count and the first few records (Perfex numbers such as
INV-000012 where known), at most `CAP` lines, then the command that lists them
all (`pxflask sync-log`, which reads the run's log rows with `log_rows`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, SyncLog, SyncRun
from pxflask.perfex.db import PerfexDB
from pxflask.sync.context import SyncResult

log = logging.getLogger(__name__)

CAP = 20
"""Reason lines the summary prints before pointing at `pxflask sync-log`."""
KEYS_SHOWN = 4
"""Records named per reason line."""
NOT_SENT = ("failed", "skipped", "blocked")
"""Log outcomes the summary and `pxflask sync-log` list by default."""
_PLANNED = {"skip": "skipped", "blocked": "blocked"}
_DATED = re.compile(r"^dated \d{4}-\d{2}-\d{2}, ")
"""Lock-date reasons start with the record's own date: grouped without it."""
_ITS_PARENT = re.compile(r"^its (invoice|credit note|customer) \S+ failed: ")
"""Dependants name their failed parent: grouped by the parent's reason."""

Labeller = Callable[[str, Sequence[str]], dict[str, str]]
"""(entity, keys) -> key -> what a person calls the record (INV-000012)."""


@dataclass
class Group:
    """Records of one entity with one outcome for one reason."""

    entity: str
    outcome: str
    reason: str
    keys: list[str] = field(default_factory=list)


def groups(result: SyncResult) -> list[Group]:
    """Failed, skipped and blocked records of a run, by entity, outcome, reason."""
    found: dict[tuple[str, str, str], Group] = {}

    def add(entity: str, outcome: str, key: str, reason: str | None) -> None:
        text = _DATED.sub("", reason or "no reason given")
        text = _ITS_PARENT.sub(r"its \1 failed: ", text)
        group = found.setdefault((entity, outcome, text), Group(entity, outcome, text))
        if key not in group.keys:
            group.keys.append(key)

    for report in result.reports:
        for key, error in report.errors:
            add(report.entity, "failed", key, error)
        for action in report.planned:
            outcome = _PLANNED.get(action.action)
            if outcome is not None:
                add(action.entity, outcome, action.key, action.reason)
    order = {name: i for i, name in enumerate(NOT_SENT)}
    return sorted(
        found.values(),
        key=lambda g: (order[g.outcome], g.entity, -len(g.keys), g.reason),
    )


def summary_lines(
    result: SyncResult, labels: Labeller | None = None, cap: int = CAP
) -> list[str]:
    """The reason lines (at most `cap`) and the command that lists every record."""
    found = groups(result)
    if not found:
        return []
    shown = found[:cap]
    wanted: dict[str, set[str]] = {}
    for g in shown:
        wanted.setdefault(g.entity, set()).update(g.keys[:KEYS_SHOWN])
    names: dict[tuple[str, str], str] = {}
    for entity, keys in wanted.items():
        for key, label in _labels(labels, entity, sorted(keys)).items():
            names[(entity, key)] = label
    total = {o: sum(len(g.keys) for g in found if g.outcome == o) for o in NOT_SENT}
    counts = ", ".join(f"{n} {o}" for o, n in total.items() if n)
    lines = ["", f"Not synced ({counts}):"]
    for g in shown:
        records = [names.get((g.entity, k), k) for k in g.keys[:KEYS_SHOWN]]
        more = ", …" if len(g.keys) > KEYS_SHOWN else ""
        lines.append(
            f"  {g.entity}: {len(g.keys)} {g.outcome} — {g.reason}"
            f" ({', '.join(records)}{more})"
        )
    if len(found) > cap:
        lines.append(f"  … and {len(found) - cap} more reason(s)")
    run = f" --run {result.run_id}" if result.run_id is not None else ""
    if result.run_id is not None:
        lines.append(f"Every record: pxflask sync-log{run}")
    return lines


def _labels(labels: Labeller | None, entity: str, keys: list[str]) -> dict[str, str]:
    """Labels of some records; their keys alone when labelling fails."""
    if labels is None:
        return {}
    try:
        return labels(entity, keys)
    except Exception:  # a label is cosmetic: never lose the summary for it
        log.exception("could not label %s records", entity)
        return {}


def labeller(perfex: PerfexDB, session: SessionLike) -> Labeller:
    """Invoices and credit notes by their Perfex number, others by kind and id."""

    def label(entity: str, keys: Sequence[str]) -> dict[str, str]:
        sent = dict(
            session.execute(
                select(Link.perfex_key, Link.xero_number).where(
                    Link.entity == entity,
                    Link.perfex_key.in_(list(keys)),
                    Link.xero_number.is_not(None),
                )
            ).all()
        )
        out = {k: str(v) for k, v in sent.items() if v}
        ids = [int(k) for k in keys if k.isdigit() and k not in out]
        if entity == "invoices" and ids:
            from pxflask.perfex.reads import read_invoices
            from pxflask.sync.entities.invoices.mapper import invoice_number

            for inv in read_invoices(perfex, ids=ids):
                out[str(inv.id)] = invoice_number(inv)
        singular = {"customers": "customer", "payments": "payment"}.get(entity)
        for k in keys:
            if k not in out and singular and k.isdigit():
                out[k] = f"{singular} {k}"
        return out

    return label


# -------------------------------------------------------------- sync-log


def last_run_id(session: SessionLike) -> int | None:
    """The newest run that wrote log rows (None: the log is empty)."""
    return session.scalar(select(func.max(SyncLog.run_id)))


def log_rows(
    session: SessionLike,
    run_id: int,
    entity: str | None = None,
    outcomes: Iterable[str] | None = NOT_SENT,
) -> list[SyncLog]:
    """Log rows of one run (an entity, some outcomes; None: all), as written."""
    query = select(SyncLog).where(SyncLog.run_id == run_id)
    if outcomes is not None:
        query = query.where(SyncLog.outcome.in_(list(outcomes)))
    if entity:
        query = query.where(SyncLog.entity == entity)
    return list(session.scalars(query.order_by(SyncLog.id)))


def run_title(session: SessionLike, run_id: int) -> str:
    """One line about a run: id, scope, status, when."""
    run = session.get(SyncRun, run_id)
    if run is None:
        return f"run {run_id}"
    when = run.started_at or run.created_at
    return f"run {run.id} ({run.scope}, {run.status}, {when:%Y-%m-%d %H:%M} UTC)"


def log_lines(
    session: SessionLike,
    perfex: Callable[[], PerfexDB],
    run_id: int | None = None,
    entity: str | None = None,
    outcomes: Sequence[str] = (),
) -> list[str]:
    """`pxflask sync-log`: one line per log row of a run (default: the latest).

    No outcomes: failed, skipped and blocked rows; "all" among them: every row.
    """
    run_id = run_id if run_id is not None else last_run_id(session)
    if run_id is None:
        return ["the sync log is empty: no run has written to it yet"]
    wanted = None if "all" in outcomes else (tuple(outcomes) or NOT_SENT)
    rows = log_rows(session, run_id, entity, wanted)
    lines = [f"{run_title(session, run_id)}: {len(rows)} record(s)"]
    by_entity: dict[str, set[str]] = {}
    for row in rows:
        if row.perfex_key:
            by_entity.setdefault(row.entity, set()).add(row.perfex_key)
    label = labeller(perfex(), session) if by_entity else None
    names = {
        (e, k): v
        for e, keys in by_entity.items()
        for k, v in _labels(label, e, sorted(keys)).items()
    }
    for row in rows:
        key = row.perfex_key or "-"
        name = names.get((row.entity, key))
        plain = not name or name == key or name.endswith(f" {key}")
        shown = key if plain else f"{key} ({name})"
        lines.append(
            f"{row.entity} {shown} {row.outcome} {row.action}:"
            f" {row.message or 'no reason given'}"
        )
    return lines
