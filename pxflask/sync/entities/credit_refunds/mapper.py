"""Perfex credit-note refunds -> Xero refund Payments on credit notes (pure)."""

from __future__ import annotations

from typing import Any

from pxflask.perfex.records import present
from pxflask.perfex.refunds import CreditRefund
from pxflask.sync.links import DELETED, VOIDED, LinkRow
from pxflask.sync.mappers.common import Mapped, clip, dec, round2, skipped, strip_html

REFERENCE = "Perfex refund #{id}"
"""Every refund's Reference starts so: a crashed run's create is found by it."""


def refund_reference(refund: CreditRefund) -> str:
    """The Xero Reference: the Perfex refund id, then its note's first line."""
    head = REFERENCE.format(id=refund.id)
    note = strip_html(refund.note).strip().splitlines()
    return clip(f"{head}: {note[0].strip()}" if note else head, 255)


def map_refund(
    refund: CreditRefund, *, note: LinkRow | None, account_code: str | None
) -> Mapped:
    """Map a refund; skip with the reason when it cannot be sent yet."""
    key = str(refund.id)
    cn = refund.credit_note_id
    if note is None or not note.xero_id:
        return skipped(key, f"credit note {cn} is not synced to Xero")
    if note.state in (VOIDED, DELETED):
        return skipped(key, f"credit note {cn} is {note.state} in Xero")
    if not account_code:
        return skipped(
            key,
            f"no Xero account for payment mode {refund.mode!r}"
            f" (set payment_account.{refund.mode or 'default'})",
        )
    amount = round2(dec(refund.amount))
    if amount <= 0:
        return skipped(key, f"amount {amount} is not positive")
    payload: dict[str, Any] = {
        "CreditNote": {"CreditNoteID": note.xero_id},
        "Account": {"Code": account_code},
        "Amount": amount,
        "Date": present(refund.date).isoformat(),
        "Reference": refund_reference(refund),
    }
    return Mapped(key=key, payload=payload)
