"""Cheap change detection on the Perfex tables, for real-time sync (no Flask).

Each watched table gets one statement per tick, which scans the table once: row
count, highest id and a few sums over numeric columns and text lengths, for all
rows and (through the primary key) for the rows above the highest id seen last
time; their difference is the mark of the older rows. Rows above that id are new
(their ids are read and synced one by one); a change in the mark of the older
rows means something was edited or deleted, and the whole entity is synced (the
engine's content hashes find which records). The sums are exact (DECIMAL, or
integer cents on SQLite, whose sums would be floats) and a heuristic: an edit
that keeps every summed value equal goes unseen until the next scheduled or
manual sync. The first look after a start or a pause (real time switched off,
worker stopped) queues an incremental sync of each entity synced before, which
compares Perfex with the last sync's stored fingerprints (`detect_changes`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.sync.registry import REGISTRY, Watch

MAX_NEW_KEYS = 200
MARK_VERSION = 2
"""Part of the stored marks' names: marks of another version are not compared."""
LOOK = f"watch:v{MARK_VERSION}:last-look"
"""When the watcher last looked (epoch seconds): a pause makes the next look a
first look, compared with the last sync rather than with stale marks."""


WATCHES: tuple[Watch, ...] = REGISTRY.watches()
"""The watched tables, each with its entity (from the sync registry)."""


@dataclass(frozen=True)
class Change:
    """What a tick found for one entity: new keys, or the whole entity changed."""

    entity: str
    keys: tuple[str, ...] = ()
    everything: bool = False


Number = int | Decimal


def _as_number(value: object) -> Number:
    """An aggregate value as an exact number (NULL, the sum of no rows, is 0)."""
    if value is None:
        return 0
    if isinstance(value, int | Decimal):
        return value
    return Decimal(str(value))


def _as_text(value: Number) -> str:
    """A stable text form of a number (100, 100.0 and 1E+2 all read "100")."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _columns(perfex: PerfexDB, watch: Watch) -> tuple[sa.Table, list[str], list[str]]:
    """The table and the watched columns that exist in this Perfex install."""
    table = perfex.tables.table(watch.table)
    numbers = [c for c in watch.numbers if c in table.c]
    texts = [c for c in watch.texts if c in table.c]
    return table, numbers, texts


def _exact(perfex: PerfexDB, column: sa.ColumnElement) -> sa.ColumnElement:
    """A numeric column whose sums are exact: cents as integers on SQLite."""
    value = sa.func.coalesce(column, 0)
    if perfex.engine.dialect.name == "sqlite":
        return sa.cast(sa.func.round(value * 100), sa.Integer)
    return value


def fingerprint_query(perfex: PerfexDB, watch: Watch, above: int) -> sa.CompoundSelect:
    """One scan: (0, highest id, totals) of all rows, (1, ..) of the rows above."""
    table, numbers, texts = _columns(perfex, watch)
    pk = table.c[watch.key]
    totals: list[sa.ColumnElement] = [sa.func.count(), sa.func.sum(pk)]
    for name in numbers:
        col = _exact(perfex, table.c[name])
        totals.append(sa.func.sum(col))
        totals.append(sa.func.sum(col * (pk % 1009)))
    for name in texts:
        length = sa.func.coalesce(sa.func.length(table.c[name]), 0)
        totals.append(sa.func.sum(length * (pk % 1013)))
    every = sa.select(sa.literal_column("0"), sa.func.max(pk), *totals)
    newer = sa.select(sa.literal_column("1"), sa.func.max(pk), *totals)
    return sa.union_all(
        every.select_from(table), newer.select_from(table).where(pk > above)
    )


def _mark(values: Sequence[Number]) -> str:
    """The mark text of some totals."""
    return "|".join(_as_text(value) for value in values)


def table_marks(perfex: PerfexDB, watch: Watch, below: int) -> tuple[int, str, str]:
    """The highest id, the mark of all rows and the mark of the rows up to `below`."""
    with perfex.engine.connect() as conn:
        rows = {
            int(row[0]): row[1:]
            for row in conn.execute(fingerprint_query(perfex, watch, below))
        }
    top = int(rows[0][0] or 0)
    every = [_as_number(value) for value in rows[0][1:]]
    newer = [_as_number(value) for value in rows[1][1:]]
    older = [total - new for total, new in zip(every, newer, strict=True)]
    return top, _mark(every), _mark(older)


def new_keys(perfex: PerfexDB, watch: Watch, above: int, upto: int) -> list[str]:
    """Keys of the rows in (above, upto] (or their owners' keys): MAX_NEW_KEYS + 1."""
    table = perfex.tables.table(watch.table)
    column = table.c[watch.owner_key or watch.key]
    pk = table.c[watch.key]
    query = (
        sa.select(column)
        .where(pk > above, pk <= upto)
        .order_by(pk)
        .limit(MAX_NEW_KEYS + 1)
    )
    with perfex.engine.connect() as conn:
        keys = [str(value) for value in conn.execute(query).scalars()]
    return sorted(set(keys), key=lambda k: (len(k), k))


def detect_changes(
    perfex: PerfexDB,
    entities: list[str],
    read_mark: Callable[[str], str | None],
    write_mark: Callable[[str, str], None],
    *,
    synced: Callable[[str], bool] | None = None,
    stale_after: float | None = None,
    now: float | None = None,
) -> list[Change]:
    """Compare each watched table with its stored mark; return what changed.

    With `synced` (entity -> it has been synced before), the first look after a
    start (no marks) or after a pause (the last look older than `stale_after`
    seconds: the watcher was stopped or real time was off) asks for an
    incremental sync of every synced entity: the engine compares Perfex with the
    fingerprints the last sync stored, so edits made meanwhile are not missed.
    """
    moment = time.time() if now is None else now
    last = read_mark(LOOK)
    paused = stale_after is not None and moment - _seconds(last) > stale_after
    first_look = synced is not None and (not last or paused)
    write_mark(LOOK, repr(moment))
    found: dict[str, Change] = {}
    for watch in WATCHES:
        if watch.entity not in entities or not perfex.columns.get(watch.table, True):
            continue  # not synced, or an optional table this database lacks
        name = f"watch:v{MARK_VERSION}:{watch.table}"
        stored = read_mark(name)
        previous = json.loads(stored) if stored else None
        below = previous["top"] if previous else 0
        top, mark, older = table_marks(perfex, watch, below)
        change: Change | None = None
        if previous is None or first_look:
            write_mark(name, json.dumps({"top": top, "mark": mark}))
            if first_look and synced is not None and synced(watch.entity):
                change = Change(watch.entity, everything=True)
        elif older != previous["mark"]:
            change = Change(watch.entity, everything=True)
        elif top > below:
            keys = new_keys(perfex, watch, below, top)
            if len(keys) > MAX_NEW_KEYS:
                change = Change(watch.entity, everything=True)
            else:
                change = Change(watch.entity, keys=tuple(keys))
        if previous is not None and not first_look:
            if top != below or mark != previous["mark"]:
                write_mark(name, json.dumps({"top": top, "mark": mark}))
        if change is not None:
            found[watch.entity] = _merge(found.get(watch.entity), change)
    return list(found.values())


def _seconds(text: str | None) -> float:
    """A stored epoch time (0 when absent or unreadable)."""
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _merge(first: Change | None, second: Change) -> Change:
    """Two changes of one entity as one."""
    if first is None:
        return second
    if first.everything or second.everything:
        return Change(second.entity, everything=True)
    keys = sorted(set(first.keys) | set(second.keys), key=lambda k: (len(k), k))
    return Change(second.entity, keys=tuple(keys))
