"""Rules of the payments pull: its keys, why a payment is refused, its mode."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from pxflask.perfex.balances import Balance
from pxflask.perfex.records import INVOICE_CANCELLED, INVOICE_DRAFT
from pxflask.sync.entities.payments import PULL_DEFAULT, PULL_SETTING
from pxflask.sync.entities.payments.mapper import DEFAULT_KEY
from pxflask.sync.links import LinkRow

ENTITY = "payments"
CURSOR = "xero.payments.modified"
CLAIM = "xero:"
"""Key prefix of a claim (or skip) link for a Xero payment not yet in Perfex."""
PULLED = "pulled-from-xero"
"""idempotency_key of a link whose Perfex row was recorded from Xero."""
DELETED_IN_XERO = "deleted in Xero; Perfex still has it (retry the record to resend)"
OUT_OF_SCOPE = {
    "AROVERPAYMENTPAYMENT": "overpayment refund",
    "ARPREPAYMENTPAYMENT": "prepayment refund",
}
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
    value = (settings.get(PULL_SETTING) or PULL_DEFAULT).strip().lower()
    return value in ("yes", "on", "true", "1")


def claim_key(payment_id: str) -> str:
    """The link key of a Xero payment that has no Perfex row yet."""
    return CLAIM + payment_id.lower()


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


def mode_for_account(
    account: Mapping[str, Any],
    settings: Mapping[str, str],
    mode_links: Mapping[str, LinkRow],
    modes: Iterable[Any],
) -> str | None:
    """The Perfex payment mode for a Xero account.

    In order: a `payment_account.<mode id>` setting naming the account's code (then
    a gateway id's), the payment-mode link to the account, else the first active
    Perfex mode usable on invoices (Perfex's seed mode "Bank"); None when none.
    """
    code = str(account.get("Code") or "").strip()
    account_id = str(account.get("AccountID") or "").lower()
    if code:
        named = [
            key.split(".", 1)[1]
            for key, value in settings.items()
            if key.startswith("payment_account.")
            and key != DEFAULT_KEY
            and (value or "").strip() == code
        ]
        if named:
            return min(named, key=mode_order)
    for mode in sorted(mode_links, key=mode_order):
        link = mode_links[mode]
        if (account_id and str(link.xero_id or "").lower() == account_id) or (
            code and link.xero_number == code
        ):
            return mode
    usable = [m for m in modes if not getattr(m, "expenses_only", False)]
    return str(usable[0].id) if usable else None


def mode_order(mode: str) -> tuple[bool, int, str]:
    """Mode ids first, in numeric order, then gateway ids by name."""
    return (not mode.isdigit(), int(mode) if mode.isdigit() else 0, mode)
