"""The Invoices collection: sales invoices (ACCREC) and bills (ACCPAY)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .common import Ctx
from .credit_briefs import invoice_credits
from .documents import Document, payment_brief, strip_none
from .lines import ZERO


class Invoices(Document):
    """The Invoices collection (ACCREC sales invoices, ACCPAY bills)."""

    name = "Invoices"
    id_field = "InvoiceID"
    category = "INVOICE"
    lines_when_unpaged = False
    types = ("ACCREC", "ACCPAY")
    number_field = "InvoiceNumber"
    numbered_type = "ACCREC"
    prefix = "INV-"
    label = "Invoice"

    def new_record(self) -> dict[str, Any]:
        """Nothing paid or credited yet."""
        return {
            "AmountPaid": ZERO,
            "AmountCredited": ZERO,
            "PaymentIDs": [],
            "Credits": [],
        }

    def outstanding(self, record: dict[str, Any]) -> Decimal:
        """AmountDue."""
        return record["Total"] - record["AmountPaid"] - record["AmountCredited"]

    def allocated(self, record: dict[str, Any]) -> bool:
        """Payments or credit notes applied."""
        return record["AmountPaid"] > 0 or record["AmountCredited"] > 0

    def list_filter(
        self, records: list[dict[str, Any]], args: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Statuses, ContactIDs and InvoiceNumbers."""
        from .query import csv_values

        records = super().list_filter(records, args)
        numbers = set(csv_values(args.get("InvoiceNumbers")))
        if numbers:
            records = [r for r in records if r.get("InvoiceNumber") in numbers]
        return records

    def view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool = True
    ) -> dict[str, Any]:
        """An invoice as Xero returns it."""
        out = self.common_view(ctx, record, lines)
        payments = ctx.tenant.table("Payments")
        credit_notes = ctx.tenant.table("CreditNotes")
        out.update(
            AmountDue=self.outstanding(record),
            AmountPaid=record["AmountPaid"],
            AmountCredited=record["AmountCredited"],
            IsDiscounted=bool(record["TotalDiscount"]),
            Payments=[
                payment_brief(payments[pid])
                for pid in record["PaymentIDs"]
                if payments[pid]["Status"] != "DELETED"
            ],
            CreditNotes=[
                strip_none(
                    {
                        "CreditNoteID": credit["CreditNoteID"],
                        "CreditNoteNumber": credit_notes[credit["CreditNoteID"]].get(
                            "CreditNoteNumber"
                        ),
                        "AppliedAmount": credit["Amount"],
                        "Total": credit_notes[credit["CreditNoteID"]]["Total"],
                        "Date": credit["Date"],
                        "HasErrors": False,
                    }
                )
                for credit in record["Credits"]
            ],
            Prepayments=invoice_credits(ctx, record, "Prepayments"),
            Overpayments=invoice_credits(ctx, record, "Overpayments"),
        )
        return out
