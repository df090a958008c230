"""The few writes pxflask makes to Perfex, each in its own transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDataError, PerfexDB
from pxflask.perfex.records import (
    INVOICE_CANCELLED,
    INVOICE_DRAFT,
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_PARTIALLY_PAID,
    INVOICE_UNPAID,
)
from pxflask.perfex.totals import round_money

ZERO = Decimal("0")


def _inserted_id(result: sa.CursorResult) -> int:
    """The primary key of the row an INSERT added."""
    key = result.inserted_primary_key
    if key is None:
        raise TypeError("the INSERT reported no primary key")
    return int(key[0])


def _same_name(column: sa.ColumnElement[str], name: str) -> sa.ColumnElement[bool]:
    """Case- and blank-insensitive name match."""
    return sa.func.lower(sa.func.trim(column)) == name.strip().lower()


def _clean_name(name: str, what: str) -> str:
    """A stripped, non-empty name."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise ValueError(f"{what} name must not be empty")
    return cleaned


def _named_row(
    conn: sa.Connection, table: sa.Table, name: str, description: str | None
) -> int | None:
    """The id of the first row with this name (description updated when given)."""
    row = conn.execute(
        sa.select(table.c.id, table.c.description)
        .where(_same_name(table.c.name, name))
        .order_by(table.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    if description is not None and row[1] != description:
        conn.execute(
            table.update().where(table.c.id == row[0]).values(description=description)
        )
    return int(row[0])


def upsert_tax(db: PerfexDB, name: str, rate: Decimal) -> int:
    """Return the id of the tax with this name and rate, creating it if absent."""
    name = _clean_name(name, "tax")
    rate = round_money(Decimal(rate))
    t = db.tables.taxes
    with db.engine.begin() as conn:
        found = conn.execute(
            sa.select(t.c.id)
            .where(_same_name(t.c.name, name), t.c.taxrate == rate)
            .order_by(t.c.id)
            .limit(1)
        ).scalar()
        if found is not None:
            return int(found)
        result = conn.execute(t.insert().values(name=name, taxrate=rate))
        return _inserted_id(result)


def upsert_payment_mode(
    db: PerfexDB,
    name: str,
    description: str | None = None,
    *,
    invoices_only: bool = False,
    expenses_only: bool = False,
) -> int:
    """Return the id of the payment mode with this name, creating it if absent.

    An existing mode keeps its flags; its description is updated when one is given.
    A new mode is never `selected_by_default` (Perfex would preselect it on every
    new invoice) and not shown on PDFs: customers see a mode only where an admin
    allows it.
    """
    name = _clean_name(name, "payment mode")
    pm = db.tables.payment_modes
    with db.engine.begin() as conn:
        found = _named_row(conn, pm, name, description)
        if found is not None:
            return found
        values: dict[str, object] = {
            "name": name,
            "description": description,
            "invoices_only": int(invoices_only),
            "expenses_only": int(expenses_only),
            "active": 1,
        }
        for column, default in (
            ("show_on_pdf", 0),
            ("selected_by_default", 0),
        ):
            if db.has_column("payment_modes", column):
                values[column] = default
        result = conn.execute(pm.insert().values(**values))
        return _inserted_id(result)


def correct_payment_mode(
    db: PerfexDB, mode_id: int, written: str, description: str | None
) -> bool:
    """Rewrite a mode pxflask wrote as `written`: new description, not preselected.

    Only a row whose description is still exactly `written` changes (an admin's
    edit or a mode made by hand is left alone); True when it changed.
    """
    pm = db.tables.payment_modes
    values: dict[str, object] = {"description": description}
    if db.has_column("payment_modes", "selected_by_default"):
        values["selected_by_default"] = 0
    with db.engine.begin() as conn:
        done = conn.execute(
            pm.update()
            .where(pm.c.id == mode_id, pm.c.description == written)
            .values(**values)
        )
        return bool(done.rowcount)


def upsert_expense_category(
    db: PerfexDB, name: str, description: str | None = None
) -> int:
    """Return the id of the expense category with this name, creating it if absent."""
    name = _clean_name(name, "expense category")
    ec = db.tables.expenses_categories
    with db.engine.begin() as conn:
        found = _named_row(conn, ec, name, description)
        if found is not None:
            return found
        result = conn.execute(ec.insert().values(name=name, description=description))
        return _inserted_id(result)


def invoice_status_for(
    total: Decimal,
    paid: Decimal,
    duedate: date | None,
    today: date,
) -> int:
    """The status Perfex's update_invoice_status() gives an invoice."""
    if total <= ZERO or paid >= total:
        return INVOICE_PAID
    if paid > ZERO:
        return INVOICE_PARTIALLY_PAID
    if duedate is not None and duedate < today:
        return INVOICE_OVERDUE
    return INVOICE_UNPAID


def _refresh_status(
    conn: sa.Connection, db: PerfexDB, invoice_id: int, today: date
) -> int | None:
    """Recompute an invoice's status from payments and credits; return it."""
    inv = db.tables.invoices
    pay = db.tables.invoicepaymentrecords
    cr = db.tables.credits
    row = conn.execute(
        sa.select(inv.c.status, inv.c.total, inv.c.duedate).where(
            inv.c.id == invoice_id
        )
    ).first()
    if row is None:
        return None
    status, total, duedate = row
    if status in (INVOICE_DRAFT, INVOICE_CANCELLED):
        return status
    paid = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(pay.c.amount), 0)).where(
            pay.c.invoiceid == invoice_id
        )
    ).scalar()
    credited = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(cr.c.amount), 0)).where(
            cr.c.invoice_id == invoice_id
        )
    ).scalar()
    received = round_money(Decimal(str(paid)) + Decimal(str(credited)))
    new_status = invoice_status_for(total, received, duedate, today)
    if new_status != status:
        conn.execute(
            inv.update().where(inv.c.id == invoice_id).values(status=new_status)
        )
    return new_status


def insert_payment(
    db: PerfexDB,
    invoice_id: int,
    amount: Decimal,
    on: date,
    mode: str | int | None,
    *,
    method: str | None = None,
    note: str | None = None,
    transaction_id: str | None = None,
    recorded_at: datetime | None = None,
    update_status: bool = True,
    today: date | None = None,
) -> int:
    """Record a payment on an invoice and return its id.

    ``mode`` is a tblpayment_modes id or a gateway id (``stripe``). ``note`` is
    stored as '' when None because 2.3-era databases declare it NOT NULL. With
    ``update_status`` the invoice's status is recomputed in the same transaction
    the way Perfex does after a payment (drafts and cancelled invoices untouched).
    """
    amount = round_money(Decimal(amount))
    if amount <= ZERO:
        raise ValueError("a payment amount must be positive")
    inv = db.tables.invoices
    pay = db.tables.invoicepaymentrecords
    with db.engine.begin() as conn:
        exists = conn.execute(
            sa.select(inv.c.id).where(inv.c.id == invoice_id)
        ).scalar()
        if exists is None:
            raise PerfexDataError(f"invoice {invoice_id} does not exist in Perfex")
        result = conn.execute(
            pay.insert().values(
                invoiceid=invoice_id,
                amount=amount,
                paymentmode=None if mode is None else str(mode),
                paymentmethod=method,
                date=on,
                daterecorded=(recorded_at or datetime.now()).replace(microsecond=0),
                note=note or "",
                transactionid=transaction_id,
            )
        )
        payment_id = _inserted_id(result)
        if update_status:
            _refresh_status(conn, db, invoice_id, today or date.today())
    return payment_id


class PaymentRefused(ValueError):
    """Perfex cannot take this payment: the invoice is gone, not open or not due."""


def find_payment(
    conn: sa.Connection, db: PerfexDB, invoice_id: int, transaction_id: str
) -> int | None:
    """The id of the invoice's payment with this transaction id, or None."""
    pay = db.tables.invoicepaymentrecords
    found = conn.execute(
        sa.select(pay.c.id)
        .where(pay.c.invoiceid == invoice_id, pay.c.transactionid == transaction_id)
        .order_by(pay.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def record_payment_once(
    db: PerfexDB,
    invoice_id: int,
    amount: Decimal,
    on: date,
    mode: str | int | None,
    *,
    transaction_id: str,
    note: str | None = None,
    today: date | None = None,
) -> tuple[int, bool]:
    """Record a payment unless the invoice has one with this transaction id.

    Returns (payment id, created). In one transaction with the invoice row locked:
    an existing row with the transaction id is returned as is; a draft, cancelled
    or missing invoice, or an amount above what is due, raises PaymentRefused.
    The invoice's status is refreshed the way Perfex does after a payment.
    """
    amount = round_money(Decimal(amount))
    if amount <= ZERO:
        raise PaymentRefused(f"amount {amount} is not positive")
    inv, pay, cr = (
        db.tables.invoices,
        db.tables.invoicepaymentrecords,
        db.tables.credits,
    )
    with db.engine.begin() as conn:
        row = conn.execute(
            sa.select(inv.c.status, inv.c.total)
            .where(inv.c.id == invoice_id)
            .with_for_update()
        ).first()
        if row is None:
            raise PaymentRefused(f"invoice {invoice_id} does not exist in Perfex")
        existing = find_payment(conn, db, invoice_id, transaction_id)
        if existing is not None:
            return existing, False
        if row[0] in (INVOICE_DRAFT, INVOICE_CANCELLED):
            state = "a draft" if row[0] == INVOICE_DRAFT else "cancelled"
            raise PaymentRefused(f"invoice {invoice_id} is {state} in Perfex")
        received = ZERO
        for table, key in ((pay, pay.c.invoiceid), (cr, cr.c.invoice_id)):
            total = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(table.c.amount), 0)).where(
                    key == invoice_id
                )
            ).scalar()
            received += Decimal(str(total))
        due = round_money(Decimal(str(row[1])) - received)
        if amount > due:
            raise PaymentRefused(
                f"amount {amount} is above what is due in Perfex on invoice"
                f" {invoice_id} ({max(due, ZERO)})"
            )
        result = conn.execute(
            pay.insert().values(
                invoiceid=invoice_id,
                amount=amount,
                paymentmode=None if mode is None else str(mode),
                paymentmethod=None,
                date=on,
                daterecorded=datetime.now().replace(microsecond=0),
                note=note or "",
                transactionid=transaction_id,
            )
        )
        payment_id = _inserted_id(result)
        _refresh_status(conn, db, invoice_id, today or date.today())
    return payment_id, True


def delete_payment(
    db: PerfexDB,
    payment_id: int,
    *,
    transaction_id: str | None = None,
    today: date | None = None,
) -> bool:
    """Delete a payment and refresh its invoice's status; False when not there.

    With ``transaction_id`` only a row carrying that transaction id is deleted: a
    row with another one raises PaymentRefused (it is not the payment meant).
    """
    pay = db.tables.invoicepaymentrecords
    with db.engine.begin() as conn:
        row = conn.execute(
            sa.select(pay.c.invoiceid, pay.c.transactionid).where(
                pay.c.id == payment_id
            )
        ).first()
        if row is None:
            return False
        if transaction_id is not None and row[1] != transaction_id:
            raise PaymentRefused(
                f"payment {payment_id} no longer carries transaction id"
                f" {transaction_id} in Perfex"
            )
        conn.execute(pay.delete().where(pay.c.id == payment_id))
        _refresh_status(conn, db, int(row[0]), today or date.today())
    return True
