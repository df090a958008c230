"""Invoice and credit-note totals exactly as Perfex computes and stores them.

Perfex computes the totals in the browser (``calculate_total``) and posts them; the
server stores subtotal, discount_total and total as posted and recomputes total_tax.
The rules (SCHEMA.md, "Discounts, adjustment, taxes"):

* line net = qty * rate, rounded to 2 dp; subtotal = sum of line nets;
* per tax key (name, rate): tax = sum of line_net * rate / 100 over the lines that
  carry it (compound-free: every tax is on the net);
* ``before_tax``: discount = subtotal * pct / 100 (percent) or the fixed amount; each
  tax total is reduced by the same proportion (pct, or discount / subtotal);
* ``after_tax``: taxes are not reduced; discount = (subtotal + taxes) * pct / 100 or
  the fixed amount;
* total = subtotal + taxes - discount + adjustment (adjustment is untaxed, added last);
* optional lines the customer did not select are left out (Perfex 3.4).

Rounding points chosen (all ROUND_HALF_UP to the cent, the way MariaDB rounds a
value stored in a DECIMAL(15,2) column and the way the browser's ``toFixed`` rounds
positive amounts):

1. each line net is rounded to 2 dp before anything else (Perfex shows and sums the
   rounded line amount);
2. tax amounts, the tax reduction and the discount are carried *unrounded* into the
   total; only the stored/displayed figures are rounded: each entry of ``taxes``
   (what Perfex displays per tax), ``total_tax`` (the unrounded sum of the reduced
   taxes, rounded once, as the server stores it), ``discount_total`` (rounded once),
   and ``total`` (rounded once at the end).

Consequences worth knowing: ``sum(taxes.values())`` may differ from ``total_tax`` by
a cent, and ``subtotal + total_tax - discount_total + adjustment`` may differ from
``total`` by a cent; that is what Perfex stores too. Exact decimal arithmetic is used
instead of the browser's binary floats, so a half-cent case that a float represents
just below .5 (e.g. 1.005) may round up here and down in the browser. Perfex's server
side total_tax recomputation multiplies the unrounded qty * rate; the two differ only
when qty * rate has more than 2 decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pxflask.perfex.records import Line

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

BEFORE_TAX = "before_tax"
AFTER_TAX = "after_tax"

TaxKey = tuple[str, Decimal]


def round_money(value: Decimal) -> Decimal:
    """Round an amount to the cent, half away from zero."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    """Totals of an invoice or credit note, each Decimal with 2 dp."""

    subtotal: Decimal
    taxes: dict[TaxKey, Decimal] = field(default_factory=dict)
    total_tax: Decimal = ZERO
    discount_total: Decimal = ZERO
    total: Decimal = ZERO


def line_net(line: Line) -> Decimal:
    """The line amount Perfex shows and sums: qty * rate rounded to the cent."""
    return round_money(line.qty * line.rate)


def counted_lines(lines: Sequence[Line]) -> list[Line]:
    """The lines that enter the totals (optional unselected lines are left out)."""
    return [line for line in lines if line.is_selected or not line.is_optional]


def compute_totals(
    lines: Sequence[Line],
    discount_type: str,
    discount_percent: Decimal,
    discount_fixed: Decimal,
    adjustment: Decimal,
) -> InvoiceTotals:
    """Compute subtotal, taxes, total_tax, discount_total and total like Perfex."""
    discount_percent = discount_percent or ZERO
    discount_fixed = discount_fixed or ZERO
    adjustment = adjustment or ZERO

    subtotal = ZERO
    raw_taxes: dict[TaxKey, Decimal] = {}
    for line in counted_lines(lines):
        net = round_money(line.qty * line.rate)
        subtotal += net
        for tax in line.taxes:
            key = (tax.name, tax.rate)
            raw_taxes[key] = raw_taxes.get(key, ZERO) + net * tax.rate / HUNDRED

    use_percent = discount_percent != ZERO
    use_fixed = not use_percent and discount_fixed != ZERO

    discount = ZERO
    if discount_type == BEFORE_TAX:
        if use_percent:
            discount = subtotal * discount_percent / HUNDRED
            raw_taxes = {
                key: amount - amount * discount_percent / HUNDRED
                for key, amount in raw_taxes.items()
            }
        elif use_fixed:
            discount = discount_fixed
            if subtotal != ZERO:
                raw_taxes = {
                    key: amount - amount * discount_fixed / subtotal
                    for key, amount in raw_taxes.items()
                }

    tax_sum = sum(raw_taxes.values(), ZERO)
    total = subtotal + tax_sum

    if discount_type == AFTER_TAX:
        if use_percent:
            discount = total * discount_percent / HUNDRED
        elif use_fixed:
            discount = discount_fixed

    total = total - discount + adjustment
    return InvoiceTotals(
        subtotal=round_money(subtotal),
        taxes={key: round_money(amount) for key, amount in raw_taxes.items()},
        total_tax=round_money(tax_sum),
        discount_total=round_money(discount),
        total=round_money(total),
    )


def document_totals(
    lines: Sequence[Line],
    discount_type: str,
    discount_percent: Decimal,
    discount_total: Decimal,
    adjustment: Decimal | None,
) -> InvoiceTotals:
    """Totals from a stored row: a fixed discount is stored in discount_total."""
    return compute_totals(
        lines,
        discount_type,
        discount_percent or ZERO,
        ZERO if discount_percent else (discount_total or ZERO),
        adjustment or ZERO,
    )
