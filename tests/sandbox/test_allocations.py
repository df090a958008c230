"""Credit-note allocations in the sandbox, with Xero's rules, through the real SDK."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Allocation,
    Allocations,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
)
from xero_python.exceptions import NotFoundException
from xero_python.exceptions.http_status_exceptions import BadRequestException

from .test_accounting import _contact, _invoice, _line, _v

D = Decimal
pytestmark = pytest.mark.xero_sandbox(region="global")
"""Sandbox rules, on the Global profile's simple rates (test_accounting helpers)."""
ON = date(2026, 11, 3)


def _note(api, tenant, contact_id, unit="30", status="AUTHORISED"):
    """An ACCRECCREDIT credit note of one line (+10% OUTPUT tax)."""
    return api.create_credit_notes(
        tenant,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type="ACCRECCREDIT",
                    contact=Contact(contact_id=contact_id),
                    status=status,
                    date=ON,
                    line_items=[_line("1", unit)],
                )
            ]
        ),
    ).credit_notes[0]


def _allocate(api, tenant, note, invoice, amount):
    """Allocate `amount` of a credit note to an invoice; the Allocation answered."""
    alloc = Allocation(
        invoice=Invoice(invoice_id=invoice.invoice_id), amount=D(amount), date=ON
    )
    return api.create_credit_note_allocation(
        tenant, note.credit_note_id, Allocations(allocations=[alloc])
    ).allocations[0]


def _docs(api, tenant, note, invoice):
    """The credit note and the invoice as Xero shows them now."""
    return (
        api.get_credit_note(tenant, note.credit_note_id).credit_notes[0],
        api.get_invoice(tenant, invoice.invoice_id).invoices[0],
    )


@pytest.fixture
def parties(api, tenant):
    """A contact with a 110.00 AUTHORISED invoice."""
    contact = _contact(api, tenant)
    invoice = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact.contact_id, [_line("1", "100")])])
    ).invoices[0]
    return contact, invoice


def test_allocations_reduce_amount_due_and_settle_both_documents(api, tenant, parties):
    """Partial: both AUTHORISED; credit used up: PAID; invoice fully credited: PAID."""
    contact, invoice = parties
    note = _note(api, tenant, contact.contact_id)  # 33.00
    answer = _allocate(api, tenant, note, invoice, "20.00")
    assert answer.allocation_id and answer.amount == D("20.00")
    note, inv = _docs(api, tenant, note, invoice)
    assert (inv.amount_due, inv.amount_credited) == (D("90.00"), D("20.00"))
    assert _v(inv.status) == "AUTHORISED"
    assert note.remaining_credit == D("13.00") and _v(note.status) == "AUTHORISED"
    assert [a.amount for a in note.allocations] == [D("20.00")]
    _allocate(api, tenant, note, invoice, "13.00")
    note, inv = _docs(api, tenant, note, invoice)
    assert note.remaining_credit == D("0.00") and _v(note.status) == "PAID"
    assert inv.amount_due == D("77.00")
    applied = [c.applied_amount for c in inv.credit_notes]
    assert sum(applied) == D("33.00")
    big = _note(api, tenant, contact.contact_id, unit="80")  # 88.00
    _allocate(api, tenant, big, invoice, "77.00")
    big, inv = _docs(api, tenant, big, invoice)
    assert inv.amount_due == D("0.00") and _v(inv.status) == "PAID"
    assert big.remaining_credit == D("11.00") and _v(big.status) == "AUTHORISED"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("above credit", "remaining credit"),
        ("above due", "amount due"),
        ("draft invoice", "Authorised invoices"),
        ("draft note", "must be AUTHORISED"),
        ("other contact", "same contact"),
        ("zero", "greater than zero"),
    ],
)
def test_allocations_xero_refuses(api, tenant, parties, case, words):
    """Over either remaining amount, non-AUTHORISED or foreign documents: 400."""
    contact, invoice = parties
    note = _note(api, tenant, contact.contact_id, unit="200")  # 220.00
    amount = "110.00"
    if case == "above credit":
        note = _note(api, tenant, contact.contact_id)  # 33.00
        amount = "33.01"
    elif case == "above due":
        amount = "110.01"
    elif case == "draft invoice":
        invoice = api.create_invoices(
            tenant,
            Invoices(
                invoices=[_invoice(contact.contact_id, [_line("1", "5")], "DRAFT")]
            ),
        ).invoices[0]
        amount = "1.00"
    elif case == "draft note":
        note = _note(api, tenant, contact.contact_id, status="DRAFT")
        amount = "1.00"
    elif case == "other contact":
        other = _contact(api, tenant, name="Other Ltd")
        note = _note(api, tenant, other.contact_id)
        amount = "1.00"
    elif case == "zero":
        amount = "0"
    with pytest.raises(BadRequestException) as err:
        _allocate(api, tenant, note, invoice, amount)
    assert words in err.value.reason
    note, inv = _docs(api, tenant, note, invoice)
    assert note.allocations in (None, []) and inv.amount_credited == D("0.00")


def test_summarize_errors_false_answers_each_element(api, tenant, parties):
    """Several elements, one refused among good ones (allocations.py docstring).

    summarizeErrors=false: 200, each element answered in order, the refused one
    flagged with its error, the others allocated (two invoices, one call); the
    default (summarized): 400 naming the refused one, the good one allocated.
    """
    contact, invoice = parties
    second = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact.contact_id, [_line("1", "10")])])
    ).invoices[0]
    note = _note(api, tenant, contact.contact_id)  # 33.00

    def element(inv, amount):
        return Allocation(
            invoice=Invoice(invoice_id=inv.invoice_id), amount=D(amount), date=ON
        )

    answer = api.create_credit_note_allocation(
        tenant,
        note.credit_note_id,
        Allocations(
            allocations=[
                element(invoice, "3.00"),
                element(invoice, "99.00"),
                element(second, "11.00"),
            ]
        ),
        summarize_errors=False,
    ).allocations
    assert answer[0].allocation_id and not answer[0].validation_errors
    assert answer[1].status_attribute_string == "ERROR"
    assert "remaining credit" in answer[1].validation_errors[0].message
    assert answer[2].allocation_id and answer[2].amount == D("11.00")
    note, _ = _docs(api, tenant, note, invoice)
    assert note.remaining_credit == D("19.00") and len(note.allocations) == 2
    _, inv2 = _docs(api, tenant, note, second)
    assert inv2.amount_due == D("0.00") and _v(inv2.status) == "PAID"

    with pytest.raises(BadRequestException) as err:
        api.create_credit_note_allocation(
            tenant,
            note.credit_note_id,
            Allocations(
                allocations=[element(second, "1.00"), element(invoice, "4.00")]
            ),
        )
    assert "Authorised invoices" in err.value.reason  # the PAID second invoice
    note, inv = _docs(api, tenant, note, invoice)
    assert note.remaining_credit == D("15.00") and inv.amount_due == D("103.00")


def test_allocated_invoice_cannot_be_voided(api, tenant, parties):
    """An invoice with a credit note allocated is locked, as in Xero."""
    contact, invoice = parties
    _allocate(api, tenant, _note(api, tenant, contact.contact_id), invoice, "5.00")
    with pytest.raises(BadRequestException) as err:
        api.update_invoice(
            tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
        )
    assert "payment or credit note allocated" in err.value.reason


def test_deleted_allocation_gives_both_amounts_back(api, tenant, parties):
    """DELETE .../Allocations/{id}: IsDeleted, PAID -> AUTHORISED, then 404."""
    contact, invoice = parties
    note = _note(api, tenant, contact.contact_id, unit="100")  # 110.00
    answer = _allocate(api, tenant, note, invoice, "110.00")
    note, inv = _docs(api, tenant, note, invoice)
    assert _v(inv.status) == "PAID" and _v(note.status) == "PAID"
    gone = api.delete_credit_note_allocations(
        tenant, note.credit_note_id, answer.allocation_id
    )
    assert gone.is_deleted is True and gone.amount == D("110.00")
    note, inv = _docs(api, tenant, note, invoice)
    assert _v(inv.status) == "AUTHORISED" and inv.amount_due == D("110.00")
    assert inv.amount_credited == D("0.00") and inv.credit_notes in (None, [])
    assert _v(note.status) == "AUTHORISED" and note.remaining_credit == D("110.00")
    assert note.allocations in (None, [])
    with pytest.raises(NotFoundException):
        api.delete_credit_note_allocations(
            tenant, note.credit_note_id, answer.allocation_id
        )
