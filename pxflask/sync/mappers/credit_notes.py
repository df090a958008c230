"""Perfex credit notes -> Xero ACCRECCREDIT credit notes, totals equal to the cent.

The lines follow the invoice rules (mappers/invoices.py) with one difference: Xero
accepts DiscountRate but not DiscountAmount on credit note lines. A before-tax
fixed discount is therefore shared over the positive lines as for invoices (to the
cent), and the shares of each TaxType become one negative "Discount" line with
that TaxType, so Xero takes the discount off the taxable amounts as Perfex does.
Cents Xero's per-line rounding still leaves go to the "Rounding" line.
"""

from __future__ import annotations

from typing import Any

from pxflask.perfex.records import (
    CREDIT_NOTE_CLOSED,
    CREDIT_NOTE_OPEN,
    CREDIT_NOTE_VOID,
    CreditApplication,
    CreditNote,
    Line,
)

from .common import HUNDRED, ZERO, Mapped, dec, round2, skipped
from .invoices import (
    InvoiceContext,
    _extra_line,
    _line_net,
    _percent_text,
    allocate,
    finish_document,
    line_description,
)
from .taxes import tax_key

REFERENCE_PREFIX = "PX-CN-"


def credit_note_reference(credit_note_id: int) -> str:
    """The Xero Reference carrying the Perfex credit note id (a look-up key)."""
    return f"{REFERENCE_PREFIX}{credit_note_id}"


def credit_note_status(status: int) -> str | None:
    """The Xero status of a Perfex credit note status (None: not sent)."""
    if status in (CREDIT_NOTE_OPEN, CREDIT_NOTE_CLOSED):
        return "AUTHORISED"
    if status == CREDIT_NOTE_VOID:
        return "VOIDED"
    return None


def map_credit_application(
    credit: CreditApplication, invoice_xero_id: str
) -> dict[str, Any]:
    """A Perfex credit application (tblcredits) as a Xero Allocation payload."""
    return {
        "Invoice": {"InvoiceID": invoice_xero_id},
        "Amount": round2(dec(credit.amount)),
        "Date": credit.date.isoformat(),
    }


def map_credit_note(note: CreditNote, contact_id: str, ctx: InvoiceContext) -> Mapped:
    """Map a Perfex credit note to a Xero ACCRECCREDIT payload (or a skip reason)."""
    key = str(note.id)
    status = credit_note_status(note.status)
    if status is None:
        return skipped(key, f"credit note status {note.status} is not synced")
    target = dec(note.total)
    if target < 0:
        return skipped(key, f"negative total {target}")
    counted = [line for line in note.lines if line.counts]
    rates = {ctx.no_tax_type: ZERO}
    items: list[dict[str, Any]] = []
    for line in counted:
        lkey = tax_key(line.taxes)
        tax_type = ctx.resolve_tax(lkey) if lkey else ctx.no_tax_type
        rates[tax_type] = ctx.rate_of(tax_type, lkey)
        items.append(
            {
                "Description": line_description(line),
                "Quantity": dec(line.qty),
                "UnitAmount": dec(line.rate),
                "AccountCode": ctx.sales_account,
                "TaxType": tax_type,
            }
        )
    notes: list[str] = []
    extra = _discount(note, counted, items, ctx, notes)
    if extra is None:
        return skipped(key, f"discount {note.discount_percent}% is above 100%")
    items.extend(extra)
    adjustment = dec(note.adjustment)
    if adjustment:
        items.append(
            _extra_line(
                "Adjustment", round2(adjustment), ctx.rounding_account, ctx.no_tax_type
            )
        )
    payload: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "CreditNoteNumber": note.formatted_number,
        "Reference": credit_note_reference(note.id),
        "Date": note.date.isoformat(),
        "CurrencyCode": note.currency.code,
        "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": items,
    }
    return finish_document(key, payload, target, rates, len(counted), ctx, notes)


def _discount(
    note: CreditNote,
    counted: list[Line],
    items: list[dict[str, Any]],
    ctx: InvoiceContext,
    notes: list[str],
) -> list[dict[str, Any]] | None:
    """Perfex's discount as DiscountRate or extra lines (None: cannot map)."""
    kind = note.discount_type
    pct = dec(note.discount_percent)
    amount = round2(dec(note.discount_total))
    account = ctx.discount_account or ctx.sales_account
    if kind == "before_tax" and pct:
        if pct < 0 or pct > HUNDRED:
            return None
        for item in items:
            item["DiscountRate"] = pct
        return []
    if kind == "before_tax" and amount:
        weights = [max(_line_net(line), ZERO) for line in counted]
        if 0 < amount <= sum(weights, ZERO):
            per_type: dict[str, Any] = {}
            for item, share in zip(items, allocate(amount, weights), strict=True):
                if share:
                    tax_type = item["TaxType"]
                    per_type[tax_type] = per_type.get(tax_type, ZERO) + share
            return [
                _extra_line("Discount", -share, account, tax_type)
                for tax_type, share in per_type.items()
            ]
        notes.append("fixed discount cannot be shared over the lines: sent as a line")
        return [_extra_line("Discount", -amount, account, ctx.no_tax_type)]
    if kind == "after_tax" and amount:
        label = f"Discount {_percent_text(pct)}%" if pct else "Discount"
        return [_extra_line(label, -amount, account, ctx.no_tax_type)]
    return []
