"""Allocations of a credit (credit note, overpayment, prepayment) to an invoice.

A PUT .../Allocations body may hold several elements (the spec's Allocations
array, with summarizeErrors). What real Xero does with several is not settled
in public material: a Xero developer said in 2017 that lists of credit-note
allocations could not be sent (XeroAPI/Xero-Net#303), a 2020 issue still
called it one allocation per call (XeroAPI/xero-php-oauth2#128), and the spec
added summarizeErrors to this endpoint afterwards (XeroAPI/Xero-OpenAPI#225,
#237). The sandbox therefore does what Xero documents for its other batch
endpoints: the elements are applied in order, each seeing the credit the ones
before it used; a refused element changes nothing and does not stop the others.
With summarizeErrors=false the answer is 200 with every element echoed, a
refused one with StatusAttributeString ERROR and its ValidationErrors; with the
default (summarized) it is a 400 listing the refused elements only, the good
ones being allocated all the same (responses.allocations_response).
"""

from __future__ import annotations

from typing import Any

from .common import Ctx, Invalid, NotFound
from .invoices import Invoices
from .lockdates import check_open


def allocated_invoice(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
    """The invoice an allocation element names (by id or number), or Invalid."""
    ref = raw.get("Invoice")
    key = None
    if isinstance(ref, dict):
        key = ref.get("InvoiceID") or ref.get("InvoiceNumber")
    if not key:
        raise Invalid("Invoice must be specified for the allocation.")
    try:
        return Invoices().get(ctx, str(key))
    except NotFound as exc:
        raise Invalid("Invoice could not be found") from exc


def release_allocation(
    ctx: Ctx, credit: dict[str, Any], listed_as: str, allocation_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Take an allocation off a credit and its invoice (``invoice[listed_as]``).

    Amounts go back on both sides; the caller settles the statuses. Raises
    NotFound for an unknown allocation and Invalid in a locked period.
    """
    wanted = allocation_id.lower()
    allocations = credit["Allocations"]
    alloc = next((a for a in allocations if a["AllocationID"] == wanted), None)
    if alloc is None:
        raise NotFound(allocation_id)
    check_open(ctx, alloc["Date"])
    invoice = Invoices().table(ctx)[alloc["InvoiceID"]]
    credit["Allocations"].remove(alloc)
    credit["AmountAllocated"] -= alloc["Amount"]
    invoice[listed_as] = [
        a for a in invoice.get(listed_as, []) if a["AllocationID"] != wanted
    ]
    invoice["AmountCredited"] -= alloc["Amount"]
    return alloc, invoice
