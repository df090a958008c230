"""Credit notes: ACCRECCREDIT payloads whose Xero total equals Perfex's, synced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pxflask.perfex import reads
from pxflask.perfex.records import (
    CREDIT_NOTE_OPEN,
    CREDIT_NOTE_VOID,
    CreditNote,
    Invoice,
    Line,
)
from pxflask.perfex.totals import compute_totals
from pxflask.sync.entities.credit_notes.mapper import map_credit_note
from pxflask.sync.mappers.documents import xero_document_total
from pxflask.sync.registry import REGISTRY

from .conftest import delta
from .factories import D, invoice, line
from .test_invoice_mapper import CTX, rates_for


def credit_note(
    lines: list[Line],
    *,
    discount_type: str = "",
    discount_percent: str = "0",
    discount_fixed: str = "0",
    adjustment: str = "0",
    status: int = CREDIT_NOTE_OPEN,
) -> CreditNote:
    """A credit note whose stored totals are Perfex's own."""
    inv = invoice(
        lines,
        discount_type=discount_type,
        discount_percent=discount_percent,
        discount_fixed=discount_fixed,
        adjustment=adjustment,
    )
    return as_credit_note(inv, status)


def as_credit_note(inv: Invoice, status: int = CREDIT_NOTE_OPEN) -> CreditNote:
    """The credit note with an invoice's lines, discount and stored totals."""
    return CreditNote(
        id=4,
        number=4,
        prefix="CN-",
        number_format=1,
        formatted_number="CN-000004",
        customer_id=inv.customer_id,
        date=inv.date,
        currency=inv.currency,
        subtotal=inv.subtotal,
        total_tax=inv.total_tax,
        total=inv.total,
        adjustment=inv.adjustment,
        discount_percent=inv.discount_percent,
        discount_total=inv.discount_total,
        discount_type=inv.discount_type,
        status=status,
        reference_no=None,
        lines=inv.lines,
    )


VAT = (("VAT", "20"),)
ECO = (("Eco", "7.5"),)


@pytest.mark.parametrize(
    ("lines", "kind", "pct", "fixed"),
    [
        ([line("3", "19.99", VAT), line("1", "5.01", ECO, line_id=2)], "", "0", "0"),
        (
            [line("3", "19.99", VAT), line("2", "7.33", ECO, line_id=2)],
            "before_tax",
            "0",
            "13.37",
        ),
        (
            [line("1", "0.10", VAT), line("7", "3.33", VAT + ECO, line_id=2)],
            "before_tax",
            "0",
            "1.01",
        ),
        (
            [line("3", "19.99", VAT), line("1", "5", ECO, line_id=2)],
            "before_tax",
            "12.5",
            "0",
        ),
        ([line("3", "19.99", VAT)], "after_tax", "10", "0"),
    ],
)
def test_credit_note_total_equals_perfex_and_no_discount_amount(
    lines, kind, pct, fixed
):
    """Xero's computed total is Perfex's to the cent; never DiscountAmount."""
    note = credit_note(
        lines, discount_type=kind, discount_percent=pct, discount_fixed=fixed
    )
    m = map_credit_note(note, "contact-1", CTX)
    assert m.payload is not None, m.skip
    payload = m.payload
    assert payload["Type"] == "ACCRECCREDIT"
    assert payload["CreditNoteNumber"] == "CN-000004"
    assert "DueDate" not in payload and "InvoiceNumber" not in payload
    assert all("DiscountAmount" not in i for i in payload["LineItems"])
    assert xero_document_total(payload, rates_for(payload)) == note.total
    if kind == "before_tax" and fixed != "0":
        discounts = [i for i in payload["LineItems"] if i["Description"] == "Discount"]
        taxed = {i["TaxType"] for i in payload["LineItems"][: len(lines)]}
        assert {i["TaxType"] for i in discounts} <= taxed
        assert sum(-i["UnitAmount"] for i in discounts) == D(fixed)


def test_void_and_negative_credit_notes():
    """Void -> VOIDED; a negative total is refused."""
    void = map_credit_note(credit_note([line()], status=CREDIT_NOTE_VOID), "c", CTX)
    assert void.payload is not None and void.payload["Status"] == "VOIDED"
    negative = map_credit_note(credit_note([line("1", "-5")]), "c", CTX)
    assert negative.skipped and "negative" in negative.skip


def test_credit_notes_run_only_when_named():
    """Registered, but not part of a run that names no entities."""
    assert "credit-notes" not in [u.name for u in REGISTRY.ordered(None)]
    assert "credit-notes" in REGISTRY


def test_credit_notes_sync_to_the_cent_rerun_and_void(env):
    """Sent with Perfex's total, nothing written again, voided when void."""
    assert env.sync().ok
    notes = reads.read_credit_notes(env.perfex)
    assert notes
    cn = env.perfex.tables.creditnotes
    first = notes[0]
    fixed = min(D("10.00"), first.subtotal / 2).quantize(Decimal("0.01"))
    t = compute_totals(first.lines, "before_tax", D(0), fixed, D(0))
    env.execute(
        cn.update()
        .where(cn.c.id == first.id)
        .values(
            discount_type="before_tax",
            discount_total=t.discount_total,
            subtotal=t.subtotal,
            total_tax=t.total_tax,
            total=t.total,
        )
    )
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    by_id = {c["CreditNoteID"]: c for c in env.xero("CreditNotes")}
    applied: dict[int, Decimal] = {}
    for credit in reads.read_credit_applications(env.perfex):
        applied[credit.credit_note_id] = applied.get(credit.credit_note_id, 0) + (
            credit.amount
        )
    for note in reads.read_credit_notes(env.perfex):
        link = env.link("credit-notes", note.id)
        if note.status == CREDIT_NOTE_VOID:
            assert link is not None and link.state == "skipped"
            continue
        assert link is not None and link.state == "synced", (note.id, link)
        sent = by_id[link.xero_id]
        used_up = applied.get(note.id) == note.total  # allocated in full: PAID
        assert sent["Type"] == "ACCRECCREDIT"
        assert sent["Status"] == ("PAID" if used_up else "AUTHORISED"), note.id
        assert sent["Total"] == note.total, note.id
    assert by_id[env.link("credit-notes", first.id).xero_id]["Total"] == t.total
    before = env.calls()
    again = env.sync(entities=["credit-notes"])
    made = delta(before, env.calls())
    assert not [k for k in made if k.split()[0] in ("PUT", "POST")], made
    credits = reads.read_credit_applications(env.perfex)  # their allocations
    assert again.report("credit-notes").unchanged == len(notes) + len(credits)
    env.execute(cn.update().where(cn.c.id == first.id).values(status=CREDIT_NOTE_VOID))
    assert env.sync(entities=["credit-notes"]).ok
    link = env.link("credit-notes", first.id)
    assert link.state == "voided"
    assert env.sandbox.inject.get("CreditNotes", link.xero_id)["Status"] == "VOIDED"
    before = env.calls()
    env.sync(entities=["credit-notes"])
    assert not [
        k for k in delta(before, env.calls()) if k.split()[0] in ("PUT", "POST")
    ]
