"""Allocations of a credit (credit note, overpayment, prepayment) to an invoice."""

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
