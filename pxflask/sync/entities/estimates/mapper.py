"""Perfex estimates -> Xero quotes whose Total and TotalTax equal Perfex's.

The lines follow the shared document rules (mappers/documents.py): a before-tax
percent discount as DiscountRate, a fixed one shared over the lines and sent as
one negative "Discount" line per TaxType (as for credit notes: the quote lines'
DiscountAmount is not relied on), an after-tax discount and the adjustment as
untaxed lines, line TaxAmounts where Xero's per-line rounding would differ, and
the capped "Rounding" line. Quotes take no unitdp, so unit amounts stay at 2 dp.

Status: 1 draft DRAFT, 2 sent SENT, 3 declined DECLINED, 4 accepted ACCEPTED, an
estimate converted to an invoice (invoiceid set) INVOICED whatever its status.
5 expired is sent as SENT: Xero has no EXPIRED status, an unanswered quote past
its ExpiryDate is what Xero calls expired, and SENT keeps every later move
(accepted after all, declined) open in Xero.
"""

from __future__ import annotations

from typing import Any

from pxflask.perfex.records import (
    ESTIMATE_ACCEPTED,
    ESTIMATE_DECLINED,
    ESTIMATE_DRAFT,
    ESTIMATE_EXPIRED,
    ESTIMATE_SENT,
    Estimate,
)
from pxflask.sync.mappers.common import Mapped, clip, dec, failed, skipped, strip_html
from pxflask.sync.mappers.documents import (
    DocumentContext,
    discount_problem,
    document_lines,
    finish_document,
)

REFERENCE_PREFIX = "PX-EST-"
STATUSES = {
    ESTIMATE_DRAFT: "DRAFT",
    ESTIMATE_SENT: "SENT",
    ESTIMATE_DECLINED: "DECLINED",
    ESTIMATE_ACCEPTED: "ACCEPTED",
    ESTIMATE_EXPIRED: "SENT",
}
"""Perfex estimate status -> Xero quote status (converted ones: INVOICED)."""
TERMS_LIMIT = 4000


def estimate_reference(estimate_id: int) -> str:
    """The Xero Reference carrying the Perfex estimate id (a look-up key)."""
    return f"{REFERENCE_PREFIX}{estimate_id}"


def quote_status(estimate: Estimate) -> str | None:
    """The Xero status of a Perfex estimate (None: a status Perfex does not have)."""
    if estimate.invoice_id:
        return "INVOICED"
    return STATUSES.get(estimate.status)


def map_estimate(estimate: Estimate, contact_id: str, ctx: DocumentContext) -> Mapped:
    """Map a Perfex estimate to a Xero quote payload (or a skip or failure)."""
    key = str(estimate.id)
    status = quote_status(estimate)
    if status is None:
        return skipped(key, f"estimate status {estimate.status} is not synced")
    target = dec(estimate.total)
    if target < 0:
        return skipped(key, f"negative total {target}: Xero quotes cannot be")
    built = document_lines(estimate, ctx, per_line_amounts=False)
    if built is None:
        return skipped(key, discount_problem(estimate))
    items, rates, tax, notes = built
    payload: dict[str, Any] = {
        "Contact": {"ContactID": contact_id},
        "QuoteNumber": estimate.formatted_number,
        "Reference": estimate_reference(estimate.id),
        "Date": estimate.date.isoformat(),
        "CurrencyCode": estimate.currency.code,
        "Status": status,
        "LineAmountTypes": "EXCLUSIVE",
        "LineItems": items,
    }
    if estimate.expirydate is not None:
        payload["ExpiryDate"] = estimate.expirydate.isoformat()
    terms = clip(strip_html(estimate.terms), TERMS_LIMIT)
    if terms:
        payload["Terms"] = terms
    mapped = finish_document(
        key, payload, target, rates, ctx, notes, tax=tax, what="estimate"
    )
    if mapped.unitdp4:
        return failed(key, "a unit amount needs 4 decimals, which quotes cannot take")
    return mapped
