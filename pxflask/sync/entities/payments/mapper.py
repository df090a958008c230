"""Perfex invoice payments -> Xero Payments (in the invoice's currency)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pxflask.perfex.records import Payment, present
from pxflask.sync.mappers.common import Mapped, clip, dec, round2, skipped


def map_payment(
    payment: Payment,
    *,
    invoice_xero_id: str | None,
    account_code: str | None,
    amount_due: Decimal | None = None,
    invoice_status: str | None = None,
) -> Mapped:
    """Map a payment; skip with a reason when Xero would refuse it."""
    key = str(payment.id)
    amount = round2(dec(payment.amount))
    if not invoice_xero_id:
        return skipped(key, f"invoice {payment.invoice_id} is not synced to Xero")
    if invoice_status and invoice_status != "AUTHORISED":
        return skipped(
            key,
            f"invoice {payment.invoice_id} is {invoice_status} in Xero,"
            " payments need AUTHORISED",
        )
    if not account_code:
        return skipped(
            key,
            f"no Xero account for payment mode {payment.mode!r}"
            f" (set payment_account.{payment.mode or 'default'})",
        )
    if amount <= 0:
        return skipped(key, f"amount {amount} is not positive")
    if amount_due is not None and amount > dec(amount_due):
        return skipped(
            key, f"amount {amount} is above what is due on the invoice ({amount_due})"
        )
    payload: dict[str, Any] = {
        "Invoice": {"InvoiceID": invoice_xero_id},
        "Account": {"Code": account_code},
        "Amount": amount,
        "Date": present(payment.date).isoformat(),
    }
    reference = (payment.transaction_id or "").strip()
    if reference:
        payload["Reference"] = clip(reference, 255)
    return Mapped(key=key, payload=payload)
