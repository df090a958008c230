"""Typed reads on SQLite and MariaDB (seeded demo data)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.records import INVOICE_DRAFT, INVOICE_OVERDUE, INVOICE_PAID
from pxflask.perfex.seed import DEFAULT_ADMIN_EMAIL


def _raw_counts(db, table: str, key: str, rel_type: str) -> Counter[int]:
    """rel_id -> number of rows of a line/tax table."""
    t = db.tables.table(table)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c[key]).where(t.c.rel_type == rel_type))
        return Counter(r[0] for r in rows)


def test_invoices_carry_all_their_lines_and_taxes(seeded_db):
    """Every line and line tax row of every invoice is read, in item order."""
    invoices = reads.read_invoices(seeded_db)
    lines = _raw_counts(seeded_db, "itemable", "rel_id", "invoice")
    taxes = _raw_counts(seeded_db, "item_tax", "rel_id", "invoice")
    for inv in invoices:
        assert len(inv.lines) == lines[inv.id]
        assert sum(len(line.taxes) for line in inv.lines) == taxes[inv.id]
        orders = [line.item_order for line in inv.lines]
        assert orders == sorted(orders)
    assert [i.id for i in invoices] == sorted(i.id for i in invoices)


def test_invoice_fields_have_the_right_types(seeded_db):
    """Money is Decimal with 2 places, dates are dates, currency is resolved."""
    inv = reads.read_invoices(seeded_db, limit=1)[0]
    assert isinstance(inv.total, Decimal) and inv.total.as_tuple().exponent == -2
    assert isinstance(inv.lines[0].qty, Decimal)
    assert inv.lines[0].qty.as_tuple().exponent == -2
    assert isinstance(inv.datecreated, datetime)
    assert inv.currency.code in {"USD", "EUR", "GBP"}
    assert inv.formatted_number.startswith("INV-")


def test_id_list_reads_agree_with_the_full_read(seeded_db):
    """An id list returns exactly the invoices the full read returns for them."""
    everything = {i.id: i for i in reads.read_invoices(seeded_db)}
    subset = reads.read_invoices(seeded_db, [77, 3, 5, 999_999])
    assert [i.id for i in subset] == [3, 5, 77]
    assert subset == [everything[i] for i in (3, 5, 77)]


def test_read_by_ids_and_paging(seeded_db):
    """ids selects; after_id + limit pages through everything in id order."""
    everything = reads.read_invoices(seeded_db)
    pages, after = [], 0
    while True:
        page = reads.read_invoices(seeded_db, after_id=after, limit=70)
        if not page:
            break
        pages.extend(page)
        after = page[-1].id
    assert pages == everything
    assert reads.read_invoices(seeded_db, []) == []


def test_read_invoices_filters(seeded_db):
    """statuses, customer_id and date_from filter like SQL would."""
    everything = reads.read_invoices(seeded_db)
    drafts = reads.read_invoices(seeded_db, statuses=[INVOICE_DRAFT])
    assert drafts == [i for i in everything if i.status == INVOICE_DRAFT]
    customer = everything[0].customer_id
    assert reads.read_invoices(seeded_db, customer_id=customer) == [
        i for i in everything if i.customer_id == customer
    ]
    middle = sorted(i.date for i in everything)[150]
    assert reads.read_invoices(seeded_db, date_from=middle) == [
        i for i in everything if i.date >= middle
    ]
    both = reads.read_invoices(
        seeded_db, statuses=[INVOICE_PAID, INVOICE_OVERDUE], date_from=middle
    )
    assert all(i.status in (2, 4) and i.date >= middle for i in both)


def test_changed_since_finds_created_sent_or_paid_invoices(seeded_db):
    """changed_since = created, sent, paid or credited at or after the moment."""
    everything = {i.id: i for i in reads.read_invoices(seeded_db)}
    since = max(i.datecreated for i in everything.values()) - timedelta(days=20)
    inv = seeded_db.tables.invoices
    pay = seeded_db.tables.invoicepaymentrecords
    with seeded_db.engine.connect() as conn:
        sent = {
            r[0]
            for r in conn.execute(sa.select(inv.c.id).where(inv.c.datesend >= since))
        }
        paid = {
            r[0]
            for r in conn.execute(
                sa.select(pay.c.invoiceid).where(pay.c.daterecorded >= since)
            )
        }
    created = {i.id for i in everything.values() if i.datecreated >= since}
    got = {i.id for i in reads.read_invoices(seeded_db, changed_since=since)}
    assert got == created | sent | paid
    assert paid - created  # old invoices paid recently are found too


def test_fingerprints_cover_every_invoice_and_are_stable(seeded_db):
    """One checksum per invoice, the same on a second call, distinct per invoice."""
    prints = reads.invoice_fingerprints(seeded_db)
    assert set(prints) == {i.id for i in reads.read_invoices(seeded_db)}
    assert reads.invoice_fingerprints(seeded_db) == prints
    assert len(set(prints.values())) == len(prints)
    inv = seeded_db.tables.invoices
    narrowed = reads.invoice_fingerprints(seeded_db, inv.c.id <= 10)
    assert narrowed == {k: v for k, v in prints.items() if k <= 10}


def test_customers_with_primary_contact_and_countries(seeded_db):
    """Customers resolve countries; ids and active_only filter."""
    customers = reads.read_customers(seeded_db)
    muller = next(c for c in customers if c.company == "Müller & Söhne GmbH")
    assert muller.address.country is not None
    assert muller.address.country.iso2 == "DE"
    assert muller.billing.country == muller.address.country
    assert muller.primary_contact is not None and muller.primary_contact.is_primary
    assert muller.primary_contact.customer_id == muller.id
    assert reads.read_customers(seeded_db, [muller.id, 10_000]) == [muller]
    active = reads.read_customers(seeded_db, active_only=True)
    assert active == [c for c in customers if c.active]
    assert reads.read_contacts(seeded_db, [muller.id])[0] == muller.primary_contact


def test_reference_data(seeded_db):
    """Taxes, items with tax ids, payment modes, currencies, countries."""
    taxes = {t.name: t for t in reads.read_taxes(seeded_db)}
    assert taxes["VAT"].rate == Decimal("20.00")
    items = reads.read_items(seeded_db)
    ssl = next(i for i in items if i.description == "SSL Certificate")
    assert ssl.tax_ids == (taxes["VAT"].id, taxes["City Tax"].id)
    domain = next(i for i in items if i.description == "Domain Registration")
    assert domain.tax_ids == ()
    assert reads.read_items(seeded_db, [ssl.id]) == [ssl]
    modes = reads.read_payment_modes(seeded_db)
    assert {m.name for m in modes} >= {"Bank", "Cash", "Cheque"}
    assert reads.read_payment_modes(seeded_db, active_only=True) == modes
    assert reads.base_currency(seeded_db).code == "USD"
    assert {c.code for c in reads.read_currencies(seeded_db)} == {"USD", "EUR", "GBP"}
    countries = reads.read_countries(seeded_db)
    assert any(c.iso2 == "JP" for c in countries.values())


def test_payments_and_their_filters(seeded_db):
    """Payments by ids, invoice ids, recorded since, after id."""
    payments = reads.read_payments(seeded_db)
    assert any(p.is_gateway for p in payments)
    assert any(not p.is_gateway for p in payments)
    some = payments[10]
    assert reads.read_payments(seeded_db, [some.id]) == [some]
    assert reads.read_payments(seeded_db, invoice_ids=[some.invoice_id]) == [
        p for p in payments if p.invoice_id == some.invoice_id
    ]
    assert reads.read_payments(seeded_db, after_id=some.id) == payments[11:]
    since = some.daterecorded
    assert reads.read_payments(seeded_db, recorded_since=since) == [
        p for p in payments if p.daterecorded >= since
    ]


def test_expenses_and_credit_notes(seeded_db):
    """Expenses resolve currencies and taxes; credit notes carry lines."""
    expenses = reads.read_expenses(seeded_db)
    assert expenses and all(e.currency.code for e in expenses)
    assert any(len(e.tax_ids) == 2 for e in expenses)
    assert reads.read_expenses(seeded_db, [expenses[0].id]) == [expenses[0]]
    notes = reads.read_credit_notes(seeded_db)
    assert notes and all(n.lines for n in notes)
    assert notes[0].formatted_number.startswith("CN-")
    assert reads.read_credit_notes(seeded_db, [notes[-1].id]) == [notes[-1]]
    assert reads.read_credit_notes(seeded_db, after_id=notes[0].id) == notes[1:]


def test_staff_lookups(seeded_db):
    """By email (case and blanks ignored) and by id; unknown gives None."""
    admin = reads.find_staff_by_email(seeded_db, f"  {DEFAULT_ADMIN_EMAIL.upper()} ")
    assert admin is not None and admin.email == DEFAULT_ADMIN_EMAIL
    assert reads.get_staff(seeded_db, admin.id) == admin
    assert reads.get_staff(seeded_db, 987_654) is None
    assert reads.find_staff_by_email(seeded_db, "nobody@example.com") is None
    assert reads.find_staff_by_email(seeded_db, "") is None


def test_options(seeded_db):
    """Options by name with a default."""
    assert reads.get_option(seeded_db, "invoice_prefix") == "INV-"
    assert reads.get_option(seeded_db, "no_such_option", "dflt") == "dflt"
