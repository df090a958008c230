"""Perfex credit notes -> Xero ACCRECCREDIT credit notes, totals equal to the cent.

The lines follow the shared document rules (sync/mappers/documents.py) with one
difference: Xero accepts DiscountRate but not DiscountAmount on credit note lines.
A before-tax fixed discount is therefore shared over the positive lines as for
invoices (to the cent), and the shares of each TaxType become one negative
"Discount" line with that TaxType, so Xero takes the discount off the taxable
amounts as Perfex does. Line TaxAmounts make Xero's TotalTax Perfex's total_tax,
and the capped "Rounding" line takes the cents left, as for invoices; a larger
gap fails the credit note.
"""

from __future__ import annotations

from typing import Any

from pxflask.perfex.records import (
    CREDIT_NOTE_CLOSED,
    CREDIT_NOTE_OPEN,
    CREDIT_NOTE_VOID,
    CreditApplication,
    CreditNote,
    present,
)
from pxflask.sync.mappers.common import Mapped, dec, round2, skipped
from pxflask.sync.mappers.documents import (
    DocumentContext,
    discount_problem,
    document_lines,
    finish_document,
)

REFERENCE_PREFIX = "PX-CN-"


def credit_note_reference(credit_note_id: int) -> str:
    """The Xero Reference carrying the Perfex credit note id (a look-up key)."""
    return f"{REFERENCE_PREFIX}{credit_note_id}"


def credit_note_status(status: int) -> str | None:
    """The Xero status of a Perfex credit note status (None: not sent)."""
    if status in (CREDIT_NOTE_OPEN, CREDIT_NOTE_CLOSED):
        return "AUTHORISED"
    if status == CREDIT_NOTE_VOID:
        return "VOIDED"
    return None


def map_credit_application(
    credit: CreditApplication, invoice_xero_id: str
) -> dict[str, Any]:
    """A Perfex credit application (tblcredits) as a Xero Allocation payload."""
    return {
        "Invoice": {"InvoiceID": invoice_xero_id},
        "Amount": round2(dec(credit.amount)),
        "Date": present(credit.date).isoformat(),
    }


def map_credit_note(note: CreditNote, contact_id: str, ctx: DocumentContext) -> Mapped:
    """Map a Perfex credit note to a Xero ACCRECCREDIT payload (or a skip reason)."""
    key = str(note.id)
    status = credit_note_status(note.status)
    if status is None:
        return skipped(key, f"credit note status {note.status} is not synced")
    target = dec(note.total)
    if target < 0:
        return skipped(key, f"negative total {target}")
    built = document_lines(note, ctx, per_line_amounts=False)
    if built is None:
        return skipped(key, discount_problem(note))
    items, rates, tax, notes = built
    payload: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "CreditNoteNumber": note.formatted_number,
        "Reference": credit_note_reference(note.id),
        "Date": note.date.isoformat(),
        "CurrencyCode": note.currency.code,
        "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": items,
    }
    return finish_document(
        key,
        payload,
        target,
        rates,
        ctx,
        notes,
        tax=tax,
        strict=status != "VOIDED",
        what="credit note",
    )
