"""Row helpers of the seed: free ids, executemany inserts, options and random values."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed.catalogue import D

# ---------------------------------------------------------------------- helpers


def slug(text: str) -> str:
    """ASCII letters/digits of a name, lower-case, for emails and websites."""
    plain = unicodedata.normalize("NFKD", text.lower())
    out = "".join(ch for ch in plain if ch.isascii() and ch.isalnum())
    return out or "customer"


def random_phone(rng: random.Random) -> str:
    """A made-up international phone number."""
    return f"+{rng.randint(1, 99)} {rng.randint(1000000, 9999999)}"


def random_money(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount in [low, high] with cents."""
    return D(rng.randint(low * 100, high * 100)) / 100


def php_serialize(values: Sequence[str]) -> str:
    """A PHP-serialized list of strings (allowed_payment_modes)."""
    parts = "".join(f'i:{i};s:{len(v.encode())}:"{v}";' for i, v in enumerate(values))
    return f"a:{len(values)}:{{{parts}}}"


def next_free_id(conn: sa.Connection, table: sa.Table) -> int:
    """max(pk) + 1 for a table."""
    pk = next(iter(table.primary_key.columns))
    return (
        int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(pk), 0))).scalar_one())
        + 1
    )


def insert_rows(conn: sa.Connection, db: PerfexDB, name: str, rows: list[dict]) -> None:
    """executemany insert, keeping only the columns this database has."""
    if not rows:
        return
    present = db.columns[name]
    keys = [key for key in rows[0] if key in present]
    if len(keys) != len(rows[0]):
        rows = [{key: row[key] for key in keys} for row in rows]
    conn.execute(db.tables.table(name).insert(), rows)


def ensure_rows(
    conn: sa.Connection,
    db: PerfexDB,
    name: str,
    key_cols: Sequence[str],
    rows: list[dict],
) -> dict[tuple, int]:
    """Insert rows whose key is absent; return key -> id for all given rows."""
    table = db.tables.table(name)
    pk = next(iter(table.primary_key.columns))
    cols = [table.c[c] for c in key_cols]
    existing: dict[tuple, int] = {}
    for stored in conn.execute(sa.select(pk, *cols).order_by(pk)):
        existing.setdefault(tuple(stored[1:]), stored[0])
    missing = [r for r in rows if tuple(r[c] for c in key_cols) not in existing]
    next_id = next_free_id(conn, table)
    for offset, row in enumerate(missing):
        row[pk.name] = next_id + offset
        existing[tuple(row[c] for c in key_cols)] = next_id + offset
    insert_rows(conn, db, name, missing)
    return {
        tuple(r[c] for c in key_cols): existing[tuple(r[c] for c in key_cols)]
        for r in rows
    }


def set_option(conn: sa.Connection, db: PerfexDB, name: str, value: str) -> None:
    """Update an option's value."""
    opt = db.tables.options
    conn.execute(opt.update().where(opt.c.name == name).values(value=value))
