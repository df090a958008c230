"""The Perfex side of the reconciliation: invoices and payments as frames (no Flask).

One query each for invoices (with customer names), payments and applied credits;
amounts go from ``Decimal`` to integer cents, never through floats.  The paid amount
of an invoice is its payments plus the credits applied to it (``credit_cents`` says how
much of it is credits, for a comparison while credit notes are not synced).  The
subtotal compared
is Perfex's total minus its tax, as Xero's SubTotal is: the sync sends discounts, the
adjustment and rounding as lines (Perfex's own ``subtotal`` column is before all
three).

Rows are read as the driver returns them and checked as the sync checks them
(``perfex.damage``): a zero or unreadable date, a NULL or unreadable amount, a NULL
in a NOT NULL column.  Such a row is left out of the frame and reported as
``Unreadable`` (kind, id, number, reason) instead of failing the whole report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pxflask.perfex import damage
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.numbering import format_invoice_number
from pxflask.perfex.reads import number_padding, read_customers
from pxflask.perfex.records import INVOICE_STATUS_NAMES, present
from pxflask.reconcile.frames import (
    perfex_invoices_frame,
    perfex_payments_frame,
    to_cents,
)

__all__ = [
    "PERFEX_INVOICE_COLUMNS",
    "Unreadable",
    "cents",
    "customer_names",
    "perfex_invoice_count",
    "perfex_invoices",
    "perfex_payments",
    "set_aside",
]

PERFEX_INVOICE_COLUMNS = (
    "perfex_id",
    "invoice_number",
    "customer_id",
    "customer_name",
    "date",
    "due_date",
    "currency",
    "subtotal_cents",
    "tax_cents",
    "total_cents",
    "paid_cents",
    "status",
    "credit_cents",
)


@dataclass(frozen=True)
class Unreadable:
    """A Perfex record the report could not read, and why (fix it in Perfex)."""

    kind: str  # invoice, payment, credit, expense
    perfex_id: int
    label: str  # its number or reference, as far as it can be read
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the cached report's meta data)."""
        return asdict(self)


def cents(value: Decimal | int | str | None) -> int:
    """Cents of a Perfex/Xero amount; missing counts as zero."""
    return 0 if value is None else to_cents(value)


def _driver_rows(conn: sa.Connection, stmt: sa.Select) -> list[Sequence[Any]]:
    """The driver's tuples, past SQLAlchemy's result types (damaged values stay raw)."""
    result = conn.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into columns."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _paid_by_invoice(
    conn: sa.Connection, db: PerfexDB, unreadable: list[Unreadable]
) -> tuple[dict[int, int], dict[int, int]]:
    """Cents received per invoice (payments plus applied credits), and the credits."""
    pay = db.tables.invoicepaymentrecords
    paid: dict[int, int] = {}
    credited: dict[int, int] = {}
    stmt = sa.select(pay.c.id, pay.c.invoiceid, pay.c.amount)
    for _, invoice_id, amount in _driver_rows(conn, stmt):
        money = damage.to_money(amount)
        if money is not None:
            paid[invoice_id] = paid.get(invoice_id, 0) + to_cents(money)
    if db.columns.get("credits"):
        cr = db.tables.credits
        stmt = sa.select(cr.c.id, cr.c.invoice_id, cr.c.amount).order_by(cr.c.id)
        for credit_id, invoice_id, amount in _driver_rows(conn, stmt):
            money = damage.to_money(amount)
            if money is None:
                reason = damage.money_problem("amount", amount)
                unreadable.append(
                    Unreadable("credit", credit_id, f"credit {credit_id}", reason)
                )
                continue
            paid[invoice_id] = paid.get(invoice_id, 0) + to_cents(money)
            credited[invoice_id] = credited.get(invoice_id, 0) + to_cents(money)
    return paid, credited


def customer_names(db: PerfexDB) -> dict[int, str]:
    """Customer id -> the name the sync gives the customer's Xero contact."""
    from pxflask.sync.entities.customers.mapper import contact_name

    return {c.id: contact_name(c) for c in read_customers(db)}


def perfex_invoice_count(db: PerfexDB) -> int:
    """How many invoices Perfex holds (to size a refresh)."""
    inv = db.tables.invoices
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count(inv.c.id))).scalar() or 0)


def _invoice_select(db: PerfexDB) -> sa.Select:
    """Invoices with customer company and currency name, by id."""
    inv, cl, cur = db.tables.invoices, db.tables.clients, db.tables.currencies
    cols: list[Any] = [
        inv.c.id,
        inv.c.number,
        inv.c.prefix,
        inv.c.number_format,
        inv.c.clientid,
        cl.c.company,
        inv.c.date,
        inv.c.duedate,
        cur.c.name,
        inv.c.total_tax,
        inv.c.total,
        inv.c.status,
        inv.c.formatted_number if db.has_invoice_formatted_number else sa.null(),
        inv.c.deleted_customer_name
        if db.has_column("invoices", "deleted_customer_name")
        else sa.null(),
    ]
    return (
        sa.select(*cols)
        .select_from(
            inv.outerjoin(cl, cl.c.userid == inv.c.clientid).outerjoin(
                cur, cur.c.id == inv.c.currency
            )
        )
        .order_by(inv.c.id)
    )


def _invoice_label(row: Sequence[Any], day: Any, status: int, padding: int) -> str:
    """An invoice's number as Perfex shows it; a plain one when it lacks a date."""
    if day is not None and row[1] is not None:
        return format_invoice_number(row[1], row[2], row[3] or 0, day, status, padding)
    return row[12] or f"{row[2] or ''}{'' if row[1] is None else row[1]}"


def perfex_invoices(
    db: PerfexDB, unreadable: list[Unreadable] | None = None
) -> pd.DataFrame:
    """Every readable Perfex invoice as a validated ``PERFEX_INVOICES`` frame.

    Damaged invoices are left out and appended to ``unreadable`` when given.
    """
    found: list[Unreadable] = [] if unreadable is None else unreadable
    with db.engine.connect() as conn:
        padding = number_padding(conn, db)
        paid, credited = _paid_by_invoice(conn, db, found)
        rows = _driver_rows(conn, _invoice_select(db))
    cols = _columns(rows, 14)
    ids, bad = cols[0], damage.Damage()
    for index, name in ((1, "number"), (4, "clientid")):
        damage.check_present(ids, cols[index], name, bad)
    days = damage.check_dates(ids, cols[6], "date", bad)
    dues = damage.check_dates(ids, cols[7], "duedate", bad, required=False)
    taxes = damage.check_money(ids, cols[9], "total_tax", bad)
    totals = damage.check_money(ids, cols[10], "total", bad)
    names = customer_names(db)
    records = []
    for i, r in enumerate(rows):
        status = r[11] if r[11] is not None else 1
        number = _invoice_label(r, days[i], status, padding)
        if r[0] in bad:
            found.append(Unreadable("invoice", r[0], number, bad[r[0]]))
            continue
        records.append(
            {
                "perfex_id": r[0],
                "invoice_number": number,
                "customer_id": r[4],
                "customer_name": names.get(r[4]) or r[5] or r[13] or None,
                "date": days[i],
                "due_date": dues[i],
                "currency": (r[8] or "").upper(),
                "subtotal_cents": to_cents(present(totals[i]))
                - to_cents(present(taxes[i])),
                "tax_cents": to_cents(present(taxes[i])),
                "total_cents": to_cents(present(totals[i])),
                "paid_cents": paid.get(r[0], 0),
                "status": INVOICE_STATUS_NAMES.get(status, f"status-{status}"),
                "credit_cents": credited.get(r[0], 0),
            }
        )
    if not records:
        return perfex_invoices_frame(_empty_records(PERFEX_INVOICE_COLUMNS))
    return perfex_invoices_frame(records)


def _empty_records(columns: Iterable[str]) -> pd.DataFrame:
    """An empty frame with these columns (dtypes come from the schema)."""
    return pd.DataFrame({c: [] for c in columns})


def perfex_payments(
    db: PerfexDB,
    invoices: pd.DataFrame | None = None,
    unreadable: list[Unreadable] | None = None,
) -> pd.DataFrame:
    """Every readable Perfex payment as a validated ``PERFEX_PAYMENTS`` frame.

    ``invoices`` (the frame of ``perfex_invoices``) supplies each payment's invoice
    number and currency; without it they are read again.  Damaged payments are left
    out and appended to ``unreadable`` when given.
    """
    if invoices is None:
        invoices = perfex_invoices(db)
    pay = db.tables.invoicepaymentrecords
    stmt = sa.select(
        pay.c.id, pay.c.invoiceid, pay.c.amount, pay.c.paymentmode, pay.c.date
    ).order_by(pay.c.id)
    with db.engine.connect() as conn:
        rows = _driver_rows(conn, stmt)
    cols = _columns(rows, 5)
    bad: damage.Damage = {}
    amounts = damage.check_money(cols[0], cols[2], "amount", bad)
    days = damage.check_dates(cols[0], cols[4], "date", bad)
    keep = [i for i, key in enumerate(cols[0]) if key not in bad]
    if unreadable is not None:
        unreadable.extend(
            Unreadable("payment", key, f"payment {key}", bad[key])
            for key in cols[0]
            if key in bad
        )
    frame = pd.DataFrame(
        {
            "perfex_payment_id": pd.Series([cols[0][i] for i in keep], dtype="int64"),
            "perfex_invoice_id": pd.Series(
                [cols[1][i] or 0 for i in keep], dtype="int64"
            ),
            "amount_cents": pd.Series(
                [to_cents(present(amounts[i])) for i in keep], dtype="int64"
            ),
            "mode": pd.Series(
                [None if cols[3][i] in (None, "") else str(cols[3][i]) for i in keep],
                dtype="str",
            ),
            "date": pd.Series([days[i] for i in keep], dtype="object"),
        }
    )
    by_id = invoices.set_index("perfex_id")
    at = by_id.index.get_indexer(frame["perfex_invoice_id"])
    known = at >= 0
    numbers = by_id["invoice_number"].array.take(at, allow_fill=True)
    currency = by_id["currency"].array.take(at, allow_fill=True)
    frame["invoice_number"] = pd.Series(numbers, dtype="str")
    frame["currency"] = pd.Series(currency, dtype="str").where(known, "")
    return perfex_payments_frame(frame)


def set_aside(
    xero: pd.DataFrame,
    entity: str,
    links: pd.DataFrame,
    unreadable: Iterable[Unreadable],
) -> pd.DataFrame:
    """Xero rows (``invoices`` or ``payments``) without those linked to unreadable
    Perfex records: such a row is not 'missing in Perfex', its record is listed."""
    kind, key = _SET_ASIDE[entity]
    ids = [u.perfex_id for u in unreadable if u.kind == kind]
    if not ids or xero.empty or links.empty:
        return xero
    mine = links[(links["entity"] == entity) & links["perfex_id"].isin(ids)]
    if mine.empty:
        return xero
    return xero[~xero[key].isin(list(mine["xero_id"]))].reset_index(drop=True)


_SET_ASIDE = {
    "invoices": ("invoice", "xero_invoice_id"),
    "payments": ("payment", "xero_payment_id"),
}
