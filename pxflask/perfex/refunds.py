"""Credit-note refunds (tblcreditnote_refunds): the read and the writes from Xero.

tblcreditnote_refunds is optional (older Perfex databases lack it): `has_refunds`
says whether this database has it. Perfex closes a credit note (status 2) when
its applied credits plus its refunds equal its total, and opens it again (1)
when they no longer do; the writes here do the same in their transaction. The
table has no transaction id: a refund recorded from Xero carries the Xero
PaymentID in its note, which is how it is found again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex import damage
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.query import chunks, raw_rows
from pxflask.perfex.records import (
    CREDIT_NOTE_CLOSED,
    CREDIT_NOTE_OPEN,
    CREDIT_NOTE_VOID,
)
from pxflask.perfex.totals import round_money

ZERO = Decimal("0.00")
TABLE = "creditnote_refunds"


@dataclass(frozen=True, slots=True)
class CreditRefund:
    """Money paid back on a credit note (a tblcreditnote_refunds row)."""

    id: int
    credit_note_id: int
    amount: Decimal | None
    date: dt.date | None
    mode: str | None
    note: str | None
    damaged: str | None = None
    """Why the record cannot be used as stored (column and value), else None."""


class RefundRefused(ValueError):
    """Perfex cannot take this refund: the credit note is gone, void or used up."""


def has_refunds(db: PerfexDB) -> bool:
    """True when this Perfex database has tblcreditnote_refunds."""
    return bool(db.columns.get(TABLE))


def read_credit_refunds(
    db: PerfexDB, ids: Iterable[int] | None = None
) -> list[CreditRefund]:
    """Credit-note refunds ordered by id ([] when the table does not exist)."""
    if not has_refunds(db):
        return []
    r = db.tables.creditnote_refunds
    stmt = sa.select(
        r.c.id, r.c.credit_note_id, r.c.amount, r.c.refunded_on, r.c.payment_mode
    ).order_by(r.c.id)
    if "note" in r.c:
        stmt = stmt.add_columns(r.c.note)
    with db.engine.connect() as conn:
        if ids is None:
            rows = list(raw_rows(conn, stmt))
        else:
            rows = [
                row
                for ch in chunks(ids)
                for row in raw_rows(conn, stmt.where(r.c.id.in_(ch)))
            ]
    if not rows:
        return []
    rows.sort(key=lambda row: row[0])
    cols = list(zip(*rows, strict=True))
    keys, damaged = cols[0], damage.Damage()
    amounts = damage.check_money(keys, cols[2], "amount", damaged)
    days = damage.check_dates(keys, cols[3], "refunded_on", damaged)
    return [
        CreditRefund(
            int(row[0]),
            int(row[1] or 0),
            amount,
            day,
            _mode(row[4]),
            row[5] if len(row) > 5 else None,
            damaged.get(row[0]),
        )
        for row, amount, day in zip(rows, amounts, days, strict=True)
    ]


def _mode(value: object) -> str | None:
    """A stored payment mode (a mode id as text or a gateway id), None when empty."""
    text = "" if value is None else str(value).strip()
    return text or None


def _used(conn: sa.Connection, db: PerfexDB, credit_note_id: int) -> Decimal:
    """Credits applied plus refunds of a credit note."""
    cr, rf = db.tables.credits, db.tables.creditnote_refunds
    used = ZERO
    for table, key in ((cr, cr.c.credit_id), (rf, rf.c.credit_note_id)):
        total = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(table.c.amount), 0)).where(
                key == credit_note_id
            )
        ).scalar()
        used += Decimal(str(total))
    return round_money(used)


def _refresh_status(conn: sa.Connection, db: PerfexDB, credit_note_id: int) -> None:
    """Close the credit note when nothing is left, open it again otherwise."""
    cn = db.tables.creditnotes
    row = conn.execute(
        sa.select(cn.c.status, cn.c.total).where(cn.c.id == credit_note_id)
    ).first()
    if row is None or row[0] == CREDIT_NOTE_VOID:
        return
    left = round_money(Decimal(str(row[1]))) - _used(conn, db, credit_note_id)
    status = CREDIT_NOTE_CLOSED if left <= 0 else CREDIT_NOTE_OPEN
    if status != row[0]:
        conn.execute(cn.update().where(cn.c.id == credit_note_id).values(status=status))


def find_refund(
    conn: sa.Connection, db: PerfexDB, credit_note_id: int, marker: str
) -> int | None:
    """The id of the credit note's refund whose note holds `marker`, or None."""
    rf = db.tables.creditnote_refunds
    found = conn.execute(
        sa.select(rf.c.id)
        .where(rf.c.credit_note_id == credit_note_id, rf.c.note.contains(marker))
        .order_by(rf.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def record_refund_once(
    db: PerfexDB,
    credit_note_id: int,
    amount: Decimal,
    on: dt.date,
    mode: str | None,
    *,
    marker: str,
    note: str,
    staff_id: int = 0,
) -> tuple[int, bool]:
    """Record a refund unless the credit note has one whose note holds `marker`.

    Returns (refund id, created). One transaction with the credit note row
    locked: a void or missing credit note, or an amount above the credit left,
    raises RefundRefused; the credit note is closed when nothing is left.
    """
    amount = round_money(Decimal(amount))
    if amount <= ZERO:
        raise RefundRefused(f"amount {amount} is not positive")
    cn, rf = db.tables.creditnotes, db.tables.creditnote_refunds
    with db.engine.begin() as conn:
        row = conn.execute(
            sa.select(cn.c.status, cn.c.total)
            .where(cn.c.id == credit_note_id)
            .with_for_update()
        ).first()
        if row is None:
            raise RefundRefused(f"credit note {credit_note_id} is not in Perfex")
        existing = find_refund(conn, db, credit_note_id, marker)
        if existing is not None:
            return existing, False
        if row[0] == CREDIT_NOTE_VOID:
            raise RefundRefused(f"credit note {credit_note_id} is void in Perfex")
        left = round_money(Decimal(str(row[1]))) - _used(conn, db, credit_note_id)
        if amount > left:
            raise RefundRefused(
                f"amount {amount} is above the credit left in Perfex on credit note"
                f" {credit_note_id} ({max(left, ZERO)})"
            )
        result = conn.execute(
            rf.insert().values(
                credit_note_id=credit_note_id,
                staff_id=staff_id,
                refunded_on=on,
                payment_mode="" if mode is None else str(mode),
                note=note,
                amount=amount,
                created_at=dt.datetime.now().replace(microsecond=0),
            )
        )
        key = result.inserted_primary_key
        if key is None:
            raise TypeError("the INSERT reported no primary key")
        _refresh_status(conn, db, credit_note_id)
    return int(key[0]), True


def delete_refund(db: PerfexDB, refund_id: int, *, marker: str) -> bool:
    """Delete a refund recorded from Xero; False when not there.

    A row whose note no longer holds `marker` raises RefundRefused (it is not the
    refund meant). The credit note opens again when credit is left.
    """
    rf = db.tables.creditnote_refunds
    with db.engine.begin() as conn:
        row = conn.execute(
            sa.select(rf.c.credit_note_id, rf.c.note).where(rf.c.id == refund_id)
        ).first()
        if row is None:
            return False
        if marker not in str(row[1] or ""):
            raise RefundRefused(
                f"refund {refund_id} no longer names Xero payment {marker} in Perfex"
            )
        conn.execute(rf.delete().where(rf.c.id == refund_id))
        _refresh_status(conn, db, int(row[0]))
    return True
