"""Demo credit notes applied to two invoices, and refunds of open credit notes."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from pxflask.perfex.records import CREDIT_NOTE_CLOSED, CREDIT_NOTE_OPEN, INVOICE_PAID
from pxflask.perfex.seed.catalogue import ZERO, D
from pxflask.perfex.seed.customers import Customer
from pxflask.perfex.seed.documents import Docs, Ids
from pxflask.perfex.seed.invoices import seed_credit_note
from pxflask.perfex.seed.reference import Ref
from pxflask.perfex.totals import round_money

REFUND_NOTES = (None, "Refunded by bank transfer", "Cheque sent to the customer")


def seed_split_credits(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    customers: list[Customer],
    count: int,
    docs: Docs,
) -> None:
    """Up to `count` goodwill credit notes, each applied to two paid invoices.

    Both invoices are of one customer, paid and not credited yet; part of each
    one's largest payment becomes the credit instead, so it stays paid and its
    payments plus credits still make its total.
    """
    credited = {row["invoice_id"] for row in docs.credits}
    largest: dict[int, dict] = {}
    for pay in docs.payments:
        held = largest.get(pay["invoiceid"])
        if held is None or pay["amount"] > held["amount"]:
            largest[pay["invoiceid"]] = pay
    by_customer: dict[int, list[dict]] = {}
    for row in docs.invoices:
        paid = largest.get(row["id"])
        if row["status"] != INVOICE_PAID or row["id"] in credited or paid is None:
            continue
        if paid["amount"] > D("20.00"):
            by_customer.setdefault(row["clientid"], []).append(row)
    pairs = [
        (first, second)
        for rows in by_customer.values()
        for first, second in zip(rows[::2], rows[1::2], strict=False)
    ]
    owners = {c.id: c for c in customers}
    for pair in rng.sample(pairs, min(count, len(pairs))):
        first, second = sorted(pair, key=lambda row: (row["date"], row["id"]))
        shares: list[tuple[int, Decimal, date]] = []
        for row in (first, second):
            pay = largest[row["id"]]
            share = round_money(pay["amount"] * D(rng.randint(10, 40)) / 100)
            pay["amount"] -= share
            shares.append((row["id"], share, row["date"]))
        total = sum((share for _, share, _ in shares), ZERO)
        owner = owners[first["clientid"]]
        seed_credit_note(
            rng, ref, ids, owner, total, first["date"], docs, applications=shares
        )


def seed_refunds(
    rng: random.Random, ref: Ref, ids: Ids, today: date, docs: Docs
) -> None:
    """Refunds of about a quarter of the open credit notes: in part, then in full.

    Never above a credit note's remaining credit (its total less the credits
    applied and refunds made); a refund of all that is left closes it, as Perfex
    does.
    """
    used: dict[int, Decimal] = {}
    for row in docs.credits:
        used[row["credit_id"]] = used.get(row["credit_id"], ZERO) + row["amount"]
    notes = [
        row
        for row in docs.credit_notes
        if row["status"] == CREDIT_NOTE_OPEN
        and row["total"] - used.get(row["id"], ZERO) > D("1.00")
    ]
    count = max(1, round(len(notes) / 4)) if notes else 0
    for index, row in enumerate(rng.sample(notes, count)):
        left = row["total"] - used.get(row["id"], ZERO)
        part = round_money(left * D(rng.randint(20, 80)) / 100)
        amount = left if index % 2 else part  # every other one in full
        on = min(today, row["date"] + timedelta(days=rng.randint(0, 30)))
        docs.refunds.append(
            {
                "id": ids.refund,
                "credit_note_id": row["id"],
                "staff_id": ref.admin_id,
                "refunded_on": on,
                "payment_mode": str(rng.choice(ref.mode_ids)),
                "note": rng.choice(REFUND_NOTES),
                "amount": amount,
                "created_at": datetime.combine(on, time(16, 0)),
            }
        )
        ids.refund += 1
        used[row["id"]] = used.get(row["id"], ZERO) + amount
        if amount == left:
            row["status"] = CREDIT_NOTE_CLOSED
