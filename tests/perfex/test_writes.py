"""The few writes: upserts and payments, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDataError, PerfexDB
from pxflask.perfex.records import (
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_PARTIALLY_PAID,
    INVOICE_UNPAID,
)
from pxflask.perfex.seed import seed_demo
from pxflask.perfex.writes import (
    correct_payment_mode,
    insert_payment,
    invoice_status_for,
    upsert_expense_category,
    upsert_payment_mode,
    upsert_tax,
)
from tests.fixtures.databases import drop_mariadb_database
from tests.perfex.conftest import TODAY, backend_url

D = Decimal


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def db(request, tmp_path_factory) -> Iterator[PerfexDB]:
    """A small seeded database per backend that this module's tests write to."""
    url = backend_url(request.param, tmp_path_factory)
    seed_demo(url, customers=3, invoices=20, seed=4, today=TODAY)
    perfex = PerfexDB.connect(url)
    yield perfex
    perfex.dispose()
    if request.param == "mariadb":
        drop_mariadb_database(url)


def test_upserts_create_once_and_return_the_same_id(db):
    """Taxes by (name, rate); modes and categories by name, case-insensitively."""
    existing_vat = next(t for t in reads.read_taxes(db) if t.name == "VAT")
    assert upsert_tax(db, "vat ", D("20")) == existing_vat.id
    new_tax = upsert_tax(db, "VAT", D("7.5"))
    assert new_tax != existing_vat.id
    assert upsert_tax(db, "VAT", D("7.50")) == new_tax
    assert {(t.name, t.rate) for t in reads.read_taxes(db)} >= {("VAT", D("7.50"))}

    mode = upsert_payment_mode(db, "Xero Bank", "Business account")
    assert upsert_payment_mode(db, "xero bank") == mode
    modes = {m.id: m for m in reads.read_payment_modes(db)}
    assert modes[mode].description == "Business account" and modes[mode].active
    assert upsert_payment_mode(db, "Xero Bank", "Renamed account") == mode
    assert {m.id: m for m in reads.read_payment_modes(db)}[mode].description == (
        "Renamed account"
    )

    category = upsert_expense_category(db, "Motor Vehicle Expenses")
    assert (
        upsert_expense_category(db, "MOTOR VEHICLE EXPENSES", "from Xero") == category
    )
    cats = {c.id: c for c in reads.read_expense_categories(db)}
    assert cats[category].description == "from Xero"
    with pytest.raises(ValueError):
        upsert_tax(db, "  ", D("1"))


def _mode_flags(db, mode_id):
    """(description, selected_by_default, show_on_pdf) of one payment mode row."""
    pm = db.tables.payment_modes
    with db.engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.select(
                    pm.c.description, pm.c.selected_by_default, pm.c.show_on_pdf
                ).where(pm.c.id == mode_id)
            ).one()
        )


def test_new_payment_mode_is_not_preselected_nor_on_pdfs(db):
    """A mode pxflask creates is never selected_by_default (the column says 1)."""
    mode = upsert_payment_mode(db, "Xero Savings", "Xero bank account 091")
    assert _mode_flags(db, mode) == ("Xero bank account 091", 0, 0)


def test_correct_payment_mode_only_touches_the_text_pxflask_wrote(db):
    """A row still carrying pxflask's old text is corrected; an edited one is not."""
    legacy = "Account number 12345678, sort code 20-00-00, Xero account 092"
    ours = upsert_payment_mode(db, "Old pull", legacy)
    edited = upsert_payment_mode(db, "Edited by admin", "Pay to 12345678")
    pm = db.tables.payment_modes
    with db.engine.begin() as conn:
        conn.execute(
            pm.update().where(pm.c.id.in_([ours, edited])).values(selected_by_default=1)
        )
    assert correct_payment_mode(db, ours, legacy, "Xero bank account 092")
    assert not correct_payment_mode(db, edited, legacy, "Xero bank account 092")
    assert _mode_flags(db, ours) == ("Xero bank account 092", 0, 0)
    assert _mode_flags(db, edited) == ("Pay to 12345678", 1, 0)
    assert not correct_payment_mode(db, ours, legacy, "again")


def _unpaid_invoice(db):
    """An unpaid or overdue invoice without payments."""
    paid = {p.invoice_id for p in reads.read_payments(db)}
    return next(
        i
        for i in reads.read_invoices(db, statuses=[INVOICE_UNPAID, INVOICE_OVERDUE])
        if i.id not in paid
    )


def test_insert_payment_updates_the_invoice_status(db):
    """A part payment makes it partially paid; the rest makes it paid."""
    inv = _unpaid_invoice(db)
    first = insert_payment(db, inv.id, D("1.00"), TODAY, 1, today=TODAY)
    assert reads.read_invoices(db, [inv.id])[0].status == INVOICE_PARTIALLY_PAID
    second = insert_payment(
        db,
        inv.id,
        inv.total - D("1.00"),
        TODAY,
        "stripe",
        method="Visa",
        transaction_id="ch_123",
        recorded_at=datetime(2025, 6, 1, 12, 30),
        today=TODAY,
    )
    assert second > first
    assert reads.read_invoices(db, [inv.id])[0].status == INVOICE_PAID
    got = {p.id: p for p in reads.read_payments(db, invoice_ids=[inv.id])}
    assert got[first].mode == "1" and not got[first].is_gateway
    assert got[first].note == ""
    assert got[second].is_gateway and got[second].transaction_id == "ch_123"
    assert got[second].daterecorded == datetime(2025, 6, 1, 12, 30)


def test_insert_payment_without_status_update(db):
    """update_status=False leaves the invoice alone."""
    inv = _unpaid_invoice(db)
    insert_payment(db, inv.id, inv.total, TODAY, "paypal", update_status=False)
    assert reads.read_invoices(db, [inv.id])[0].status == inv.status


def test_insert_payment_refuses_bad_input(db):
    """Unknown invoice, zero or negative amounts."""
    with pytest.raises(PerfexDataError, match="invoice 999999"):
        insert_payment(db, 999_999, D("1"), TODAY, 1)
    with pytest.raises(ValueError):
        insert_payment(db, 1, D("0"), TODAY, 1)


def test_insert_payment_on_an_old_not_null_note_column(db):
    """2.3-era databases declare note NOT NULL: the insert supplies ''."""
    if db.is_mysql:  # SQLite cannot change a column's nullability in place
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "ALTER TABLE tblinvoicepaymentrecords MODIFY note TEXT NOT NULL"
            )
    payment = insert_payment(db, 1, D("2.50"), TODAY, 1, note=None, update_status=False)
    assert reads.read_payments(db, [payment])[0].note == ""


@pytest.mark.parametrize(
    ("total", "paid", "due", "expected"),
    [
        (D("10"), D("10"), None, INVOICE_PAID),
        (D("10"), D("12"), None, INVOICE_PAID),
        (D("0"), D("0"), None, INVOICE_PAID),
        (D("10"), D("0.01"), date(2020, 1, 1), INVOICE_PARTIALLY_PAID),
        (D("10"), D("0"), date(2025, 5, 31), INVOICE_OVERDUE),
        (D("10"), D("0"), TODAY, INVOICE_UNPAID),
        (D("10"), D("0"), None, INVOICE_UNPAID),
    ],
)
def test_invoice_status_rules(total, paid, due, expected):
    """Perfex's update_invoice_status() rules."""
    assert invoice_status_for(total, paid, due, TODAY) == expected
