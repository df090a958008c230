"""Line TaxAmounts that make Xero's TotalTax equal Perfex's total_tax, to the cent.

Xero taxes each line on its own (TaxAmount = round2(LineAmount x rate/100)) and
sums the lines: TotalTax = sum of TaxAmounts, Total = sum of LineAmounts +
TotalTax ("Rounding in Xero", developer.xero.com). Perfex sums the exact taxes of
the lines per tax, reduces them for a before-tax discount and rounds the sum once
(total_tax). The two differ by a cent on about one document in six.

What Xero does with a TaxAmount sent on a line (the search tool, December 2026):

- The spec and the Invoices docs: TaxAmount "is auto calculated as a percentage
  of the line amount based on the tax rate. This value can be overriden if the
  calculated <TaxAmount> is not correct." A Xero staff answer (community.xero.com
  developer discussion 39081) says the same: send <TaxAmount> to override it; the
  TaxType still records the reporting code, "the percentage will effectively not
  be used with a custom tax amount". TotalTax is read-only and is the sum of the
  lines' TaxAmounts (so Total follows: lines + their taxes). No documented limit
  on how far it may be from the calculated figure was found.
- It is honoured on invoices and credit notes with LineAmountTypes Exclusive (the
  tax is added to the line) and Inclusive (the tax is inside the line); with
  NoTax there is no tax to override. pxflask sends Exclusive.
- Bank transactions refuse it: a SPEND with an adjusted TaxAmount answers "Tax
  amount 52.23 is incorrect for INPUT2 tax type, should be 52.28"
  (XeroAPI/xero-node#768, 2025, open). Expenses therefore never carry one: they
  have one line, where Xero's per-line rounding is Perfex's own.

So: per TaxType, the lines' TaxAmounts are made to add up to Perfex's tax for the
taxes on those lines (Perfex's stored total_tax shared over the TaxTypes by their
exact amounts, largest remainder). Xero's own per-line figure is kept wherever it
already fits; the cents that differ go, one per line, to the lines whose exact
tax is nearest the rounding boundary, and only those lines carry a TaxAmount (so
a document that needs none keeps the payload, and the hash, it always had). When
Perfex's discount arithmetic moves more than a cent per line (a fixed discount
with negative lines), the tax is shared over the lines in proportion to Xero's.

A TaxType whose Xero rate is not the rate of the Perfex taxes on its lines is a
mapping error, not rounding: the record fails, naming both rates and both taxes.

What is left after that (Perfex rounds the total once, Xero rounds each discounted
line) goes on an untaxed "Rounding" line. It is at most half a cent for the
total, half a cent for the tax and half a cent per line whose amount Xero rounds
(a discount, a unit price or quantity past 4 decimals); the cap is that bound
plus half a cent, in cents: 0.01 x (2 + ceil(rounded lines / 2)), so 0.02 on a
document without discounts. A larger gap means the stored total disagrees with
the lines (Perfex 3.4.0's estimate conversion leaves such invoices): the record
fails with both figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pxflask.perfex.records import CreditNote, Invoice, Line

from .common import CENT, HUNDRED, ZERO, dec, decimals_needed, round2, round_to
from .taxes import key_rate, tax_key


@dataclass(frozen=True)
class PerfexTax:
    """Perfex's tax of a document: the stored total and its exact share per type."""

    total: Decimal
    """total_tax as Perfex stored it."""
    exact: dict[str, Decimal] = field(default_factory=dict)
    """TaxType -> sum of line net x rate/100, reduced for a before-tax discount."""
    rates: dict[str, set[Decimal]] = field(default_factory=dict)
    """TaxType -> the rates of the Perfex taxes on its lines."""


def perfex_tax(
    doc: Invoice | CreditNote, counted: Sequence[Line], tax_types: Sequence[str]
) -> PerfexTax:
    """Perfex's tax per TaxType for the counted lines and their TaxTypes."""
    nets = [round2(dec(line.qty) * dec(line.rate)) for line in counted]
    subtotal = sum(nets, ZERO)
    keep = Decimal(1)
    pct = dec(doc.discount_percent)
    if doc.discount_type == "before_tax" and pct:
        keep = (HUNDRED - pct) / HUNDRED
    elif doc.discount_type == "before_tax" and dec(doc.discount_total) and subtotal:
        keep = 1 - dec(doc.discount_total) / subtotal
    exact: dict[str, Decimal] = {}
    rates: dict[str, set[Decimal]] = {}
    for line, net, tax_type in zip(counted, nets, tax_types, strict=True):
        rate = key_rate(tax_key(line.taxes))
        exact[tax_type] = exact.get(tax_type, ZERO) + net * rate / HUNDRED * keep
        if net:
            rates.setdefault(tax_type, set()).add(rate)
    return PerfexTax(dec(doc.total_tax), exact, rates)


def apportion(total: Decimal, exact: Sequence[Decimal]) -> list[Decimal]:
    """Cents summing to `total`, each within a cent of its exact value (signed)."""
    if not exact:
        return []
    shares = [x.quantize(CENT, rounding=ROUND_FLOOR) for x in exact]
    left = int((total - sum(shares, ZERO)) / CENT)
    rest = [x - s for x, s in zip(exact, shares, strict=True)]
    order = sorted(range(len(exact)), key=lambda i: (-rest[i], i))
    if left < 0:
        order.reverse()
    step = CENT if left > 0 else -CENT
    for n in range(abs(left)):
        shares[order[n % len(order)]] += step
    return shares


def xero_line_amount(line: Mapping[str, Any], unitdp: int = 4) -> Decimal:
    """Xero's LineAmount of one line item (rounded per line, half away from zero)."""
    qty = round_to(dec(line.get("Quantity", 1)), 4)
    unit = round_to(dec(line.get("UnitAmount", 0)), 4 if unitdp >= 4 else 2)
    gross = qty * unit
    rate = line.get("DiscountRate")
    if rate is not None and dec(rate) != 0:
        return round2(gross * (HUNDRED - dec(rate)) / HUNDRED)
    discount = line.get("DiscountAmount")
    if discount is not None and dec(discount) != 0:
        return round2(gross - dec(discount))
    return round2(gross)


def xero_line_tax(
    line: Mapping[str, Any], kind: str, rate: Decimal, unitdp: int = 4
) -> Decimal:
    """The TaxAmount Xero keeps for a line: the one sent, else its own."""
    if kind == "NoTax":
        return ZERO
    if line.get("TaxAmount") is not None:
        return round2(dec(line["TaxAmount"]))
    amount = xero_line_amount(line, unitdp)
    if kind == "Inclusive":
        return round2(amount * rate / (HUNDRED + rate))
    return round2(amount * rate / HUNDRED)


def xero_totals(
    payload: Mapping[str, Any], tax_rates: Mapping[str, Decimal], unitdp: int = 4
) -> tuple[Decimal, Decimal]:
    """(Total, TotalTax) Xero computes for a payload, line by line."""
    kind = payload.get("LineAmountTypes", "Exclusive")
    total = tax = ZERO
    for line in payload.get("LineItems", []):
        rate = dec(tax_rates[line["TaxType"]]) if line.get("TaxType") else ZERO
        line_tax = xero_line_tax(line, kind, rate, unitdp)
        amount = xero_line_amount(line, unitdp)
        total += amount if kind == "Inclusive" else amount + line_tax
        tax += line_tax
    return total, tax


def rounding_cap(items: Iterable[Mapping[str, Any]]) -> Decimal:
    """The largest rounding line a document's rounding can explain (see above)."""
    rounded = sum(1 for item in items if _rounded_by_xero(item))
    return CENT * (2 + (rounded + 1) // 2)


def _rounded_by_xero(item: Mapping[str, Any]) -> bool:
    """True when Xero rounds this line's amount away from Perfex's net."""
    return bool(
        dec(item.get("DiscountRate") or 0)
        or dec(item.get("DiscountAmount") or 0)
        or decimals_needed(dec(item.get("UnitAmount") or 0)) > 4
        or decimals_needed(dec(item.get("Quantity") or 1)) > 4
    )


def set_line_taxes(
    items: list[dict[str, Any]],
    rates: Mapping[str, Decimal],
    perfex: PerfexTax,
    cap: Decimal,
) -> str | None:
    """Put TaxAmount on the lines that need it; a reason when the record must fail."""
    exact_sum = sum(perfex.exact.values(), ZERO)
    if abs(perfex.total - exact_sum) > cap:
        return (
            f"stored tax {perfex.total} but the taxes of its lines come to"
            f" {round2(exact_sum)}"
        )
    taxed = {t: x for t, x in perfex.exact.items() if x}
    shares = apportion(perfex.total, list(taxed.values()))
    targets = dict(zip(taxed, shares, strict=True))
    for tax_type in perfex.exact:
        target = targets.get(tax_type, ZERO)
        rate = dec(rates[tax_type])
        lines = [item for item in items if item.get("TaxType") == tax_type]
        amounts = [xero_line_amount(item) for item in lines]
        exact = [amount * rate / HUNDRED for amount in amounts]
        own = [round2(x) for x in exact]
        if target == sum(own, ZERO):
            continue
        other = sorted(r for r in perfex.rates.get(tax_type, ()) if r != rate)
        if other:
            return (
                f"TaxType {tax_type} is {_pct(rate)}% in Xero but the Perfex taxes"
                f" on its lines are {_pct(other[0])}% (tax {target} in Perfex,"
                f" {sum(own, ZERO)} in Xero): map that Perfex tax to a Xero rate"
                f" of {_pct(other[0])}%"
            )
        spread = _spread(target, amounts, exact, own)
        if spread is None:
            continue
        for item, mine, xeros in zip(lines, spread, own, strict=True):
            if mine != xeros:
                item["TaxAmount"] = mine
    return None


def _spread(
    target: Decimal,
    amounts: list[Decimal],
    exact: list[Decimal],
    own: list[Decimal],
) -> list[Decimal] | None:
    """Line taxes summing to target, near Xero's own; None if none has the signs."""
    cents = int((target - sum(own, ZERO)) / CENT)
    if abs(cents) <= len(own):
        step = CENT if cents > 0 else -CENT
        fits = [
            i
            for i in range(len(own))
            if _same_sign(own[i] + step, amounts[i]) and amounts[i]
        ]
        fits.sort(key=lambda i: (-(exact[i] - own[i]) * (1 if cents > 0 else -1), i))
        if len(fits) >= abs(cents):
            taxes = list(own)
            for i in fits[: abs(cents)]:
                taxes[i] += step
            return taxes
    base = sum(exact, ZERO)
    if not base:
        return None
    taxes = apportion(target, [x * target / base for x in exact])
    if all(_same_sign(t, a) for t, a in zip(taxes, amounts, strict=True)):
        return taxes
    return None


def _same_sign(tax: Decimal, amount: Decimal) -> bool:
    """A line's tax may be zero or of its amount's sign (never on a zero line)."""
    if not tax:
        return True
    return (tax > 0 and amount > 0) or (tax < 0 and amount < 0)


def _pct(rate: Decimal) -> str:
    """A rate without trailing zeros: 20, 17.5."""
    return format(rate.normalize(), "f")
