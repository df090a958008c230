"""The CreditNotes collection: sales (ACCRECCREDIT) and purchase credit notes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .common import Ctx
from .documents import Document, payment_brief, strip_none
from .lines import ZERO


class CreditNotes(Document):
    """The CreditNotes collection (ACCRECCREDIT, ACCPAYCREDIT)."""

    name = "CreditNotes"
    id_field = "CreditNoteID"
    category = "CREDITNOTE"
    types = ("ACCRECCREDIT", "ACCPAYCREDIT")
    number_field = "CreditNoteNumber"
    numbered_type = "ACCRECCREDIT"
    prefix = "CN-"
    label = "Credit Note"

    def new_record(self) -> dict[str, Any]:
        """Nothing allocated or refunded yet."""
        return {
            "AmountAllocated": ZERO,
            "AmountPaid": ZERO,
            "PaymentIDs": [],
            "Allocations": [],
        }

    def outstanding(self, record: dict[str, Any]) -> Decimal:
        """RemainingCredit."""
        return record["Total"] - record["AmountAllocated"] - record["AmountPaid"]

    def allocated(self, record: dict[str, Any]) -> bool:
        """Allocated to invoices or refunded."""
        return record["AmountAllocated"] > 0 or record["AmountPaid"] > 0

    def view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool = True
    ) -> dict[str, Any]:
        """A credit note as Xero returns it."""
        out = self.common_view(ctx, record, lines)
        invoices = ctx.tenant.table("Invoices")
        payments = ctx.tenant.table("Payments")
        out.update(
            RemainingCredit=self.outstanding(record),
            AppliedAmount=record["AmountAllocated"],
            Allocations=[
                {
                    "AllocationID": alloc["AllocationID"],
                    "Amount": alloc["Amount"],
                    "Date": alloc["Date"],
                    "Invoice": strip_none(
                        {
                            "InvoiceID": alloc["InvoiceID"],
                            "InvoiceNumber": invoices[alloc["InvoiceID"]].get(
                                "InvoiceNumber"
                            ),
                        }
                    ),
                }
                for alloc in record["Allocations"]
            ],
            Payments=[
                payment_brief(payments[pid])
                for pid in record["PaymentIDs"]
                if payments[pid]["Status"] != "DELETED"
            ],
        )
        return out
