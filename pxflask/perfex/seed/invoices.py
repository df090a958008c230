"""Demo invoices with their payments and credit notes."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from pxflask.perfex.numbering import (
    FORMAT_NUMBER,
    FORMAT_NUMBER_MM_YYYY,
    FORMAT_YEAR,
    format_credit_note_number,
    format_invoice_number,
)
from pxflask.perfex.records import (
    CREDIT_NOTE_CLOSED,
    CREDIT_NOTE_OPEN,
    CREDIT_NOTE_VOID,
    DRAFT_NUMBER,
    INVOICE_CANCELLED,
    INVOICE_DRAFT,
    Line,
)
from pxflask.perfex.seed.catalogue import (
    ADJUSTMENTS,
    CREDIT_NOTE_PREFIX,
    DUE_AFTER_DAYS,
    GATEWAYS,
    HISTORY_DAYS,
    INVOICE_PREFIX,
    PADDING,
    ZERO,
    D,
)
from pxflask.perfex.seed.customers import Customer
from pxflask.perfex.seed.documents import (
    Docs,
    Ids,
    document_row,
    random_discount,
    random_lines,
    split_amount,
)
from pxflask.perfex.seed.reference import Ref
from pxflask.perfex.seed.rows import php_serialize
from pxflask.perfex.totals import compute_totals, round_money
from pxflask.perfex.writes import invoice_status_for


def payment_row(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    invoice_id: int,
    amount: Decimal,
    on: date,
) -> dict:
    """One payment, by offline mode id or by gateway."""
    roll = rng.random()
    if roll < 0.6:
        mode, method, txn = str(rng.choice(ref.mode_ids)), None, None
    else:
        gateway, methods = GATEWAYS[0] if roll < 0.85 else GATEWAYS[1]
        mode, method = gateway, rng.choice(methods)
        prefix = "ch_" if gateway == "stripe" else "PAYID-"
        txn = f"{prefix}{rng.getrandbits(64):016x}"
    row = {
        "id": ids.payment,
        "invoiceid": invoice_id,
        "amount": amount,
        "paymentmode": mode,
        "paymentmethod": method,
        "date": on,
        "daterecorded": datetime.combine(on, time(12, 0))
        + timedelta(minutes=rng.randint(0, 300)),
        "note": rng.choice(["", "", "Thank you!", "Ref. remittance advice"]),
        "transactionid": txn,
    }
    ids.payment += 1
    return row


def seed_invoices(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    customers: list[Customer],
    count: int,
    today: date,
    docs: Docs,
) -> None:
    """Invoices with lines, taxes, payments and applied credit notes."""
    plans = []
    for index in range(count):
        roll = rng.random()
        kind = "draft" if roll < 0.04 else "cancelled" if roll < 0.07 else "normal"
        back = rng.randint(0, 20) if kind == "draft" else rng.randint(0, HISTORY_DAYS)
        plans.append((today - timedelta(days=back), index, kind))
    plans.sort()
    allowed_modes = php_serialize(
        [str(m) for m in ref.mode_ids] + [g for g, _ in GATEWAYS]
    )
    for on, _, kind in plans:
        customer = rng.choice(customers)
        invoice_id = ids.invoice
        ids.invoice += 1
        optional_extra = rng.random() < 0.05
        lines = random_lines(
            rng, ref, ids, invoice_id, "invoice", docs.lines, docs.taxes, optional_extra
        )
        dtype, percent, fixed = random_discount(rng, lines)
        adjustment = rng.choice(ADJUSTMENTS) if rng.random() < 0.08 else ZERO
        totals = compute_totals(lines, dtype, percent, fixed, adjustment)
        if totals.total < ZERO:  # a negative adjustment on a tiny invoice
            adjustment = ZERO
            totals = compute_totals(lines, dtype, percent, fixed, adjustment)
        fmt_roll = rng.random()
        number_format = (
            FORMAT_YEAR
            if fmt_roll < 0.03
            else FORMAT_NUMBER_MM_YYYY
            if fmt_roll < 0.05
            else FORMAT_NUMBER
        )
        if kind == "draft":
            number = DRAFT_NUMBER
        else:
            number = ids.invoice_number
            ids.invoice_number += 1
        duedate = on + timedelta(days=DUE_AFTER_DAYS) if rng.random() > 0.03 else None
        paid = ZERO
        if kind == "draft":
            status = INVOICE_DRAFT
        elif kind == "cancelled":
            status = INVOICE_CANCELLED
        else:
            paid = settle(
                rng, ref, ids, invoice_id, customer, totals.total, on, today, docs
            )
            status = invoice_status_for(totals.total, paid, duedate, today)
        docs.status_counts[status] = docs.status_counts.get(status, 0) + 1
        created = datetime.combine(on, time(8, 0)) + timedelta(
            minutes=rng.randint(0, 600)
        )
        sent = kind != "draft" and rng.random() < 0.9
        row = document_row(
            customer, customer.currency_id, totals, dtype, percent, adjustment
        )
        row.update(
            id=invoice_id,
            sent=int(sent),
            datesend=created + timedelta(hours=1) if sent else None,
            number=number,
            prefix=INVOICE_PREFIX,
            number_format=number_format,
            formatted_number=format_invoice_number(
                number, INVOICE_PREFIX, number_format, on, status, PADDING
            ),
            datecreated=created,
            date=on,
            duedate=duedate,
            addedfrom=ref.admin_id,
            hash=f"{rng.getrandbits(128):032x}",
            status=status,
            clientnote=rng.choice(
                [None, "Thank you for your business.", "Merci beaucoup ✓"]
            ),
            allowed_payment_modes=allowed_modes,
            terms="Payment due within 30 days.",
            sale_agent=rng.choice([0, ref.admin_id, ref.staff_id]),
        )
        docs.invoices.append(row)


def settle(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    invoice_id: int,
    customer: Customer,
    total: Decimal,
    on: date,
    today: date,
    docs: Docs,
) -> Decimal:
    """Payments (and sometimes an applied credit note) for one invoice; sum paid."""
    if total <= ZERO:
        return ZERO
    age = (today - on).days
    roll = rng.random()
    if roll < (0.75 if age > 45 else 0.35):
        to_pay = total
    elif roll < (0.87 if age > 45 else 0.55):
        to_pay = round_money(total * D(rng.randint(20, 80)) / 100)
    else:
        return ZERO
    if to_pay <= ZERO:
        return ZERO
    received = ZERO
    if to_pay == total and total > D("20.00") and rng.random() < 0.04:
        credit = round_money(total * D(rng.randint(10, 30)) / 100)
        seed_credit_note(
            rng, ref, ids, customer, credit, on, docs, applied_to=invoice_id
        )
        received += credit
        to_pay -= credit
    parts = 2 if rng.random() < 0.2 else 1
    for amount in split_amount(rng, to_pay, parts):
        pay_day = min(today, on + timedelta(days=rng.randint(0, 40)))
        docs.payments.append(payment_row(rng, ref, ids, invoice_id, amount, pay_day))
        received += amount
    return received


def seed_credit_note(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    customer: Customer,
    amount: Decimal | None,
    on: date,
    docs: Docs,
    applied_to: int | None = None,
    applications: Sequence[tuple[int, Decimal, date]] = (),
) -> None:
    """A credit note: a fixed goodwill credit applied to invoices, or item lines.

    applied_to: the one invoice it all goes to; applications: (invoice id, amount,
    date) of each part, when it goes to several.
    """
    note_id = ids.credit_note
    ids.credit_note += 1
    if amount is not None:
        line_id = ids.line
        ids.line += 1
        docs.lines.append(
            {
                "id": line_id,
                "rel_id": note_id,
                "rel_type": "credit_note",
                "description": "Goodwill credit",
                "long_description": None,
                "qty": D("1"),
                "rate": amount,
                "unit": None,
                "item_order": 1,
                "is_optional": 0,
                "is_selected": 1,
            }
        )
        lines = [Line(line_id, "Goodwill credit", None, D("1"), amount, None, 1, ())]
        dtype, percent, fixed = "", ZERO, ZERO
    else:
        lines = random_lines(
            rng, ref, ids, note_id, "credit_note", docs.lines, docs.taxes, False
        )
        dtype, percent, fixed = random_discount(rng, lines)
    totals = compute_totals(lines, dtype, percent, fixed, ZERO)
    if applied_to is not None:
        applications = [(applied_to, totals.total, on)]
    if applications:
        status = CREDIT_NOTE_CLOSED
        for invoice_id, applied, day in applications:
            docs.credits.append(
                {
                    "id": ids.credit,
                    "invoice_id": invoice_id,
                    "credit_id": note_id,
                    "staff_id": ref.admin_id,
                    "date": day,
                    "date_applied": datetime.combine(day, time(15, 0)),
                    "amount": applied,
                }
            )
            ids.credit += 1
    else:
        status = CREDIT_NOTE_VOID if rng.random() < 0.15 else CREDIT_NOTE_OPEN
    number = ids.credit_note_number
    ids.credit_note_number += 1
    row = document_row(customer, customer.currency_id, totals, dtype, percent, ZERO)
    row.update(
        id=note_id,
        number=number,
        prefix=CREDIT_NOTE_PREFIX,
        number_format=FORMAT_NUMBER,
        formatted_number=format_credit_note_number(
            number, CREDIT_NOTE_PREFIX, FORMAT_NUMBER, on, PADDING
        ),
        datecreated=datetime.combine(on, time(14, 0)),
        date=on,
        addedfrom=ref.admin_id,
        status=status,
        reference_no=f"REF-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None,
    )
    docs.credit_notes.append(row)
