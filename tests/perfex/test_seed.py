"""Demo data: what Perfex would store, consistent, deterministic, refused twice."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.passwords import verify_password
from pxflask.perfex.records import (
    DRAFT_NUMBER,
    INVOICE_CANCELLED,
    INVOICE_DRAFT,
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_PARTIALLY_PAID,
    INVOICE_UNPAID,
)
from pxflask.perfex.seed import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    INACTIVE_ADMIN_EMAIL,
    STAFF_EMAIL,
    SeedRefused,
    seed_demo,
)
from pxflask.perfex.totals import document_totals
from pxflask.perfex.writes import invoice_status_for
from tests.perfex.conftest import TODAY


def test_every_seeded_invoice_total_recomputes_from_its_lines(seeded_db):
    """Stored subtotal/total_tax/discount_total/total == totals.py on the lines."""
    invoices = reads.read_invoices(seeded_db)
    assert len(invoices) == 300
    for inv in invoices:
        t = document_totals(
            inv.lines,
            inv.discount_type,
            inv.discount_percent,
            inv.discount_total,
            inv.adjustment,
        )
        stored = (inv.subtotal, inv.total_tax, inv.discount_total, inv.total)
        assert (t.subtotal, t.total_tax, t.discount_total, t.total) == stored, inv.id


def test_every_seeded_credit_note_total_recomputes(seeded_db):
    """Credit notes too."""
    notes = reads.read_credit_notes(seeded_db)
    assert notes
    for cn in notes:
        t = document_totals(
            cn.lines, cn.discount_type, cn.discount_percent, cn.discount_total, None
        )
        assert (t.subtotal, t.total_tax, t.total) == (
            cn.subtotal,
            cn.total_tax,
            cn.total,
        )


def test_statuses_agree_with_payments_credits_and_due_dates(seeded_db):
    """Each status is what update_invoice_status() would give as of TODAY."""
    invoices = reads.read_invoices(seeded_db)
    paid: Counter[int] = Counter()
    received: dict[int, Decimal] = {}
    for p in reads.read_payments(seeded_db):
        received[p.invoice_id] = received.get(p.invoice_id, Decimal(0)) + p.amount
        paid[p.invoice_id] += 1
    credits = seeded_db.tables.credits
    with seeded_db.engine.connect() as conn:
        for invoice_id, amount in conn.execute(
            sa.select(credits.c.invoice_id, credits.c.amount)
        ):
            received[invoice_id] = received.get(invoice_id, Decimal(0)) + amount
    statuses = Counter(inv.status for inv in invoices)
    for status in (
        INVOICE_UNPAID,
        INVOICE_PAID,
        INVOICE_PARTIALLY_PAID,
        INVOICE_OVERDUE,
        INVOICE_CANCELLED,
        INVOICE_DRAFT,
    ):
        assert statuses[status] > 0, status
    for inv in invoices:
        got = received.get(inv.id, Decimal(0))
        if inv.status in (INVOICE_DRAFT, INVOICE_CANCELLED):
            assert got == 0
            continue
        assert inv.status == invoice_status_for(inv.total, got, inv.duedate, TODAY)
        assert got <= inv.total


def test_drafts_use_the_placeholder_number(seeded_db):
    """Drafts hold number 1000000000 and show as INV-DRAFT; others are unique."""
    invoices = reads.read_invoices(seeded_db)
    numbers = [i.number for i in invoices if i.status != INVOICE_DRAFT]
    assert len(numbers) == len(set(numbers))
    for inv in invoices:
        if inv.status == INVOICE_DRAFT:
            assert (inv.number, inv.formatted_number) == (DRAFT_NUMBER, "INV-DRAFT")
    options = reads.read_options(seeded_db)
    assert options["next_invoice_number"] == str(max(numbers) + 1)
    assert options["invoice_prefix"] == "INV-"
    assert options["number_padding_prefixes"] == "6"


def test_seeded_data_has_the_promised_variety(seeded_db):
    """Discount kinds, adjustments, two taxes on a line, optional lines, gateways."""
    invoices = reads.read_invoices(seeded_db)
    kinds = {(i.discount_type, i.discount_percent > 0) for i in invoices}
    assert {("before_tax", True), ("after_tax", True), ("before_tax", False)} <= kinds
    assert ("after_tax", False) in kinds and ("", False) in kinds
    assert any(i.adjustment != 0 for i in invoices)
    assert any(len(line.taxes) == 2 for i in invoices for line in i.lines)
    assert any(not line.counts for i in invoices for line in i.lines)
    assert {i.currency.code for i in invoices} == {"USD", "EUR", "GBP"}
    assert {i.number_format for i in invoices} >= {1, 2}
    modes = {p.mode for p in reads.read_payments(seeded_db)}
    assert {"stripe", "paypal"} <= modes
    assert any(m.isdigit() for m in modes)
    assert reads.read_expenses(seeded_db)
    assert reads.read_expense_categories(seeded_db)


def test_seeded_customers(seeded_db):
    """Unicode names, a duplicate name, individuals, a primary contact each."""
    customers = reads.read_customers(seeded_db)
    names = Counter(c.company for c in customers if c.company)
    assert "Müller & Söhne GmbH" in names and "株式会社テスト" in names
    assert names["Acme Corporation"] == 2
    assert any(c.is_individual for c in customers)
    assert all(c.primary_contact is not None for c in customers)
    contacts = reads.read_contacts(seeded_db)
    assert len(contacts) > len(customers)


def test_seeded_staff(seeded_db):
    """An active admin with the demo password, a non-admin, an inactive admin."""
    admin = reads.find_staff_by_email(seeded_db, DEFAULT_ADMIN_EMAIL)
    assert admin is not None and admin.admin and admin.active
    assert admin.password_hash.startswith("$2a$08$")
    assert verify_password(DEFAULT_ADMIN_PASSWORD, admin.password_hash)
    staff = reads.find_staff_by_email(seeded_db, STAFF_EMAIL)
    assert staff is not None and not staff.admin and staff.active
    former = reads.find_staff_by_email(seeded_db, INACTIVE_ADMIN_EMAIL)
    assert former is not None and former.admin and not former.active


def test_seed_refuses_a_database_with_invoices(sqlite_url):
    """A second seed raises SeedRefused; force adds more data."""
    first = seed_demo(sqlite_url, customers=3, invoices=5, today=TODAY)
    with pytest.raises(SeedRefused, match="already has invoices"):
        seed_demo(sqlite_url, customers=3, invoices=5, today=TODAY)
    second = seed_demo(
        sqlite_url, customers=3, invoices=5, seed=1, force=True, today=TODAY
    )
    db = PerfexDB.connect(sqlite_url)
    try:
        invoices = reads.read_invoices(db)
        assert len(invoices) == first.invoices + second.invoices
        assert len(reads.read_taxes(db)) == 4  # reference data not duplicated
        assert len(reads.read_currencies(db)) == 3
        numbers = [i.number for i in invoices if i.status != INVOICE_DRAFT]
        assert len(numbers) == len(set(numbers))
    finally:
        db.dispose()


def test_seed_is_deterministic(tmp_path):
    """Same seed and day: identical data; another seed: different data."""
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c")]
    for url, seed in zip(urls, (3, 3, 4), strict=True):
        seed_demo(url, customers=8, invoices=40, seed=seed, today=TODAY)
    dbs = [PerfexDB.connect(url) for url in urls]
    try:
        prints = [reads.invoice_fingerprints(db) for db in dbs]
        customers = [reads.read_customers(db) for db in dbs]
        assert prints[0] == prints[1] and customers[0] == customers[1]
        assert prints[0] != prints[2]
    finally:
        for db in dbs:
            db.dispose()


def test_seed_with_a_custom_prefix_and_password(sqlite_url):
    """prefix crm_ creates crm_* tables; the admin password is the one given."""
    summary = seed_demo(
        sqlite_url,
        prefix="crm_",
        customers=2,
        invoices=3,
        admin_password="pw!",
        today=TODAY,
    )
    assert summary.admin_password == "pw!"
    engine = sa.create_engine(sqlite_url)
    names = sa.inspect(engine).get_table_names()
    engine.dispose()
    assert "crm_invoices" in names and "tblinvoices" not in names
    db = PerfexDB.connect(sqlite_url, prefix="crm_")
    try:
        admin = reads.find_staff_by_email(db, DEFAULT_ADMIN_EMAIL)
        assert admin is not None and verify_password("pw!", admin.password_hash)
    finally:
        db.dispose()


def test_credit_notes_go_to_two_invoices_and_some_are_refunded(seeded_db):
    """Credit applied to two invoices of one customer; refunds within what is left.

    Some refunds take all the credit left (the credit note is closed), some part
    of it (it stays open); applied credits plus refunds never pass the total.
    """
    notes = {n.id: n for n in reads.read_credit_notes(seeded_db)}
    invoices = {i.id: i for i in reads.read_invoices(seeded_db)}
    applied: dict[int, list] = {}
    for credit in reads.read_credit_applications(seeded_db):
        applied.setdefault(credit.credit_note_id, []).append(credit)
    split = [apps for apps in applied.values() if len(apps) == 2]
    assert split
    for apps in split:
        note = notes[apps[0].credit_note_id]
        assert {invoices[a.invoice_id].customer_id for a in apps} == {note.customer_id}
        assert sum(a.amount for a in apps) == note.total
        assert all(invoices[a.invoice_id].status == INVOICE_PAID for a in apps)
    refunds = reads.read_credit_refunds(seeded_db)
    assert refunds
    left_after: list[Decimal] = []
    for refund in refunds:
        note = notes[refund.credit_note_id]
        assert isinstance(refund.amount, Decimal) and refund.amount > 0
        assert refund.date is not None and refund.date >= note.date
        used = sum((a.amount for a in applied.get(note.id, [])), Decimal(0))
        left = note.total - used - refund.amount
        assert left >= 0
        assert note.status == (2 if left == 0 else 1), note.id
        left_after.append(left)
    assert any(x == 0 for x in left_after) and any(x > 0 for x in left_after)


def test_a_converted_estimate_carries_its_invoices_lines_and_totals(seeded_db):
    """Perfex's conversion copies the estimate into the invoice: both agree."""
    from pxflask.perfex.documents import read_estimates

    converted = [e for e in read_estimates(seeded_db) if e.invoice_id]
    assert converted
    invoices = {i.id: i for i in reads.read_invoices(seeded_db)}

    def shape(doc):
        lines = [
            (x.description, x.qty, x.rate, tuple(t.name for t in x.taxes))
            for x in doc.lines
        ]
        money = (doc.subtotal, doc.total_tax, doc.discount_total, doc.total)
        return lines, money, doc.currency.id

    for estimate in converted:
        assert shape(estimate) == shape(invoices[estimate.invoice_id]), estimate.id
