"""Payments and credit-note allocations: only against AUTHORISED documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..serialize import iso_utc, quantize
from .allocations import allocated_invoice, release_allocation
from .common import (
    Ctx,
    Invalid,
    Resource,
    add_date,
    contact_brief,
    find_account,
    new_id,
    opt_date,
    opt_decimal,
)
from .credit_notes import CreditNotes
from .credits import Overpayments, Prepayments, credit_resource
from .invoices import Invoices
from .lockdates import check_open

PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
    "RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT",
    "RECEIVE-PREPAYMENT": "ARPREPAYMENTPAYMENT",
}
NOT_AUTHORISED = "Payments can only be made against Authorised documents"
TOO_MUCH = "Payment amount exceeds the amount outstanding on this document"


def _find_document(ctx: Ctx, raw: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The invoice or credit note a payment is for."""
    invoice = raw.get("Invoice")
    credit = raw.get("CreditNote")
    if isinstance(invoice, dict) and (
        invoice.get("InvoiceID") or invoice.get("InvoiceNumber")
    ):
        resource: Any = Invoices()
        key = invoice.get("InvoiceID") or invoice.get("InvoiceNumber")
    elif raw.get("InvoiceNumber"):
        resource, key = Invoices(), raw["InvoiceNumber"]
    elif isinstance(credit, dict) and (
        credit.get("CreditNoteID") or credit.get("CreditNoteNumber")
    ):
        resource = CreditNotes()
        key = credit.get("CreditNoteID") or credit.get("CreditNoteNumber")
    elif refund := _refunded(raw):
        resource, key = refund
    else:
        raise Invalid("You must specify an Invoice or CreditNote for the payment.")
    from .common import NotFound

    try:
        return resource, resource.get(ctx, str(key))
    except NotFound as exc:
        raise Invalid(f"{resource.label} could not be found") from exc


class Payments(Resource):
    """The Payments collection."""

    name = "Payments"
    id_field = "PaymentID"
    error_flag = "HasValidationErrors"

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """Record a payment and update the document's amounts."""
        resource, doc = _find_document(ctx, raw)
        account = find_account(ctx, raw.get("Account") or {}, raw.get("Code"))
        if account is None:
            raise Invalid("Account could not be found")
        if account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
            raise Invalid(
                "Payments can only be made to bank accounts or accounts with "
                "payments enabled."
            )
        if doc["Status"] != "AUTHORISED":
            raise Invalid(NOT_AUTHORISED)
        amount = opt_decimal(raw, "Amount")
        if amount is None or amount <= 0:
            raise Invalid("Payment amount must be greater than zero.")
        amount = quantize(amount, 2)
        if amount > resource.outstanding(doc):
            raise Invalid(TOO_MUCH)
        rate = opt_decimal(raw, "CurrencyRate")
        rate = quantize(rate if rate and rate > 0 else doc["CurrencyRate"], 6)
        if account.get("CurrencyCode", doc["CurrencyCode"]) == doc["CurrencyCode"]:
            bank_amount = amount
        else:
            bank_amount = quantize(amount / rate, 2)
        when = opt_date(raw, "Date") or ctx.today()
        check_open(ctx, when)
        record = {
            "PaymentID": new_id(),
            "Date": when,
            "Amount": amount,
            "BankAmount": bank_amount,
            "CurrencyRate": rate,
            "Reference": raw.get("Reference"),
            "IsReconciled": bool(raw.get("IsReconciled")),
            "Status": "AUTHORISED",
            "PaymentType": PAYMENT_TYPES[doc["Type"]],
            "AccountID": account["AccountID"],
            "DocResource": resource.name,
            "DocID": doc[resource.id_field],
            "UpdatedDateUTC": ctx.stamp(),
        }
        self.table(ctx)[record["PaymentID"]] = record
        doc["AmountPaid"] += amount
        doc["PaymentIDs"].append(record["PaymentID"])
        doc["UpdatedDateUTC"] = ctx.stamp()
        resource.settle(ctx, doc)
        if resource.category:
            ctx.event(resource.category, "UPDATE", doc[resource.id_field])
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Only deletion: Status DELETED reverses the payment."""
        if raw.get("Status") != "DELETED":
            raise Invalid("A payment can only be updated to delete it.")
        if record["Status"] == "DELETED":
            raise Invalid("This payment has already been deleted.")
        check_open(ctx, record["Date"])
        resource = _doc_resource(record["DocResource"])
        doc = resource.table(ctx)[record["DocID"]]
        record["Status"] = "DELETED"
        record["UpdatedDateUTC"] = ctx.stamp()
        doc["AmountPaid"] -= record["Amount"]
        doc["UpdatedDateUTC"] = ctx.stamp()
        resource.settle(ctx, doc)
        if resource.category:
            ctx.event(resource.category, "UPDATE", doc[resource.id_field])
        return record

    def written_view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """A write's answer: a credit-note refund names it under `CreditNote`."""
        return self.view(ctx, record, written=True)

    def view(
        self, ctx: Ctx, record: dict[str, Any], written: bool = False
    ) -> dict[str, Any]:
        """A payment as Xero returns it.

        GET lists a credit-note refund's credit note under `Invoice` (its id as
        InvoiceID), as real Xero does (XeroAPI/xero-ruby#48); a write's answer
        names it under `CreditNote`.
        """
        resource = _doc_resource(record["DocResource"])
        doc = resource.table(ctx)[record["DocID"]]
        contact = ctx.tenant.table("Contacts")[doc["ContactID"]]
        account = ctx.tenant.table("Accounts")[record["AccountID"]]
        out: dict[str, Any] = {"PaymentID": record["PaymentID"]}
        add_date(out, "Date", record["Date"])
        out.update(
            BankAmount=record["BankAmount"],
            Amount=record["Amount"],
            CurrencyRate=record["CurrencyRate"],
            PaymentType=record["PaymentType"],
            Status=record["Status"],
            UpdatedDateUTC=record["UpdatedDateUTC"],
            UpdatedDateUTCString=iso_utc(record["UpdatedDateUTC"]),
            HasAccount=True,
            IsReconciled=record["IsReconciled"],
            HasValidationErrors=False,
            Account={"AccountID": account["AccountID"], "Code": account["Code"]},
        )
        if record.get("Reference"):
            out["Reference"] = record["Reference"]
        brief = {
            "Type": doc["Type"],
            resource.id_field: doc[resource.id_field],
            resource.number_field: doc.get(resource.number_field),
            "Contact": contact_brief(contact, full=False),
            "CurrencyCode": doc["CurrencyCode"],
            "IsDiscounted": False,
            "HasErrors": False,
        }
        if resource.name in ("Overpayments", "Prepayments"):
            # Real Xero lists a refund's overpayment/prepayment under `Invoice`,
            # its id as InvoiceID (not under `Overpayment` as the spec says).
            brief = {
                "InvoiceID": doc[resource.id_field],
                "Contact": contact_brief(contact, full=False),
                "CurrencyCode": doc["CurrencyCode"],
                "HasErrors": False,
            }
        key = "CreditNote" if resource.name == "CreditNotes" else "Invoice"
        if key == "CreditNote" and not written:
            key = "Invoice"
            brief["InvoiceID"] = brief.pop(resource.id_field)
            brief["InvoiceNumber"] = brief.pop(resource.number_field)
        out[key] = {k: v for k, v in brief.items() if v is not None}
        return out


def _doc_resource(name: str) -> Any:
    """The resource a payment is recorded against, by collection name."""
    if name == "Invoices":
        return Invoices()
    if name == "CreditNotes":
        return CreditNotes()
    return credit_resource(name)


def _refunded(raw: dict[str, Any]) -> tuple[Any, str] | None:
    """(resource, id) of the overpayment or prepayment a refund names, if any."""
    for resource in (Overpayments(), Prepayments()):
        ref = raw.get(resource.kind)
        if isinstance(ref, dict) and ref.get(resource.id_field):
            return resource, str(ref[resource.id_field])
    return None


def allocate(
    ctx: Ctx, credit_note: dict[str, Any], raw: dict[str, Any]
) -> dict[str, Any]:
    """Apply part of a credit note to an invoice; return the allocation view."""
    notes, invoices = CreditNotes(), Invoices()
    if credit_note["Status"] != "AUTHORISED":
        raise Invalid("Credit note must be AUTHORISED to be allocated.")
    invoice = allocated_invoice(ctx, raw)
    if invoice["Status"] != "AUTHORISED":
        raise Invalid("Credit notes can only be allocated to Authorised invoices")
    if invoice["CurrencyCode"] != credit_note["CurrencyCode"]:
        raise Invalid("The credit note and invoice must be in the same currency.")
    if invoice["ContactID"] != credit_note["ContactID"]:
        raise Invalid("The credit note and invoice must be for the same contact.")
    amount = opt_decimal(raw, "Amount")
    if amount is None or amount <= 0:
        raise Invalid("Allocation amount must be greater than zero.")
    amount = quantize(amount, 2)
    if amount > notes.outstanding(credit_note):
        raise Invalid("Amount exceeds the remaining credit on the credit note.")
    if amount > invoices.outstanding(invoice):
        raise Invalid("Amount exceeds the amount due on the invoice.")
    when = opt_date(raw, "Date") or ctx.today()
    check_open(ctx, when)
    alloc = {
        "AllocationID": new_id(),
        "InvoiceID": invoice["InvoiceID"],
        "CreditNoteID": credit_note["CreditNoteID"],
        "Amount": amount,
        "Date": when,
    }
    credit_note["Allocations"].append(alloc)
    credit_note["AmountAllocated"] += amount
    invoice["Credits"].append(alloc)
    invoice["AmountCredited"] += amount
    for resource, doc in ((notes, credit_note), (invoices, invoice)):
        doc["UpdatedDateUTC"] = ctx.stamp()
        resource.settle(ctx, doc)
        ctx.event(resource.category, "UPDATE", doc[resource.id_field])
    view: dict[str, Any] = {"AllocationID": alloc["AllocationID"], "Amount": amount}
    view["Date"] = alloc["Date"]
    view["Invoice"] = {"InvoiceID": invoice["InvoiceID"]}
    if invoice.get("InvoiceNumber"):
        view["Invoice"]["InvoiceNumber"] = invoice["InvoiceNumber"]
    view["CreditNote"] = {"CreditNoteID": credit_note["CreditNoteID"]}
    view["StatusAttributeString"] = "OK"
    return {k: v for k, v in view.items() if v is not None}


def deallocate(
    ctx: Ctx, credit_note: dict[str, Any], allocation_id: str
) -> dict[str, Any]:
    """Delete one allocation: amounts back, PAID documents AUTHORISED again."""
    notes, invoices = CreditNotes(), Invoices()
    alloc, invoice = release_allocation(ctx, credit_note, "Credits", allocation_id)
    for resource, doc in ((notes, credit_note), (invoices, invoice)):
        doc["UpdatedDateUTC"] = ctx.stamp()
        resource.settle(ctx, doc)
        ctx.event(resource.category, "UPDATE", doc[resource.id_field])
    return {
        "AllocationID": alloc["AllocationID"],
        "Amount": alloc["Amount"],
        "Date": alloc["Date"],
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "CreditNote": {"CreditNoteID": credit_note["CreditNoteID"]},
        "IsDeleted": True,
    }


ZERO = Decimal("0.00")
