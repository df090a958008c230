"""Rules of the payments pull: its keys, why a payment is refused, its mode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pxflask.perfex.balances import Balance
from pxflask.perfex.records import INVOICE_CANCELLED, INVOICE_DRAFT
from pxflask.sync.entities.payments import SWITCH
from pxflask.sync.links import LinkRow
from pxflask.sync.mappers.pulled import (  # noqa: F401 - the payments pull's names
    CLAIM,
    WANTED,
    claim_key,
    mode_for_account,
    mode_order,
    naive_utc,
    xero_day,
)
from pxflask.sync.steps.pulls import DELETED_IN_XERO  # noqa: F401 - one text

ENTITY = "payments"
CURSOR = "xero.payments.modified"
OUT_OF_SCOPE = {
    "AROVERPAYMENTPAYMENT": "overpayment refund",
    "ARPREPAYMENTPAYMENT": "prepayment refund",
}
WANTED_CHUNK = 20
"""PaymentIDs per `where` read of wanted payments (Xero caps the URL length)."""
CREDITS_CURSOR = "xero.invoice-credits.checked"
CREDIT_KINDS = (
    ("Overpayments", "OverpaymentID", "overpayment"),
    ("Prepayments", "PrepaymentID", "prepayment"),
)
"""Invoice arrays of customer credit applied in Xero: (key, id field, name)."""

AccountFor = Callable[[str | None, Mapping[str, str], Mapping[str, LinkRow]], Any]
"""The push side's account choice: (mode, settings, mode links) -> account code."""


def enabled(settings: Mapping[str, str]) -> bool:
    """True when payments made in Xero are pulled into Perfex."""
    return SWITCH.is_on(settings)


def pulled_note(record: Mapping[str, Any]) -> str:
    """The Perfex note of a payment recorded from Xero."""
    text = f"Recorded from Xero payment {record['PaymentID']}"
    reference = (record.get("Reference") or "").strip()
    return f"{text} (reference: {reference})" if reference else text


def refusal(
    invoice_id: int, amount: Decimal, currency: str, balance: Balance | None
) -> str | None:
    """Why a Xero payment cannot be recorded on a Perfex invoice, or None."""
    if balance is None:
        return f"invoice {invoice_id} no longer exists in Perfex"
    if balance.status == INVOICE_DRAFT:
        return f"invoice {invoice_id} is a draft in Perfex"
    if balance.status == INVOICE_CANCELLED:
        return f"invoice {invoice_id} is cancelled in Perfex"
    if currency and balance.currency and currency != balance.currency:
        return (
            f"the payment is in {currency} but invoice {invoice_id} is in"
            f" {balance.currency} in Perfex"
        )
    if amount <= 0:
        return f"amount {amount} is not positive"
    if amount > balance.due:
        return (
            f"amount {amount} is above what is due in Perfex on invoice"
            f" {invoice_id} ({balance.due})"
        )
    return None
