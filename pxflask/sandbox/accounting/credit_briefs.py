"""How an invoice lists the overpayments and prepayments allocated to it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .common import Ctx

CREDIT_ID_FIELDS = {"Overpayments": "OverpaymentID", "Prepayments": "PrepaymentID"}
"""The id field of each credit collection an invoice lists."""


def credit_brief(
    id_field: str, record: dict[str, Any], amount: Decimal, on: Any
) -> dict[str, Any]:
    """One allocation of a credit as an invoice lists it."""
    return {
        id_field: record[id_field],
        "ID": record[id_field],
        "Date": on,
        "Total": record["Total"],
        "AppliedAmount": amount,
    }


def invoice_credits(ctx: Ctx, invoice: dict[str, Any], name: str) -> list[dict]:
    """The Overpayments/Prepayments array of an invoice view."""
    id_field = CREDIT_ID_FIELDS[name]
    table = ctx.tenant.table(name)
    return [
        credit_brief(id_field, table[a[id_field]], a["Amount"], a["Date"])
        for a in invoice.get(name, [])
    ]
