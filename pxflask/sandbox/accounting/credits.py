"""Overpayments and prepayments: customer credit made by a RECEIVE bank transaction.

As in Xero, a `RECEIVE-OVERPAYMENT` / `RECEIVE-PREPAYMENT` bank transaction creates
an Overpayment / Prepayment with the same id. It can be allocated to AUTHORISED
ACCREC invoices of the same contact and currency (the invoice's AmountCredited
grows, never its AmountPaid) or refunded through Payments (PaymentType
AROVERPAYMENTPAYMENT / ARPREPAYMENTPAYMENT). Allocations are not payments: they
never appear in GET /Payments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from ..serialize import iso_utc, quantize
from .allocations import allocated_invoice, release_allocation
from .common import (
    Ctx,
    Invalid,
    Resource,
    add_date,
    contact_brief,
    new_id,
    opt_date,
    opt_decimal,
)
from .credit_briefs import credit_brief
from .documents import default_rate
from .invoices import Invoices
from .lines import ZERO, line_views
from .lockdates import check_open

CREDIT_TYPES = {
    "RECEIVE-OVERPAYMENT": "Overpayments",
    "RECEIVE-PREPAYMENT": "Prepayments",
}
"""Bank transaction type -> the credit collection it creates."""


class Credits(Resource):
    """Shared logic of Overpayments and Prepayments (read and allocate only)."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    number_field: ClassVar[str] = ""

    def outstanding(self, record: dict[str, Any]) -> Decimal:
        """RemainingCredit."""
        return record["Total"] - record["AmountAllocated"] - record["AmountPaid"]

    def settle(self, ctx: Ctx, record: dict[str, Any]) -> None:
        """AUTHORISED <-> PAID as the remaining credit hits/leaves zero."""
        if record["Status"] == "AUTHORISED" and self.outstanding(record) <= 0:
            record["Status"] = "PAID"
        elif record["Status"] == "PAID" and self.outstanding(record) > 0:
            record["Status"] = "AUTHORISED"

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """Not through this collection: Xero creates them from bank transactions."""
        raise Invalid(
            f"{self.label}s are created with BankTransactions of type RECEIVE-"
            f"{self.kind.upper()}."
        )

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Not editable here (allocate or refund them instead)."""
        raise Invalid(f"{self.label}s cannot be updated.")

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """An overpayment or prepayment as Xero returns it."""
        contact = ctx.tenant.table("Contacts")[record["ContactID"]]
        invoices = ctx.tenant.table("Invoices")
        payments = ctx.tenant.table("Payments")
        out: dict[str, Any] = {
            self.id_field: record[self.id_field],
            "ID": record[self.id_field],
            "Type": record["Type"],
        }
        if record.get("Reference"):
            out["Reference"] = record["Reference"]
        out.update(
            RemainingCredit=self.outstanding(record),
            AppliedAmount=record["AmountAllocated"],
            Allocations=[
                {
                    "AllocationID": a["AllocationID"],
                    "Amount": a["Amount"],
                    "Date": a["Date"],
                    "Invoice": _invoice_ref(invoices[a["InvoiceID"]]),
                }
                for a in record["Allocations"]
            ],
            Payments=[
                {
                    "PaymentID": pid,
                    "Amount": payments[pid]["Amount"],
                    "Date": payments[pid]["Date"],
                    "HasAccount": False,
                    "HasValidationErrors": False,
                }
                for pid in record["PaymentIDs"]
                if payments[pid]["Status"] != "DELETED"
            ],
            HasAttachments=False,
            Contact=contact_brief(contact),
        )
        add_date(out, "Date", record["Date"])
        out.update(
            Status=record["Status"],
            LineAmountTypes=record["LineAmountTypes"],
            LineItems=line_views(record["LineItems"], ctx.unitdp),
            SubTotal=record["SubTotal"],
            TotalTax=record["TotalTax"],
            Total=record["Total"],
            UpdatedDateUTC=record["UpdatedDateUTC"],
            UpdatedDateUTCString=iso_utc(record["UpdatedDateUTC"]),
            CurrencyCode=record["CurrencyCode"],
            CurrencyRate=record["CurrencyRate"],
        )
        return out

    def brief(self, record: dict[str, Any], amount: Decimal, on: Any) -> dict:
        """How an invoice lists one allocation of this credit."""
        return credit_brief(self.id_field, record, amount, on)


class Overpayments(Credits):
    """The Overpayments collection (RECEIVE-OVERPAYMENT only)."""

    name = "Overpayments"
    id_field = "OverpaymentID"
    kind = "Overpayment"
    label = "Overpayment"


class Prepayments(Credits):
    """The Prepayments collection (RECEIVE-PREPAYMENT only)."""

    name = "Prepayments"
    id_field = "PrepaymentID"
    kind = "Prepayment"
    label = "Prepayment"


def credit_resource(name: str) -> Credits:
    """The credit collection by name."""
    return Overpayments() if name == "Overpayments" else Prepayments()


def open_credit(ctx: Ctx, tx: dict[str, Any]) -> dict[str, Any]:
    """Create the Overpayment/Prepayment of a new credit bank transaction."""
    resource = credit_resource(CREDIT_TYPES[tx["Type"]])
    record = {
        resource.id_field: tx["BankTransactionID"],
        "Type": tx["Type"],
        "ContactID": tx["ContactID"],
        "Date": tx["Date"],
        "Reference": tx.get("Reference"),
        "Status": "AUTHORISED",
        "LineAmountTypes": tx["LineAmountTypes"],
        "LineItems": tx["LineItems"],
        "SubTotal": tx["SubTotal"],
        "TotalTax": tx["TotalTax"],
        "Total": tx["Total"],
        "CurrencyCode": tx["CurrencyCode"],
        "CurrencyRate": default_rate(ctx.tenant.base_currency, tx["CurrencyCode"]),
        "AmountAllocated": ZERO,
        "AmountPaid": ZERO,
        "Allocations": [],
        "PaymentIDs": [],
        "UpdatedDateUTC": ctx.stamp(),
    }
    resource.table(ctx)[record[resource.id_field]] = record
    tx[resource.id_field] = record[resource.id_field]
    return record


def void_credit(ctx: Ctx, tx: dict[str, Any]) -> None:
    """A credit bank transaction deleted: only while nothing is allocated/refunded."""
    resource = credit_resource(CREDIT_TYPES[tx["Type"]])
    record = resource.table(ctx)[tx["BankTransactionID"]]
    if record["AmountAllocated"] > 0 or record["AmountPaid"] > 0:
        raise Invalid(
            f"This {resource.kind.lower()} has been allocated or refunded and "
            "cannot be deleted."
        )
    record["Status"] = "VOIDED"
    record["UpdatedDateUTC"] = ctx.stamp()


def allocate_credit(
    ctx: Ctx, resource: Credits, credit: dict[str, Any], raw: dict[str, Any]
) -> dict[str, Any]:
    """Apply part of an overpayment/prepayment to an invoice; the allocation view."""
    invoices = Invoices()
    if credit["Status"] != "AUTHORISED":
        raise Invalid(f"{resource.label} must be AUTHORISED to be allocated.")
    invoice = allocated_invoice(ctx, raw)
    if invoice["Type"] != "ACCREC":
        raise Invalid(
            f"A receive {resource.kind.lower()} can only be allocated to a sales "
            "invoice."
        )
    if invoice["Status"] != "AUTHORISED":
        raise Invalid(f"{resource.label}s can only be allocated to Authorised invoices")
    if invoice["CurrencyCode"] != credit["CurrencyCode"]:
        raise Invalid(
            f"The {resource.kind.lower()} and invoice must be in the same currency."
        )
    if invoice["ContactID"] != credit["ContactID"]:
        raise Invalid(
            f"The {resource.kind.lower()} and invoice must be for the same contact."
        )
    amount = opt_decimal(raw, "Amount")
    if amount is None or amount <= 0:
        raise Invalid("Allocation amount must be greater than zero.")
    amount = quantize(amount, 2)
    if amount > resource.outstanding(credit):
        raise Invalid(
            f"Amount exceeds the remaining credit on the {resource.kind.lower()}."
        )
    if amount > invoices.outstanding(invoice):
        raise Invalid("Amount exceeds the amount due on the invoice.")
    when = opt_date(raw, "Date") or ctx.today()
    check_open(ctx, when)
    alloc = {
        "AllocationID": new_id(),
        "InvoiceID": invoice["InvoiceID"],
        resource.id_field: credit[resource.id_field],
        "Amount": amount,
        "Date": when,
    }
    credit["Allocations"].append(alloc)
    credit["AmountAllocated"] += amount
    credit["UpdatedDateUTC"] = ctx.stamp()
    resource.settle(ctx, credit)
    invoice.setdefault(resource.name, []).append(alloc)
    invoice["AmountCredited"] += amount
    invoice["UpdatedDateUTC"] = ctx.stamp()
    invoices.settle(ctx, invoice)
    ctx.event(invoices.category or "INVOICE", "UPDATE", invoice["InvoiceID"])
    return {
        "AllocationID": alloc["AllocationID"],
        "Amount": amount,
        "Date": alloc["Date"],
        "Invoice": _invoice_ref(invoice),
        resource.kind: {
            resource.id_field: credit[resource.id_field],
            "ID": credit[resource.id_field],
        },
        "StatusAttributeString": "OK",
    }


def deallocate_credit(
    ctx: Ctx, resource: Credits, credit: dict[str, Any], allocation_id: str
) -> dict[str, Any]:
    """Delete one allocation: amounts back, PAID documents AUTHORISED again."""
    invoices = Invoices()
    alloc, invoice = release_allocation(ctx, credit, resource.name, allocation_id)
    credit["UpdatedDateUTC"] = ctx.stamp()
    resource.settle(ctx, credit)
    invoice["UpdatedDateUTC"] = ctx.stamp()
    invoices.settle(ctx, invoice)
    ctx.event("INVOICE", "UPDATE", invoice["InvoiceID"])
    return {
        "AllocationID": alloc["AllocationID"],
        "Amount": alloc["Amount"],
        "Date": alloc["Date"],
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "IsDeleted": True,
    }


def _invoice_ref(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice as an allocation names it."""
    out = {"InvoiceID": invoice["InvoiceID"]}
    if invoice.get("InvoiceNumber"):
        out["InvoiceNumber"] = invoice["InvoiceNumber"]
    return out
