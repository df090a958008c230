"""What a document made in Xero already carries: payments, allocations, refunds.

A Xero invoice lists its payments (PaymentID, Date, Amount, Reference; not the
bank account). The documents pull runs before the payments step: the payments
pull records them (its own rules: mode from the bank account, transactionid =
PaymentID, linked as pulled). Those older than its cursor it would not see, so
each is named to it by a `wanted:<PaymentID>` payments link it reads by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pxflask.perfex.document_writes import INVOICE
from pxflask.sync.context import PlannedAction
from pxflask.sync.entities.documents_pull.rules import Kind
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import SKIPPED, Outcome
from pxflask.sync.mappers.common import ZERO, dec, round2
from pxflask.sync.mappers.pulled import PAYMENTS_SWITCH, claim_key, wanted_key, xero_day

PAYMENTS = "payments"
"""The payments unit's link entity (its pull records the payments)."""
SWITCH_ON = (
    "switch on payments from Xero (payments_from_xero) to bring its payments to Perfex"
)


def xero_payments(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The payments Xero lists on a document, each with its PaymentID."""
    return [p for p in record.get("Payments") or [] if p.get("PaymentID")]


def _sum(entries: list[Mapping[str, Any]]) -> Decimal:
    """The summed Amount of Xero entries, to the cent."""
    return round2(sum((dec(e.get("Amount") or 0) for e in entries), ZERO))


def paid_note(
    kind: Kind, record: Mapping[str, Any], settings: Mapping[str, str]
) -> str:
    """What Xero already paid, credited, allocated or refunded ('' if nothing)."""
    total = round2(dec(record.get("Total") or 0))
    if kind.name != INVOICE:
        allocated = _sum(list(record.get("Allocations") or []))
        refunded = _sum(xero_payments(record))
        if allocated <= 0 and refunded <= 0:
            return ""
        return (
            f"allocated in Xero {allocated} and refunded {refunded} of {total}: this"
            " pull brings neither, Perfex shows the whole credit left until it is"
            " applied there (refunds made in Xero come only with refunds_from_xero)"
        )
    parts = []
    paid = round2(dec(record.get("AmountPaid") or 0))
    if paid > 0:
        count = len(xero_payments(record))
        if PAYMENTS_SWITCH.is_on(settings):
            parts.append(
                f"paid in Xero {paid} of {total}: its {count} payment(s) are"
                " recorded in Perfex by the payments pull"
            )
        else:
            parts.append(f"paid in Xero {paid} of {total}, not in Perfex: {SWITCH_ON}")
    credited = round2(dec(record.get("AmountCredited") or 0))
    if credited > 0:
        parts.append(
            f"credited in Xero {credited} (credit notes, overpayments, prepayments):"
            " not brought to Perfex"
        )
    return "; ".join(parts)


def wanted(kind: Kind, record: Mapping[str, Any], reason: str) -> list[Outcome]:
    """The payments links naming each payment of a pulled invoice to the pull."""
    if kind.name != INVOICE:
        return []
    xero_id = str(record.get(kind.id_field) or "")
    return [
        Outcome(
            wanted_key(str(p["PaymentID"])),
            SKIPPED,
            None,
            xero_id,
            payload_hash({"wanted": str(p["PaymentID"]).lower()}),
            error=reason,
        )
        for p in xero_payments(record)
    ]


def wanted_reason(record: Mapping[str, Any], settings: Mapping[str, str]) -> str:
    """Why a payment of a pulled invoice is not in Perfex yet."""
    number = record.get("InvoiceNumber") or record.get("InvoiceID")
    if PAYMENTS_SWITCH.is_on(settings):
        return f"made in Xero on invoice {number}: the next payments pull records it"
    return f"made in Xero on invoice {number}: {SWITCH_ON}"


def planned(
    kind: Kind, record: Mapping[str, Any], settings: Mapping[str, str]
) -> list[PlannedAction]:
    """A dry run's payments of a Xero invoice it would pull (when they would come)."""
    if kind.name != INVOICE or not PAYMENTS_SWITCH.is_on(settings):
        return []
    number = str(record.get("InvoiceNumber") or "")
    out = []
    for p in xero_payments(record):
        payment_id = str(p["PaymentID"]).lower()
        day = xero_day(p.get("Date"))
        row = {
            "invoice": f"new in Perfex from Xero {number}",
            "amount": str(round2(dec(p.get("Amount") or 0))),
            "date": day.isoformat() if day else None,
            "transactionid": payment_id,
            "paymentmode": "the mode mapped to the payment's Xero bank account",
        }
        reason = f"paid in Xero on invoice {number}"
        out.append(PlannedAction(PAYMENTS, claim_key(payment_id), "pull", row, reason))
    return out
