"""Cheap change detection on the Perfex tables, for real-time sync (no Flask).

Each watched table gets one aggregate query per tick: row count, highest id and a
few sums over numeric columns and text lengths, split at the highest id seen last
time. Rows above that id are new (their ids are read and synced one by one); a
change in the aggregates of the older rows means something was edited or deleted,
and the whole entity is synced (the engine's content hashes find which records).
The sums are a heuristic: an edit that keeps every summed value equal goes unseen
until the next scheduled or manual sync.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB

MAX_NEW_KEYS = 200


@dataclass(frozen=True)
class Watch:
    """One Perfex table watched on behalf of an entity."""

    entity: str
    table: str
    key: str
    numbers: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    owner_key: str | None = None


WATCHES: tuple[Watch, ...] = (
    Watch("taxes", "taxes", "id", ("taxrate",), ("name",)),
    Watch("payment-modes", "payment_modes", "id", ("active",), ("name",)),
    Watch(
        "customers",
        "clients",
        "userid",
        ("active", "country"),
        ("company", "vat", "phonenumber", "billing_street", "billing_city"),
    ),
    Watch(
        "customers",
        "contacts",
        "id",
        ("is_primary", "active"),
        ("firstname", "lastname", "email"),
        owner_key="userid",
    ),
    Watch(
        "items",
        "items",
        "id",
        ("rate", "tax", "tax2"),
        ("description", "long_description", "unit"),
    ),
    Watch(
        "invoices",
        "invoices",
        "id",
        ("status", "total", "subtotal", "total_tax", "clientid", "currency"),
        ("clientnote", "terms"),
    ),
    Watch(
        "payments",
        "invoicepaymentrecords",
        "id",
        ("amount", "invoiceid"),
        ("paymentmode", "transactionid", "note"),
    ),
)


@dataclass(frozen=True)
class Change:
    """What a tick found for one entity: new keys, or the whole entity changed."""

    entity: str
    keys: tuple[str, ...] = ()
    everything: bool = False


def _as_text(value: object) -> str:
    """A stable text form of an aggregate value."""
    return "" if value is None else str(value)


def _columns(perfex: PerfexDB, watch: Watch) -> tuple[sa.Table, list[str], list[str]]:
    """The table and the watched columns that exist in this Perfex install."""
    table = perfex.tables.table(watch.table)
    numbers = [c for c in watch.numbers if c in table.c]
    texts = [c for c in watch.texts if c in table.c]
    return table, numbers, texts


def fingerprint_query(perfex: PerfexDB, watch: Watch, below: int) -> sa.Select:
    """One aggregate query: totals of the rows up to `below`, and the highest id."""
    table, numbers, texts = _columns(perfex, watch)
    pk = table.c[watch.key]
    old = pk <= below
    parts: list[sa.ColumnElement] = [
        sa.func.max(pk),
        sa.func.count(sa.case((old, 1))),
        sa.func.sum(sa.case((old, pk), else_=0)),
    ]
    for name in numbers:
        col = sa.func.coalesce(table.c[name], 0)
        parts.append(sa.func.sum(sa.case((old, col), else_=0)))
        parts.append(sa.func.sum(sa.case((old, col * (pk % 1009)), else_=0)))
    for name in texts:
        length = sa.func.coalesce(sa.func.length(table.c[name]), 0)
        parts.append(sa.func.sum(sa.case((old, length * (pk % 1013)), else_=0)))
    return sa.select(*parts).select_from(table)


def table_marks(perfex: PerfexDB, watch: Watch, below: int) -> tuple[int, str]:
    """The highest id and the aggregate mark of the rows up to `below`."""
    with perfex.engine.connect() as conn:
        row = conn.execute(fingerprint_query(perfex, watch, below)).one()
    top = int(row[0] or 0)
    return top, "|".join(_as_text(value) for value in row[1:])


def new_keys(perfex: PerfexDB, watch: Watch, above: int) -> list[str]:
    """Keys of the rows above `above` (or their owners' keys), at most MAX_NEW_KEYS."""
    table = perfex.tables.table(watch.table)
    column = table.c[watch.owner_key or watch.key]
    query = (
        sa.select(column)
        .where(table.c[watch.key] > above)
        .order_by(table.c[watch.key])
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
) -> list[Change]:
    """Compare each watched table with its stored mark; return what changed."""
    found: dict[str, Change] = {}
    for watch in WATCHES:
        if watch.entity not in entities:
            continue
        name = f"watch:{watch.table}"
        stored = read_mark(name)
        previous = json.loads(stored) if stored else None
        below = previous["top"] if previous else 0
        top, mark = table_marks(perfex, watch, below)
        if previous is None:
            top, mark = table_marks(perfex, watch, top)
            write_mark(name, json.dumps({"top": top, "mark": mark}))
            continue  # first look: remember, do not sync everything
        change: Change | None = None
        if mark != previous["mark"]:
            change = Change(watch.entity, everything=True)
        elif top > below:
            keys = new_keys(perfex, watch, below)
            if len(keys) > MAX_NEW_KEYS:
                change = Change(watch.entity, everything=True)
            else:
                change = Change(watch.entity, keys=tuple(keys))
        if top != below or change is not None:
            top, mark = table_marks(perfex, watch, top)
            write_mark(name, json.dumps({"top": top, "mark": mark}))
        if change is not None:
            found[watch.entity] = _merge(found.get(watch.entity), change)
    return list(found.values())


def _merge(first: Change | None, second: Change) -> Change:
    """Two changes of one entity as one."""
    if first is None:
        return second
    if first.everything or second.everything:
        return Change(second.entity, everything=True)
    keys = sorted(set(first.keys) | set(second.keys), key=lambda k: (len(k), k))
    return Change(second.entity, keys=tuple(keys))
