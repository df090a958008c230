"""Shared by the sales-document mappers (invoices, credit notes, estimates, expenses).

Xero computes every line on its own: LineAmount = round2(Quantity x UnitAmount x
(1 - DiscountRate/100)) or round2(Quantity x UnitAmount - DiscountAmount), tax =
round2(LineAmount x rate/100) per line unless a TaxAmount is sent, Total = sum of
LineAmounts + sum of taxes. Perfex computes taxes on summed nets, reduces them
proportionally for a before-tax discount and takes an after-tax discount off the
gross. The mapping:

- a before-tax percent discount -> DiscountRate on every counted line;
- a before-tax fixed discount -> DiscountAmount shared over the positive lines in
  proportion to their nets (largest remainder, so the shares add up to the cent),
  or, where Xero takes no DiscountAmount (credit notes), one negative "Discount"
  line per TaxType;
- an after-tax discount -> one negative "Discount" line without tax;
- the adjustment -> one "Adjustment" line without tax on the rounding account;
- Perfex's tax per TaxType -> a TaxAmount on the few lines where Xero's per-line
  rounding would differ (line_tax.py: what Xero does with it, and why);
- the cents still between Xero's total and Perfex's stored total -> one untaxed
  "Rounding" line, at most `rounding_cap` (two cents without discounts); a larger
  gap fails the document, naming both figures.

`xero_document_total` predicts Xero's total exactly, so the result always matches.
A document type's own mapper sets the header (number, reference, status, dates).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pxflask.perfex.records import Line, SalesDocument
from pxflask.sync.mappers.common import (
    CENT,
    HUNDRED,
    ZERO,
    Mapped,
    clip,
    dec,
    decimals_needed,
    failed,
    round2,
    strip_html,
)
from pxflask.sync.mappers.line_tax import (
    MIN_CAP,
    PerfexTax,
    own_line_taxes,
    perfex_tax,
    rounding_cap,
    set_line_taxes,
    xero_line_amount,
    xero_totals,
)
from pxflask.sync.mappers.taxes import TaxKey, key_rate, tax_key

DESCRIPTION_MAX = 4000
Lines = tuple[list[dict[str, Any]], dict[str, Decimal], PerfexTax, list[str]]
"""What document_lines returns: items, tax rates by TaxType, Perfex's tax, notes."""
_WHY = {"invoice": " (Perfex 3.4.0's estimate conversion can leave the old total)"}
"""Why a document's stored total may disagree with its lines, by kind."""
DRAFTS_SKIP = "skip"
DRAFTS_DRAFT = "draft"


@dataclass(frozen=True)
class DocumentContext:
    """What a document mapper needs besides the document: accounts and taxes."""

    sales_account: str
    rounding_account: str
    resolve_tax: Callable[[TaxKey], str]
    tax_rates: Mapping[str, Decimal] = field(default_factory=dict)
    no_tax_type: str = "NONE"
    discount_account: str | None = None
    drafts: str = DRAFTS_SKIP

    def rate_of(self, tax_type: str, key: TaxKey) -> Decimal:
        """The rate Xero will apply for a TaxType (known rate, else the key's sum)."""
        if tax_type in self.tax_rates:
            return dec(self.tax_rates[tax_type])
        return key_rate(key)


def line_description(line: Line) -> str:
    """Description plus long description, HTML removed, at most 4,000 characters."""
    parts = [strip_html(line.description), strip_html(line.long_description)]
    text = "\n".join(p for p in parts if p)
    return clip(text, DESCRIPTION_MAX) if text else "(no description)"


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` (cents) over weights proportionally; the shares sum exactly."""
    weight_sum = sum(weights, ZERO)
    if not weights or weight_sum == 0:
        return [ZERO for _ in weights]
    exact = [total * w / weight_sum for w in weights]
    shares = [e.quantize(CENT, rounding=ROUND_FLOOR) for e in exact]
    left = int((total - sum(shares, ZERO)) / CENT)
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[:left]:
        shares[i] += CENT
    return shares


def _line_net(line: Line) -> Decimal:
    """Perfex's line net: qty x rate rounded to cents."""
    return round2(dec(line.qty) * dec(line.rate))


def extra_line(description: str, amount: Decimal, account: str, tax: str) -> dict:
    """A quantity-one line without tax (discount, adjustment, rounding)."""
    return {
        "Description": description,
        "Quantity": Decimal(1),
        "UnitAmount": amount,
        "AccountCode": account,
        "TaxType": tax,
    }


def _percent_text(pct: Decimal) -> str:
    """A percentage for a line description: 10, 12.5."""
    return format(pct.normalize(), "f")


def finish_document(
    key: str,
    payload: dict[str, Any],
    target: Decimal,
    rates: Mapping[str, Decimal],
    ctx: DocumentContext,
    notes: list[str],
    *,
    tax: PerfexTax | None = None,
    strict: bool = True,
    what: str = "invoice",
) -> Mapped:
    """Line taxes, then the capped rounding line to hit target; wrap as Mapped.

    `tax` (Perfex's tax) sets line TaxAmounts; None sends none (expenses). A gap
    beyond the cap fails the record unless not `strict` (a document only voided).
    """
    items = payload["LineItems"]
    amounts = [xero_line_amount(item) for item in items]
    caps: list[Decimal] = []

    def cap() -> Decimal:
        """The rounding cap of the lines as mapped (computed once, when needed)."""
        if not caps:
            caps.append(rounding_cap(items))
        return caps[0]

    own = own_line_taxes(items, amounts, rates)
    if tax is not None:
        problem = set_line_taxes(items, amounts, own, rates, tax, cap)
        if problem and strict:
            if problem.startswith("stored tax"):
                problem += f": fix the {what} in Perfex (saving it recomputes its tax)"
            return failed(key, problem)
    taxes = (i.get("TaxAmount", mine) for i, mine in zip(items, own, strict=True))
    difference = target - sum(amounts, ZERO) - sum(taxes, ZERO)
    if abs(difference) > MIN_CAP and abs(difference) > cap() and strict:
        lines = target - difference
        return failed(
            key,
            f"stored total {target} but its lines come to {lines} (a gap of"
            f" {difference}, more than the {cap()} rounding allows): fix the {what}"
            f" in Perfex so its lines add up to its total{_WHY.get(what, '')}, then"
            " sync again",
        )
    if difference:
        items.append(
            extra_line("Rounding", difference, ctx.rounding_account, ctx.no_tax_type)
        )
    if not items:
        items.append(
            extra_line("(no billable lines)", ZERO, ctx.sales_account, ctx.no_tax_type)
        )
    unitdp4 = any(decimals_needed(dec(i["UnitAmount"])) > 2 for i in items)
    return Mapped(key=key, payload=payload, unitdp4=unitdp4, notes=tuple(notes))


def document_lines(
    doc: SalesDocument, ctx: DocumentContext, *, per_line_amounts: bool
) -> Lines | None:
    """Line items of an invoice or credit note: its lines, discount and adjustment.

    Returns (items, tax rates by TaxType, Perfex's tax per TaxType, notes), or None
    when the discount cannot be mapped.
    """
    counted = [line for line in doc.lines if line.counts]
    rates: dict[str, Decimal] = {ctx.no_tax_type: ZERO}
    items: list[dict[str, Any]] = []
    types: list[str] = []
    keys: list[TaxKey] = []
    for line in counted:
        lkey = tax_key(line.taxes)
        tax_type = ctx.resolve_tax(lkey) if lkey else ctx.no_tax_type
        types.append(tax_type)
        keys.append(lkey)
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
    extra = _discount(doc, counted, items, ctx, notes, per_line_amounts)
    if extra is None:
        return None
    items.extend(extra)
    adjustment = dec(doc.adjustment)
    if adjustment:
        items.append(
            extra_line(
                "Adjustment", round2(adjustment), ctx.rounding_account, ctx.no_tax_type
            )
        )
    return items, rates, perfex_tax(doc, counted, types, keys), notes


def discount_problem(doc: SalesDocument) -> str:
    """Why a document's discount cannot be mapped (document_lines gave None)."""
    if doc.discount_type == "before_tax" and not dec(doc.discount_percent):
        counted = [line for line in doc.lines if line.counts]
        subtotal = sum((_line_net(line) for line in counted), ZERO)
        return (
            f"fixed discount {round2(dec(doc.discount_total))} before tax is more"
            f" than the subtotal {subtotal}: Perfex's tax would turn negative; fix"
            " the discount in Perfex"
        )
    return f"discount {doc.discount_percent}% is above 100%"


def _discount(
    doc: SalesDocument,
    counted: list[Line],
    items: list[dict[str, Any]],
    ctx: DocumentContext,
    notes: list[str],
    per_line_amounts: bool,
) -> list[dict[str, Any]] | None:
    """Put Perfex's discount on the lines; return extra lines (None: cannot map).

    A fixed before-tax discount is shared over the lines by net amount: as each
    line's DiscountAmount (invoices), or as one discount line per tax type (credit
    notes, whose Xero lines take no DiscountAmount).
    """
    kind = doc.discount_type
    pct = dec(doc.discount_percent)
    amount = round2(dec(doc.discount_total))
    account = ctx.discount_account or ctx.sales_account
    if kind == "before_tax" and pct:
        if pct < 0 or pct > HUNDRED:
            return None
        for item in items:
            item["DiscountRate"] = pct
        return []
    if kind == "before_tax" and amount:
        if amount > sum((_line_net(line) for line in counted), ZERO):
            return None
        weights = [max(_line_net(line), ZERO) for line in counted]
        if 0 < amount <= sum(weights, ZERO):
            shares = allocate(amount, weights)
            if per_line_amounts:
                for item, share in zip(items, shares, strict=True):
                    if share:
                        item["DiscountAmount"] = share
                return []
            per_type: dict[str, Decimal] = {}
            for item, share in zip(items, shares, strict=True):
                if share:
                    tax_type = item["TaxType"]
                    per_type[tax_type] = per_type.get(tax_type, ZERO) + share
            return [
                extra_line("Discount", -share, account, tax_type)
                for tax_type, share in per_type.items()
            ]
        notes.append("fixed discount cannot be shared over the lines: sent as a line")
        return [extra_line("Discount", -amount, account, ctx.no_tax_type)]
    if kind == "after_tax" and amount:
        label = f"Discount {_percent_text(pct)}%" if pct else "Discount"
        return [extra_line(label, -amount, account, ctx.no_tax_type)]
    return []


def xero_document_total(
    payload: Mapping[str, Any], tax_rates: Mapping[str, Decimal], unitdp: int = 4
) -> Decimal:
    """The Total Xero computes for a payload: Σ round2(line) + Σ line taxes."""
    return xero_totals(payload, tax_rates, unitdp)[0]


def xero_document_tax(
    payload: Mapping[str, Any], tax_rates: Mapping[str, Decimal], unitdp: int = 4
) -> Decimal:
    """The TotalTax Xero computes for a payload: Σ line TaxAmounts (sent or own)."""
    return xero_totals(payload, tax_rates, unitdp)[1]


def neutral_tax(key: TaxKey) -> str:
    """A stand-in TaxType naming the Perfex taxes of a line (name and rate)."""
    return "perfex:" + "+".join(f"{name}@{rate}" for name, rate in key)


def neutral_context(mctx: DocumentContext) -> DocumentContext:
    """The document mapping context with every setting as its own name.

    Mapping a document with it gives a payload that depends on the Perfex rows
    alone; it is hashed, never sent.
    """
    return replace(
        mctx,
        sales_account="{sales_account}",
        rounding_account="{rounding_account}",
        discount_account="{discount_account}",
        no_tax_type="{no_tax_type}",
        resolve_tax=neutral_tax,
        tax_rates={},
    )
