"""Demo estimates: every status, discounts and taxes, one converted, some expired.

Estimates take their own random stream (``seed`` + a constant), so adding them
leaves every other demo row (ids, amounts, numbers) exactly as before.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from pxflask.perfex.numbering import FORMAT_NUMBER, format_estimate_number
from pxflask.perfex.records import (
    ESTIMATE_ACCEPTED,
    ESTIMATE_DECLINED,
    ESTIMATE_DRAFT,
    ESTIMATE_EXPIRED,
    ESTIMATE_SENT,
    INVOICE_DRAFT,
    Line,
)
from pxflask.perfex.seed.catalogue import (
    ESTIMATE_PREFIX,
    ESTIMATE_VALID_DAYS,
    FIXED,
    PADDING,
    PERCENTS,
    ZERO,
)
from pxflask.perfex.seed.customers import Customer
from pxflask.perfex.seed.documents import Docs, Ids, document_row, random_lines
from pxflask.perfex.seed.reference import Ref
from pxflask.perfex.totals import compute_totals, round_money

STREAM = 7919
"""Added to the seed for the estimates' own random stream."""
CYCLE = (
    ESTIMATE_DRAFT,
    ESTIMATE_SENT,
    ESTIMATE_ACCEPTED,
    ESTIMATE_DECLINED,
    ESTIMATE_SENT,
    ESTIMATE_ACCEPTED,
)
"""Statuses in turn; the expired and converted ones are set apart."""


def seed_estimates(
    seed: int,
    ref: Ref,
    ids: Ids,
    customers: list[Customer],
    count: int,
    today: date,
    docs: Docs,
    number: int = 1,
) -> int:
    """Append `count` estimates (lines, taxes) to docs; the next estimate number."""
    rng = random.Random(seed + STREAM)  # noqa: S311 - demo data, not secrets
    invoiced = [
        (row["id"], row["clientid"])
        for row in docs.invoices
        if row["status"] != INVOICE_DRAFT
    ]
    for index in range(count):
        estimate_id = ids.estimate
        ids.estimate += 1
        customer = rng.choice(customers)
        status = CYCLE[index % len(CYCLE)]
        on = today - timedelta(days=rng.randint(1, 120))
        invoice_id = None
        if index == 1:  # expired: sent, never answered, past its expiry date
            status, on = ESTIMATE_EXPIRED, today - timedelta(days=90)
        elif index == 2 and invoiced:  # converted into an existing invoice
            invoice_id, client = invoiced[0]
            customer = next((c for c in customers if c.id == client), customer)
        lines = random_lines(
            rng, ref, ids, estimate_id, "estimate", docs.lines, docs.taxes, index == 3
        )
        dtype, percent, fixed = _discount(rng, index, lines)
        totals = compute_totals(lines, dtype, percent, fixed, ZERO)
        row = document_row(customer, customer.currency_id, totals, dtype, percent, ZERO)
        row.update(
            id=estimate_id,
            number=number,
            prefix=ESTIMATE_PREFIX,
            number_format=FORMAT_NUMBER,
            formatted_number=format_estimate_number(
                number, ESTIMATE_PREFIX, FORMAT_NUMBER, on, PADDING
            ),
            hash=f"{rng.getrandbits(128):032x}",
            datecreated=datetime.combine(on, time(9, 30)),
            date=on,
            expirydate=on + timedelta(days=ESTIMATE_VALID_DAYS),
            addedfrom=ref.admin_id,
            status=status,
            terms="Valid for 30 days. Prices exclude delivery.",
            reference_no=f"PO-{rng.randint(1000, 9999)}" if index % 2 else None,
            invoiceid=invoice_id,
            invoiced_date=invoice_id and datetime.combine(on, time(16)),
            sent=int(status != ESTIMATE_DRAFT),
        )
        if invoice_id is not None:
            row["status"] = ESTIMATE_ACCEPTED
            _as_converted(docs, ids, row, invoice_id)
        docs.estimates.append(row)
        number += 1
    return number


def _discount(
    rng: random.Random, index: int, lines: list[Line]
) -> tuple[str, Decimal, Decimal]:
    """(discount_type, percent, fixed): before-tax % or fixed, after-tax %, none."""
    if index % 5 == 0:
        return "before_tax", rng.choice(PERCENTS), ZERO
    if index % 7 == 4:
        return "after_tax", rng.choice(PERCENTS), ZERO
    if index % 7 == 6:
        subtotal = compute_totals(lines, "", ZERO, ZERO, ZERO).subtotal
        fixed = min(rng.choice(FIXED), round_money(subtotal / 2))
        if fixed > ZERO:
            return "before_tax", ZERO, fixed
    return "", ZERO, ZERO


MONEY_COLUMNS = (
    "currency",
    "subtotal",
    "total_tax",
    "total",
    "adjustment",
    "discount_percent",
    "discount_total",
    "discount_type",
)
"""What Perfex's conversion carries from an estimate to its invoice (and back here)."""


def _as_converted(docs: Docs, ids: Ids, estimate: dict, invoice_id: int) -> None:
    """Give a converted estimate its invoice's lines, taxes and totals.

    Perfex's conversion copies the estimate into the invoice, so the two agree; the
    seed links an existing invoice, so it copies the other way (the line ids the
    estimate's random lines took are reused, in order).
    """
    estimate_id = estimate["id"]

    def rows_of(rows: list[dict], kind: str, doc_id: int) -> list[dict]:
        return [r for r in rows if r["rel_type"] == kind and r["rel_id"] == doc_id]

    own_lines = rows_of(docs.lines, "estimate", estimate_id)
    own_taxes = rows_of(docs.taxes, "estimate", estimate_id)
    free = [r["id"] for r in own_lines]
    docs.lines[:] = [r for r in docs.lines if r not in own_lines]
    docs.taxes[:] = [t for t in docs.taxes if t not in own_taxes]
    invoice = next(r for r in docs.invoices if r["id"] == invoice_id)
    estimate.update({k: invoice[k] for k in MONEY_COLUMNS if k in invoice})
    taxes = rows_of(docs.taxes, "invoice", invoice_id)
    for index, line in enumerate(rows_of(docs.lines, "invoice", invoice_id)):
        if index < len(free):
            new_id = free[index]
        else:
            new_id = ids.line
            ids.line += 1
        copy = {**line, "id": new_id, "rel_type": "estimate", "rel_id": estimate_id}
        docs.lines.append(copy)
        docs.taxes.extend(
            {**t, "itemid": new_id, "rel_type": "estimate", "rel_id": estimate_id}
            for t in taxes
            if t["itemid"] == line["id"]
        )
