"""Perfex invoices -> Xero ACCREC invoices whose Total and TotalTax equal Perfex's.

The lines, discounts, line taxes and rounding follow the shared document rules
(sync/mappers/documents.py); this module sets an invoice's number, reference,
status and dates.
"""

from __future__ import annotations

from typing import Any

from pxflask.perfex.records import (
    INVOICE_CANCELLED,
    INVOICE_DRAFT,
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_PARTIALLY_PAID,
    INVOICE_UNPAID,
    Invoice,
)
from pxflask.sync.mappers.common import Mapped, dec, skipped
from pxflask.sync.mappers.documents import (
    DRAFTS_DRAFT,
    DRAFTS_SKIP,
    DocumentContext,
    discount_problem,
    document_lines,
    finish_document,
)

AUTHORISED_STATUSES = frozenset(
    {INVOICE_UNPAID, INVOICE_PAID, INVOICE_PARTIALLY_PAID, INVOICE_OVERDUE}
)
REFERENCE_PREFIX = "PX-I-"


def invoice_number(invoice: Invoice) -> str:
    """The Xero InvoiceNumber: Perfex's formatted number (drafts: PREFIX-DRAFT-id)."""
    if invoice.status == INVOICE_DRAFT:
        return f"{invoice.prefix or ''}DRAFT-{invoice.id}"
    return invoice.formatted_number or str(invoice.number)


def invoice_reference(invoice_id: int) -> str:
    """The Xero Reference carrying the Perfex invoice id (a second look-up key)."""
    return f"{REFERENCE_PREFIX}{invoice_id}"


def xero_status(status: int, drafts: str = DRAFTS_SKIP) -> str | None:
    """The Xero status for a Perfex invoice status; None means do not send."""
    if status in AUTHORISED_STATUSES:
        return "AUTHORISED"
    if status == INVOICE_CANCELLED:
        return "VOIDED"
    if status == INVOICE_DRAFT and drafts == DRAFTS_DRAFT:
        return "DRAFT"
    return None


def map_invoice(invoice: Invoice, contact_id: str, ctx: DocumentContext) -> Mapped:
    """Map a Perfex invoice to a Xero ACCREC invoice payload (or a skip reason)."""
    key = str(invoice.id)
    status = xero_status(invoice.status, ctx.drafts)
    if status is None:
        reason = (
            "draft (setting drafts=skip)"
            if invoice.status == INVOICE_DRAFT
            else f"status {invoice.status_name} is not synced"
        )
        return skipped(key, reason)
    target = dec(invoice.total)
    if target < 0:
        return skipped(key, f"negative total {target}: a credit note, not an invoice")
    built = document_lines(invoice, ctx, per_line_amounts=True)
    if built is None:
        return skipped(key, discount_problem(invoice))
    items, rates, tax, notes = built
    payload: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": invoice_number(invoice),
        "Reference": invoice_reference(invoice.id),
        "Date": invoice.date.isoformat(),
        "DueDate": (invoice.duedate or invoice.date).isoformat(),
        "CurrencyCode": invoice.currency.code,
        "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": items,
    }
    return finish_document(
        key, payload, target, rates, ctx, notes, tax=tax, strict=status != "VOIDED"
    )
