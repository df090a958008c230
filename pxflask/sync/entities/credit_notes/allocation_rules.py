"""Rules of credit-note allocations: what to send, and why one cannot be sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pxflask.perfex.records import CreditApplication
from pxflask.sync.links import DELETED, VOIDED, LinkRow
from pxflask.sync.mappers.common import dec

ENTITY = "credit-allocations"
BATCH = 50
"""Allocations of one credit note sent in one call at most (Xero's batch advice)."""
UNANSWERED = (
    "Xero may have allocated it; the next run looks for it on the credit note "
    "before sending it again"
)
DELETED_IN_PERFEX = "removed in Perfex: allocation deleted in Xero"
GONE_UNCONFIRMED = (
    "removed in Perfex before its allocation was confirmed: check the credit note "
    "in Xero"
)


@dataclass
class Todo:
    """One allocation to send: its Perfex row, Xero credit note and payload."""

    credit: CreditApplication
    note_id: str
    payload: dict[str, Any]
    hash: str
    recover: bool = False

    @property
    def key(self) -> str:
        """The Perfex key (tblcredits.id)."""
        return str(self.credit.id)

    @property
    def invoice_id(self) -> str:
        """The Xero InvoiceID."""
        return str(self.payload["Invoice"]["InvoiceID"])

    @property
    def amount(self) -> Decimal:
        """The amount to allocate."""
        return dec(self.payload["Amount"])


def same_allocation(found: dict[str, Any], payload: dict[str, Any]) -> bool:
    """An allocation in Xero is this one: same invoice, amount and date."""
    invoice = str((found.get("Invoice") or {}).get("InvoiceID") or "")
    when = found.get("Date")
    when_text = when.isoformat()[:10] if isinstance(when, date) else str(when)[:10]
    return (
        invoice.lower() == str(payload["Invoice"]["InvoiceID"]).lower()
        and dec(found.get("Amount") or 0) == dec(payload["Amount"])
        and when_text == payload["Date"]
    )


def unmappable(
    credit: CreditApplication, note: LinkRow | None, invoice: LinkRow | None
) -> str | None:
    """Why a credit application cannot be sent yet (None: it can)."""
    if note is None or not note.xero_id:
        return f"credit note {credit.credit_note_id} is not synced"
    if note.state in (VOIDED, DELETED):
        return f"credit note {credit.credit_note_id} is {note.state} in Xero"
    if invoice is None or not invoice.xero_id:
        return f"invoice {credit.invoice_id} is not synced"
    if invoice.state in (VOIDED, DELETED):
        return f"invoice {credit.invoice_id} is {invoice.state} in Xero"
    if dec(credit.amount) <= 0:
        return f"amount {credit.amount} is not positive"
    return None


def refusal(
    todo: Todo,
    note: dict[str, Any] | None,
    invoice: dict[str, Any] | None,
    credit: dict[str, Decimal],
    due: dict[str, Decimal],
) -> str | None:
    """Why Xero would refuse this allocation now (None: it would take it)."""
    cn, inv = todo.credit.credit_note_id, todo.credit.invoice_id
    if note is None:
        return f"credit note {cn} was not found in Xero"
    if note.get("Status") != "AUTHORISED":
        return (
            f"credit note {cn} is {note.get('Status')} in Xero; "
            f"allocations need it AUTHORISED"
        )
    if invoice is None:
        return f"invoice {inv} was not found in Xero"
    if invoice.get("Status") != "AUTHORISED":
        return (
            f"invoice {inv} is {invoice.get('Status')} in Xero; "
            f"allocations need it AUTHORISED"
        )
    left = credit.get(todo.note_id.lower(), Decimal(0))
    if todo.amount > left:
        return (
            f"amount {todo.amount} is above the remaining credit {left} "
            f"of credit note {cn} in Xero"
        )
    owed = due.get(todo.invoice_id, Decimal(0))
    if todo.amount > owed:
        return f"amount {todo.amount} is above the amount due {owed} of invoice {inv}"
    return None
