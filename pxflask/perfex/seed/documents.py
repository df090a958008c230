"""Building blocks of demo documents: next ids, random lines and discounts, rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from pxflask.perfex.records import Line, LineTax
from pxflask.perfex.seed.catalogue import (
    CUSTOM_LINES,
    FIXED,
    PERCENTS,
    QTY_HOURLY,
    ZERO,
    D,
)
from pxflask.perfex.seed.customers import Customer
from pxflask.perfex.seed.reference import Ref
from pxflask.perfex.seed.rows import random_money
from pxflask.perfex.totals import InvoiceTotals, compute_totals, round_money


@dataclass
class Ids:
    """Next free ids per table."""

    invoice: int
    line: int
    payment: int
    credit_note: int
    credit: int
    expense: int
    invoice_number: int
    credit_note_number: int
    estimate: int = 1
    refund: int = 1


def random_lines(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    doc_id: int,
    rel_type: str,
    line_rows: list[dict],
    tax_rows: list[dict],
    optional_extra: bool,
) -> list[Line]:
    """Random lines for one document; rows appended to line_rows/tax_rows."""
    specs: list[
        tuple[
            str,
            str | None,
            Decimal,
            Decimal,
            str | None,
            tuple[LineTax, ...],
            bool,
            bool,
        ]
    ] = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])):
        if rng.random() < 0.85:
            desc, long_desc, rate, unit, taxes = rng.choice(ref.items)
        else:
            desc, long_desc, unit = rng.choice(CUSTOM_LINES), None, None
            rate = random_money(rng, 5, 2000)
            taxes = (ref.taxes["VAT"],)
        if unit == "hour":
            qty = rng.choice(QTY_HOURLY)
        else:
            qty = D(rng.choice([1, 1, 1, 2, 3, 5, 10]))
        roll = rng.random()
        if roll < 0.08:
            taxes = ()
        elif roll < 0.12:
            taxes = (ref.taxes["Exempt"],)
        elif roll < 0.18:
            taxes = (ref.taxes["VAT"], ref.taxes["City Tax"])
        specs.append((desc, long_desc, qty, rate, unit, taxes, False, True))
    if optional_extra:
        specs.append(
            (
                "Optional: extended warranty",
                "Two more years of cover",
                D("1"),
                D("199.00"),
                None,
                (ref.taxes["VAT"],),
                True,
                rng.random() < 0.3,
            )
        )
    lines = []
    for order, (desc, long_desc, qty, rate, unit, taxes, opt, sel) in enumerate(
        specs, start=1
    ):
        line_id = ids.line
        ids.line += 1
        line_rows.append(
            {
                "id": line_id,
                "rel_id": doc_id,
                "rel_type": rel_type,
                "description": desc,
                "long_description": long_desc,
                "qty": qty,
                "rate": rate,
                "unit": unit,
                "item_order": order,
                "is_optional": int(opt),
                "is_selected": int(sel),
            }
        )
        for tax in taxes:
            tax_rows.append(
                {
                    "itemid": line_id,
                    "rel_id": doc_id,
                    "rel_type": rel_type,
                    "taxrate": tax.rate,
                    "taxname": tax.name,
                }
            )
        lines.append(
            Line(line_id, desc, long_desc, qty, rate, unit, order, taxes, opt, sel)
        )
    return lines


def random_discount(
    rng: random.Random, lines: list[Line]
) -> tuple[str, Decimal, Decimal]:
    """(discount_type, percent, fixed) for a document."""
    roll = rng.random()
    if roll < 0.10:
        return "before_tax", rng.choice(PERCENTS), ZERO
    if roll < 0.16:
        return "after_tax", rng.choice(PERCENTS), ZERO
    if roll < 0.24:
        subtotal = compute_totals(lines, "", ZERO, ZERO, ZERO).subtotal
        fixed = min(rng.choice(FIXED), round_money(subtotal / 2))
        if fixed > ZERO:
            return ("before_tax" if roll < 0.20 else "after_tax"), ZERO, fixed
    return "", ZERO, ZERO


def document_row(
    customer: Customer,
    currency_id: int,
    totals: InvoiceTotals,
    dtype: str,
    percent: Decimal,
    adjustment: Decimal,
) -> dict:
    """Columns shared by invoices and credit notes."""
    # Columns left out take their server default (NULL, 0 or 1, as Perfex's).
    return {
        "clientid": customer.id,
        "currency": currency_id,
        "subtotal": totals.subtotal,
        "total_tax": totals.total_tax,
        "total": totals.total,
        "adjustment": adjustment,
        "discount_percent": percent,
        "discount_total": totals.discount_total,
        "discount_type": dtype,
        "billing_street": customer.street,
        "billing_city": customer.city,
        "billing_zip": customer.zip,
        "billing_country": customer.country_id,
        "include_shipping": 0,
    }


def split_amount(rng: random.Random, amount: Decimal, parts: int) -> list[Decimal]:
    """Split an amount into `parts` positive cent amounts summing to it."""
    if parts <= 1 or amount < D("0.10"):
        return [amount]
    first = round_money(amount * D(rng.randint(30, 70)) / 100)
    return [first, amount - first]


@dataclass
class Docs:
    """Rows of all documents, ready to insert."""

    invoices: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    taxes: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    credit_notes: list[dict] = field(default_factory=list)
    credits: list[dict] = field(default_factory=list)
    expenses: list[dict] = field(default_factory=list)
    estimates: list[dict] = field(default_factory=list)
    refunds: list[dict] = field(default_factory=list)
    status_counts: dict[int, int] = field(default_factory=dict)
