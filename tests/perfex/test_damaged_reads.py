"""Reads never raise on damaged rows: the record says what is wrong, and where.

SQLite keeps any text in any column; MariaDB keeps zero dates (and, under
ALLOW_INVALID_DATES, impossible ones) when the session is not strict, as Perfex's
own connection (stricton = false) is not, and NULL in columns old Perfex versions
left nullable.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo


def store(
    conn: sa.Connection, table: sa.Table, key: str, ident: int, column: str, raw: object
) -> None:
    """Write a raw value past SQLAlchemy's types (as PHP would)."""
    sql = f"UPDATE {table.name} SET {column} = :raw WHERE {key} = :id"  # noqa: S608
    conn.execute(sa.text(sql), {"raw": raw, "id": ident})


@pytest.fixture
def damaged(perfex_url):
    """A small seeded database with one damaged row of each kind; what was done."""
    seed_demo(perfex_url, customers=4, invoices=40, seed=11)
    db = PerfexDB.connect(perfex_url)
    t = db.tables
    invoices = reads.read_invoices(db)
    notes = reads.read_credit_notes(db)
    expenses = reads.read_expenses(db)
    credits = reads.read_credit_applications(db)
    customer = reads.read_customers(db)[0]
    assert notes and expenses and credits
    line_invoice = next(i for i in invoices[2:] if i.lines)
    line = line_invoice.lines[0]
    mariadb = db.is_mysql
    with db.engine.begin() as conn:
        if mariadb:
            conn.exec_driver_sql("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
            for table, column in ((t.itemable, "qty"), (t.expenses, "amount")):
                conn.exec_driver_sql(
                    f"ALTER TABLE {table.name} MODIFY {column} DECIMAL(15,2) NULL"
                )
        bad_amount = None if mariadb else "twelve"
        store(conn, t.invoices, "id", invoices[0].id, "date", "0000-00-00")
        store(conn, t.invoices, "id", invoices[1].id, "duedate", "2024-02-31")
        store(conn, t.itemable, "id", line.id, "qty", bad_amount)
        store(conn, t.creditnotes, "id", notes[0].id, "date", "0000-00-00")
        store(conn, t.expenses, "id", expenses[0].id, "date", "2024-02-31")
        store(conn, t.expenses, "id", expenses[-1].id, "amount", bad_amount)
        store(conn, t.credits, "id", credits[0].id, "date", "0000-00-00")
        store(
            conn, t.clients, "userid", customer.id, "datecreated", "0000-00-00 00:00:00"
        )
    yield (
        db,
        {
            "zero": invoices[0].id,
            "due": invoices[1].id,
            "line": (line_invoice.id, line.id),
            "note": notes[0].id,
            "expense_date": expenses[0].id,
            "expense_amount": expenses[-1].id,
            "credit": credits[0].id,
            "customer": customer.id,
            "amount": "NULL" if mariadb else "'twelve'",
        },
    )
    db.dispose()


def test_damaged_invoices_are_marked_not_raised(damaged):
    """Zero date, impossible due date, unreadable line quantity: marked, named."""
    db, bad = damaged
    by_id = {i.id: i for i in reads.read_invoices(db)}
    assert by_id[bad["zero"]].damaged == "date is the zero date '0000-00-00'"
    assert by_id[bad["due"]].damaged == "duedate '2024-02-31' is not a date"
    invoice_id, line_id = bad["line"]
    assert by_id[invoice_id].damaged == (
        f"line {line_id} qty {bad['amount']} is not an amount"
        if bad["amount"] != "NULL"
        else f"line {line_id} qty is empty (NULL)"
    )
    marked = {bad["zero"], bad["due"], invoice_id}
    clean = [i for i in by_id.values() if i.id not in marked]
    assert clean and all(i.damaged is None for i in clean)
    assert all(isinstance(i.total, Decimal) and i.date for i in clean)
    again = reads.read_invoices(db, ids=[bad["zero"], bad["due"]])
    assert [i.damaged is not None for i in again] == [True, True]


def test_other_documents_are_marked_not_raised(damaged):
    """Credit notes, expenses, credit applications, customers: no read raises."""
    db, bad = damaged
    notes = {n.id: n for n in reads.read_credit_notes(db)}
    assert notes[bad["note"]].damaged == "date is the zero date '0000-00-00'"
    assert sum(n.damaged is not None for n in notes.values()) == 1
    expenses = {e.id: e for e in reads.read_expenses(db)}
    assert expenses[bad["expense_date"]].damaged == "date '2024-02-31' is not a date"
    amount = expenses[bad["expense_amount"]].damaged
    assert amount in ("amount is empty (NULL)", "amount 'twelve' is not an amount")
    credits = {c.id: c for c in reads.read_credit_applications(db)}
    assert credits[bad["credit"]].damaged == "date is the zero date '0000-00-00'"
    customers = {c.id: c for c in reads.read_customers(db)}
    assert customers[bad["customer"]].datecreated is None


def test_unreadable_line_tax_rate_marks_its_invoice(perfex_url):
    """An unreadable line tax rate marks its invoice damaged; no read raises."""
    seed_demo(perfex_url, customers=3, invoices=20, seed=12)
    db = PerfexDB.connect(perfex_url)
    try:
        invoices = reads.read_invoices(db)
        taxed = next(i for i in invoices if any(line.taxes for line in i.lines))
        line = next(line for line in taxed.lines if line.taxes)
        table = db.tables.item_tax
        raw: object = "twelve"
        with db.engine.begin() as conn:
            if db.is_mysql:
                conn.exec_driver_sql(
                    f"ALTER TABLE {table.name} MODIFY taxrate DECIMAL(15,2) NULL"
                )
                raw = None
            store(conn, table, "itemid", line.id, "taxrate", raw)
        by_id = {i.id: i for i in reads.read_invoices(db)}
        reason = by_id[taxed.id].damaged
        assert reason is not None and reason.startswith(f"line {line.id} tax rate")
        others = [i for i in by_id.values() if i.id != taxed.id]
        assert others and all(i.damaged is None for i in others)
    finally:
        db.dispose()
