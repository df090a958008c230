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
with negative lines), the tax is shared over the lines in proportion to Xero's,
or, where that would give a line a tax against its sign, the difference goes to
the lines whose amount has its sign, in proportion to their amounts.

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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from pxflask.perfex.records import Line, SalesDocument
from pxflask.sync.mappers.common import (
    CENT,
    HUNDRED,
    ZERO,
    dec,
    decimals_needed,
    round2,
    round_to,
)
from pxflask.sync.mappers.taxes import TaxKey, key_rate


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
    doc: SalesDocument,
    counted: Sequence[Line],
    tax_types: Sequence[str],
    keys: Sequence[TaxKey],
) -> PerfexTax:
    """Perfex's tax per TaxType for the counted lines, their TaxTypes and tax keys."""
    subtotal = ZERO
    taxed: dict[str, Decimal] = {}
    rates: dict[str, set[Decimal]] = {}
    key_rates: dict[TaxKey, Decimal] = {}
    for line, tax_type, key in zip(counted, tax_types, keys, strict=True):
        net = (line.qty * line.rate).quantize(CENT, rounding=ROUND_HALF_UP)
        subtotal += net
        rate = key_rates.get(key)
        if rate is None:
            rate = key_rates[key] = key_rate(key) if key else ZERO
        taxed[tax_type] = taxed.get(tax_type, ZERO) + net * rate
        if net:
            rates.setdefault(tax_type, set()).add(rate)
    keep = Decimal(1)
    pct = dec(doc.discount_percent)
    if doc.discount_type == "before_tax" and pct:
        keep = (HUNDRED - pct) / HUNDRED
    elif doc.discount_type == "before_tax" and dec(doc.discount_total) and subtotal:
        keep = 1 - dec(doc.discount_total) / subtotal
    exact = {t: x / HUNDRED * keep if x else ZERO for t, x in taxed.items()}
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


def own_line_taxes(
    items: Sequence[Mapping[str, Any]],
    amounts: Sequence[Decimal],
    tax_rates: Mapping[str, Decimal],
) -> list[Decimal]:
    """The TaxAmount Xero computes itself for each Exclusive line."""
    taxes = []
    for item, amount in zip(items, amounts, strict=True):
        rate = tax_rates[item["TaxType"]] if item.get("TaxType") else ZERO
        taxes.append(round2(amount * rate / HUNDRED) if rate else ZERO)
    return taxes


def rounding_cap(items: Iterable[Mapping[str, Any]]) -> Decimal:
    """The largest rounding line a document's rounding can explain (see above)."""
    rounded = sum(1 for item in items if _rounded_by_xero(item))
    return MIN_CAP + CENT * ((rounded + 1) // 2)


MIN_CAP = Decimal("0.02")
"""The cap of a document whose line amounts Xero does not round."""


def _rounded_by_xero(item: Mapping[str, Any]) -> bool:
    """True when Xero rounds this line's amount away from Perfex's net."""
    return bool(
        item.get("DiscountRate")
        or item.get("DiscountAmount")
        or decimals_needed(dec(item.get("UnitAmount") or 0)) > 4
        or decimals_needed(dec(item.get("Quantity") or 1)) > 4
    )


def set_line_taxes(
    items: list[dict[str, Any]],
    amounts: Sequence[Decimal],
    own: Sequence[Decimal],
    rates: Mapping[str, Decimal],
    perfex: PerfexTax,
    cap: Callable[[], Decimal],
) -> str | None:
    """Put TaxAmount on the lines that need it; a reason when the record must fail.

    `amounts` and `own` are Xero's LineAmounts and own taxes of the items;
    `cap()` the rounding cap.
    """
    exact_sum = sum(perfex.exact.values(), ZERO)
    gap = abs(perfex.total - exact_sum)
    if gap > MIN_CAP and gap > cap():
        return (
            f"stored tax {perfex.total} but the taxes of its lines come to"
            f" {round2(exact_sum)}"
        )
    by_type: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_type.setdefault(item.get("TaxType") or "", []).append(i)
    taxed = {t: x for t, x in perfex.exact.items() if x}
    if len(taxed) == 1:
        targets = dict.fromkeys(taxed, perfex.total)
    else:
        shares = apportion(perfex.total, list(taxed.values()))
        targets = dict(zip(taxed, shares, strict=True))
    for tax_type in perfex.exact:
        target = targets.get(tax_type, ZERO)
        where = by_type.get(tax_type, [])
        xeros = [own[i] for i in where]
        if target == sum(xeros, ZERO):
            continue
        rate = dec(rates[tax_type])
        other = sorted(r for r in perfex.rates.get(tax_type, ()) if r != rate)
        if other:
            return (
                f"TaxType {tax_type} is {_pct(rate)}% in Xero but the Perfex taxes"
                f" on its lines are {_pct(other[0])}% (tax {target} in Perfex,"
                f" {sum(xeros, ZERO)} in Xero): map that Perfex tax to a Xero rate"
                f" of {_pct(other[0])}%"
            )
        line_amounts = [amounts[i] for i in where]
        exact = [amount * rate / HUNDRED for amount in line_amounts]
        spread = _spread(target, line_amounts, exact, xeros)
        if spread is None:
            continue
        for i, mine, xero in zip(where, spread, xeros, strict=True):
            if mine != xero:
                items[i]["TaxAmount"] = mine
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
    if base:
        taxes = apportion(target, [x * target / base for x in exact])
        if _valid(taxes, amounts):
            return taxes
    # Lines of both signs (a fixed discount with negative lines): the lines whose
    # amount has the sign of the difference take it, in proportion to amount.
    gap = target - sum(own, ZERO)
    weights = [abs(a) if (a > 0) == (gap > 0) and a else ZERO for a in amounts]
    if not any(weights):
        return None
    total = sum(weights, ZERO)
    extra = apportion(gap, [w * gap / total for w in weights])
    taxes = [o + e for o, e in zip(own, extra, strict=True)]
    return taxes if _valid(taxes, amounts) else None


def _valid(taxes: Sequence[Decimal], amounts: Sequence[Decimal]) -> bool:
    """Every line tax is zero or of its line amount's sign."""
    return all(_same_sign(t, a) for t, a in zip(taxes, amounts, strict=True))


def _same_sign(tax: Decimal, amount: Decimal) -> bool:
    """A line's tax may be zero or of its amount's sign (never on a zero line)."""
    if not tax:
        return True
    return (tax > 0 and amount > 0) or (tax < 0 and amount < 0)


def _pct(rate: Decimal) -> str:
    """A rate without trailing zeros: 20, 17.5."""
    return format(rate.normalize(), "f")
