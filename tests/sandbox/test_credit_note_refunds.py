"""Refunds of credit notes (Payments with a CreditNote) in the sandbox, via the SDK."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import Account, CreditNote, Payment, PaymentDelete, Payments
from xero_python.exceptions.http_status_exceptions import BadRequestException

from .test_accounting import _contact, _error_messages, _v
from .test_allocations import _note

D = Decimal
pytestmark = pytest.mark.xero_sandbox(region="global")
ON = date(2026, 11, 3)


def _refund(api, tenant, note, amount, **kw):
    """Refund part of a credit note into bank account 090; the Payment answered."""
    payment = Payment(
        credit_note=CreditNote(credit_note_id=note.credit_note_id),
        account=Account(code="090"),
        amount=D(amount),
        date=ON,
        reference="refund",
    )
    return api.create_payments(tenant, Payments(payments=[payment]), **kw).payments[0]


def _now(api, tenant, note):
    """The credit note as Xero shows it now."""
    return api.get_credit_note(tenant, note.credit_note_id).credit_notes[0]


def test_refunds_use_up_the_credit_and_a_deleted_one_gives_it_back(api, tenant):
    """RemainingCredit drops, PAID at zero; a DELETED refund restores it."""
    contact = _contact(api, tenant)
    note = _note(api, tenant, contact.contact_id)  # 33.00
    first = _refund(api, tenant, note, "13.00")
    assert _v(first.payment_type) == "ARCREDITPAYMENT"
    assert first.credit_note.credit_note_id == note.credit_note_id  # as written
    seen = _now(api, tenant, note)
    assert seen.remaining_credit == D("20.00") and _v(seen.status) == "AUTHORISED"
    _refund(api, tenant, note, "20.00")
    seen = _now(api, tenant, note)
    assert seen.remaining_credit == 0 and _v(seen.status) == "PAID"
    api.delete_payment(tenant, first.payment_id, PaymentDelete(status="DELETED"))
    seen = _now(api, tenant, note)
    assert seen.remaining_credit == D("13.00") and _v(seen.status) == "AUTHORISED"
    assert len(seen.payments) == 1


def test_refund_above_remaining_credit_or_of_a_draft_is_refused(api, tenant):
    """Above RemainingCredit, or on a credit note not AUTHORISED: Xero refuses."""
    contact = _contact(api, tenant)
    note = _note(api, tenant, contact.contact_id)
    _refund(api, tenant, note, "30.00")
    with pytest.raises(BadRequestException) as exc:
        _refund(api, tenant, note, "3.01")
    assert "exceeds the amount outstanding" in " ".join(_error_messages(exc.value))
    draft = _note(api, tenant, contact.contact_id, status="DRAFT")
    with pytest.raises(BadRequestException) as exc:
        _refund(api, tenant, draft, "1.00")
    assert "Authorised documents" in " ".join(_error_messages(exc.value))
    assert _now(api, tenant, note).remaining_credit == D("3.00")


def test_get_payments_names_the_refunded_credit_note_under_invoice(api, tenant):
    """As real Xero (xero-ruby#48): GET lists the credit note under Invoice."""
    contact = _contact(api, tenant)
    note = _note(api, tenant, contact.contact_id)
    made = _refund(api, tenant, note, "5.00")
    got = api.get_payment(tenant, made.payment_id).payments[0]
    assert got.credit_note is None
    assert got.invoice.invoice_id == note.credit_note_id
    assert _v(got.payment_type) == "ARCREDITPAYMENT"
