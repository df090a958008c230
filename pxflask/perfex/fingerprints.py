"""Invoice fingerprints: one checksum per invoice of everything a sync sends."""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import NullType

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.documents import INVOICES, REL_INVOICE, header_names


def _crc32(value: object) -> int | None:
    """CRC32 of a text value like MySQL's CRC32() (for SQLite)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return zlib.crc32(value)
    return zlib.crc32(str(value).encode("utf-8"))


def _ensure_crc32(conn: sa.Connection) -> None:
    """Register crc32() on a SQLite connection (MySQL has it built in)."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("the SQLite connection is closed")
        raw.create_function("crc32", 1, _crc32, deterministic=True)


# Invoice header columns the fingerprint leaves out, and long texts it folds to CRC32.
_NOT_FINGERPRINTED = ("id", "datecreated")
_FINGERPRINT_CRC = ("clientnote", "terms")


def invoice_fingerprints(
    db: PerfexDB, *conds: sa.ColumnElement[bool]
) -> dict[int, str]:
    """Invoice id -> checksum of its content (row, lines, taxes), in one query.

    The checksum changes when anything a sync sends changes: the header columns
    read (INVOICES.columns, notes as CRC32s), and each line's text, quantity, price,
    unit, order and taxes. Lines and taxes are folded in with order-independent
    sums of CRC32s, so it is a change detector, not a cryptographic digest. Extra
    WHERE conditions (see invoice_conditions) narrow the invoices.
    """
    inv = db.tables.invoices
    li = db.tables.itemable
    tx = db.tables.item_tax
    f, crc = sa.func, sa.func.crc32

    def text(col: sa.ColumnElement[object]) -> sa.ColumnElement[object]:
        return crc(f.coalesce(col, ""))

    line_aggs = [
        f.count(),
        f.sum(li.c.qty),
        f.sum(li.c.rate),
        f.sum(li.c.qty * li.c.rate),
        f.sum(li.c.id * li.c.rate),
        f.sum(text(li.c.description)),
        f.sum(text(li.c.long_description)),
        f.sum(text(li.c.unit)),
        f.sum(f.coalesce(li.c.item_order, 0) * text(li.c.description)),
        f.sum(li.c.id),
    ]
    if db.has_optional_lines:
        line_aggs.append(f.sum(li.c.is_optional + 2 * li.c.is_selected))
    lines = _aggregate(li, REL_INVOICE, line_aggs, "l")
    tax_aggs = [
        f.count(),
        f.sum(tx.c.taxrate),
        f.sum(tx.c.itemid * tx.c.taxrate),
        f.sum(text(tx.c.taxname)),
        f.sum(tx.c.itemid * text(tx.c.taxname)),
    ]
    taxes = _aggregate(tx, REL_INVOICE, tax_aggs, "t")
    names = header_names(db, INVOICES)
    head = [
        text(inv.c[name]) if name in _FINGERPRINT_CRC else inv.c[name]
        for name in names
        if name not in _NOT_FINGERPRINTED
    ]
    stmt = (
        sa.select(
            inv.c.id,
            *(sa.type_coerce(c, NullType()) for c in head),
            *(c for c in lines.c if c.name != "rel_id"),
            *(c for c in taxes.c if c.name != "rel_id"),
        )
        .select_from(
            inv.outerjoin(lines, lines.c.rel_id == inv.c.id).outerjoin(
                taxes, taxes.c.rel_id == inv.c.id
            )
        )
        .where(*conds)
        .order_by(inv.c.id)
    )
    with db.engine.connect() as conn:
        _ensure_crc32(conn)
        rows = conn.execute(stmt).all()
    blake = hashlib.blake2b
    return {
        row[0]: blake(repr(tuple(row[1:])).encode(), digest_size=12).hexdigest()
        for row in rows
    }


def _aggregate(
    table: sa.Table, rel_type: str, aggs: list[Any], label: str
) -> sa.Subquery:
    """Per-document aggregates of a line or tax table, as a subquery."""
    return (
        sa.select(
            table.c.rel_id.label("rel_id"),
            *(
                sa.type_coerce(a, NullType()).label(f"{label}{i}")
                for i, a in enumerate(aggs)
            ),
        )
        .where(table.c.rel_type == rel_type)
        .group_by(table.c.rel_id)
        .subquery(label)
    )
