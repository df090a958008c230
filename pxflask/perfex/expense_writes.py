"""Expenses written into Perfex (tblexpenses) from Xero, each in its own transaction.

An expense made from a Xero bill or spend-money transaction carries `[xero:<id>]`
in its note: after a crash between the insert and the link, the next run finds
the row by that tag instead of inserting it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDataError, PerfexDB
from pxflask.perfex.query import first_id_containing
from pxflask.perfex.totals import round_money

REFERENCE_MAX = 100
NAME_MAX = 191


@dataclass(frozen=True, slots=True)
class NewExpense:
    """The columns of one Perfex expense as pxflask writes them."""

    category: int
    currency: int
    amount: Decimal
    tax: int
    tax2: int
    date: date
    reference_no: str
    note: str
    expense_name: str
    paymentmode: str | None


def xero_tag(xero_id: str) -> str:
    """The text in an expense's note naming the Xero document it came from."""
    return f"[xero:{xero_id.lower()}]"


def _values(expense: NewExpense) -> dict[str, object]:
    """The written columns (money rounded to the cent, texts clipped)."""
    return {
        "category": expense.category,
        "currency": expense.currency,
        "amount": round_money(Decimal(expense.amount)),
        "tax": expense.tax,
        "tax2": expense.tax2,
        "date": expense.date,
        "reference_no": expense.reference_no[:REFERENCE_MAX],
        "note": expense.note,
        "expense_name": expense.expense_name[:NAME_MAX],
        "paymentmode": expense.paymentmode,
    }


def first_admin(db: PerfexDB) -> int:
    """The lowest id of an active administrator (0 when Perfex has none)."""
    s = db.tables.staff
    with db.engine.connect() as conn:
        found = conn.execute(
            sa.select(sa.func.min(s.c.staffid)).where(s.c.admin == 1, s.c.active == 1)
        ).scalar()
    return int(found or 0)


def insert_expense(
    db: PerfexDB,
    expense: NewExpense,
    *,
    added_by: int,
    added_at: datetime | None = None,
) -> int:
    """Add one expense (no customer, project or recurrence); its id."""
    e = db.tables.expenses
    values = {
        **_values(expense),
        "clientid": 0,
        "project_id": 0,
        "billable": 0,
        "recurring": 0,
        "cycles": 0,
        "total_cycles": 0,
        "custom_recurring": 0,
        "send_invoice_to_customer": 0,
        "dateadded": (added_at or datetime.now()).replace(microsecond=0),
        "addedfrom": added_by,
    }
    with db.engine.begin() as conn:
        result = conn.execute(e.insert().values(**values))
        key = result.inserted_primary_key
        if key is None:
            raise PerfexDataError("the expense INSERT reported no primary key")
        return int(key[0])


def update_expense(db: PerfexDB, expense_id: int, expense: NewExpense) -> bool:
    """Rewrite the columns pxflask owns of one expense; False when it is gone."""
    e = db.tables.expenses
    with db.engine.begin() as conn:
        done = conn.execute(
            e.update().where(e.c.id == expense_id).values(**_values(expense))
        )
        return bool(done.rowcount)


def find_tagged(db: PerfexDB, xero_id: str) -> int | None:
    """The id of the expense whose note carries this Xero document's tag, or None."""
    return first_id_containing(db, db.tables.expenses.c.note, xero_tag(xero_id))


def expense_exists(db: PerfexDB, expense_id: int) -> bool:
    """True when tblexpenses still has this row."""
    e = db.tables.expenses
    with db.engine.connect() as conn:
        found = conn.execute(sa.select(e.c.id).where(e.c.id == expense_id)).scalar()
    return found is not None
