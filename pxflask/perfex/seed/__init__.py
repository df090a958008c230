"""Realistic, deterministic demo data for a Perfex database (tables created if absent).

``seed_demo`` fills companies and individuals (unicode and duplicate names), contacts,
countries, three currencies (USD base, EUR, GBP), taxes (VAT 20, GST 10, City Tax 5,
Exempt 0) with two taxes on some lines, items, payment modes, invoices in every state
(draft, cancelled, unpaid, overdue, partly paid, paid; statuses consistent with the
payments and due dates as of ``today``), before/after-tax percent and fixed discounts,
adjustments, optional lines, payments by mode id and by gateway (stripe, paypal),
credit notes (some applied to an invoice, about one in a hundred invoices paid
partly by a credit note applied to two; about a quarter of the open ones refunded,
in full or in part), estimates in every status (one converted to
an invoice, one expired), expenses with categories, the options Perfex needs and
three staff accounts:

* ``admin@example.com``: active administrator, password ``admin_password``
  (default ``DEFAULT_ADMIN_PASSWORD`` = "demo-admin");
* ``staff@example.com``: active, not an administrator (same password);
* ``former.admin@example.com``: an inactive administrator (same password).

Stored subtotal/total_tax/discount_total/total are what Perfex stores (totals.py).
The same seed and ``today`` give the same data. Rows are inserted with executemany in
one transaction with explicit ids, so 10,000 invoices take a few seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB, PerfexError
from pxflask.perfex.passwords import hash_password
from pxflask.perfex.records import DRAFT_NUMBER
from pxflask.perfex.schema import create_tables
from pxflask.perfex.seed.catalogue import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    HISTORY_DAYS,
    INACTIVE_ADMIN_EMAIL,
    STAFF_EMAIL,
)
from pxflask.perfex.seed.credits import seed_refunds, seed_split_credits
from pxflask.perfex.seed.customers import seed_customers
from pxflask.perfex.seed.documents import Docs, Ids
from pxflask.perfex.seed.estimates import seed_estimates
from pxflask.perfex.seed.expenses import seed_expenses
from pxflask.perfex.seed.invoices import seed_credit_note, seed_invoices
from pxflask.perfex.seed.reference import reference_data
from pxflask.perfex.seed.rows import insert_rows, next_free_id, set_option

__all__ = [
    "DEFAULT_ADMIN_EMAIL",
    "DEFAULT_ADMIN_PASSWORD",
    "INACTIVE_ADMIN_EMAIL",
    "STAFF_EMAIL",
    "SeedRefused",
    "SeedSummary",
    "seed_demo",
]


class SeedRefused(PerfexError):
    """Seeding was refused: the database already holds invoices or staff."""


@dataclass(frozen=True)
class SeedSummary:
    """What seed_demo inserted."""

    customers: int
    contacts: int
    invoices: int
    lines: int
    line_taxes: int
    payments: int
    credit_notes: int
    expenses: int
    admin_email: str
    admin_password: str
    status_counts: dict[int, int] = field(default_factory=dict)
    estimates: int = 0
    refunds: int = 0


def seed_demo(
    engine_or_url: sa.Engine | str,
    prefix: str = "tbl",
    customers: int = 40,
    invoices: int = 300,
    seed: int = 0,
    force: bool = False,
    *,
    admin_password: str = DEFAULT_ADMIN_PASSWORD,
    today: date | None = None,
) -> SeedSummary:
    """Create the Perfex tables if absent and fill them with demo data.

    Refuses (SeedRefused) when the database already has invoices or staff
    accounts (an install in use), unless force.
    Deterministic for a given seed and `today` (default: the current date).
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if invoices < 0:
        raise ValueError("invoices must not be negative")
    own_engine = isinstance(engine_or_url, str)
    engine = (
        sa.create_engine(engine_or_url)
        if isinstance(engine_or_url, str)
        else engine_or_url
    )
    try:
        return _seed(
            engine,
            prefix,
            customers,
            invoices,
            seed,
            force,
            admin_password,
            today or date.today(),
        )
    finally:
        if own_engine:
            engine.dispose()


def _seed(
    engine: sa.Engine,
    prefix: str,
    customer_count: int,
    invoice_count: int,
    seed: int,
    force: bool,
    admin_password: str,
    today: date,
) -> SeedSummary:
    """seed_demo on an engine."""
    create_tables(engine, prefix)
    db = PerfexDB.from_engine(engine, prefix)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    now = datetime.combine(today, time(10, 0))
    password_hash = hash_password(admin_password)
    t = db.tables
    with engine.begin() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(t.invoices))
        if existing.scalar() and not force:
            raise SeedRefused(
                f"the Perfex database already has invoices ({t.invoices.name}); "
                "refusing to seed it"
            )
        staff = conn.execute(sa.select(sa.func.count()).select_from(t.staff))
        if staff.scalar() and not force:  # an install in use: no known admin in it
            raise SeedRefused(
                f"the Perfex database already has staff accounts ({t.staff.name}); "
                "refusing to seed it"
            )
        ref = reference_data(conn, db, now, password_hash)
        inv = t.invoices
        max_number = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(inv.c.number), 0)).where(
                inv.c.number < DRAFT_NUMBER
            )
        ).scalar_one()
        max_cn = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(t.creditnotes.c.number), 0))
        ).scalar_one()
        ids = Ids(
            invoice=next_free_id(conn, t.invoices),
            line=next_free_id(conn, t.itemable),
            payment=next_free_id(conn, t.invoicepaymentrecords),
            credit_note=next_free_id(conn, t.creditnotes),
            credit=next_free_id(conn, t.credits),
            expense=next_free_id(conn, t.expenses),
            estimate=next_free_id(conn, t.estimates),
            refund=next_free_id(conn, t.creditnote_refunds),
            invoice_number=int(max_number) + 1,
            credit_note_number=int(max_cn) + 1,
        )
        seeded, client_rows, contact_rows = seed_customers(
            rng,
            ref,
            customer_count,
            next_free_id(conn, t.clients),
            next_free_id(conn, t.contacts),
            today,
        )
        docs = Docs()
        seed_invoices(rng, ref, ids, seeded, invoice_count, today, docs)
        for _ in range(max(1, invoice_count // 40)):
            on = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
            seed_credit_note(rng, ref, ids, rng.choice(seeded), None, on, docs)
        seed_expenses(rng, ref, ids, seeded, max(5, invoice_count // 6), today, docs)
        estimates = max(6, invoice_count // 25)
        max_est = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(t.estimates.c.number), 0))
        ).scalar_one()
        next_estimate = seed_estimates(
            seed, ref, ids, seeded, estimates, today, docs, int(max_est) + 1
        )
        # A stream of its own: the documents above stay what they were.
        more = random.Random(f"credits:{seed}")  # noqa: S311 - demo data
        seed_split_credits(more, ref, ids, seeded, max(1, invoice_count // 100), docs)
        seed_refunds(more, ref, ids, today, docs)

        insert_rows(conn, db, "clients", client_rows)
        insert_rows(conn, db, "contacts", contact_rows)
        insert_rows(conn, db, "invoices", docs.invoices)
        insert_rows(conn, db, "creditnotes", docs.credit_notes)
        insert_rows(conn, db, "itemable", docs.lines)
        insert_rows(conn, db, "item_tax", docs.taxes)
        insert_rows(conn, db, "invoicepaymentrecords", docs.payments)
        insert_rows(conn, db, "credits", docs.credits)
        insert_rows(conn, db, "expenses", docs.expenses)
        insert_rows(conn, db, "estimates", docs.estimates)
        insert_rows(conn, db, "creditnote_refunds", docs.refunds)
        set_option(conn, db, "next_invoice_number", str(ids.invoice_number))
        set_option(conn, db, "next_credit_note_number", str(ids.credit_note_number))
        set_option(conn, db, "next_estimate_number", str(next_estimate))
    return SeedSummary(
        customers=len(client_rows),
        contacts=len(contact_rows),
        invoices=len(docs.invoices),
        lines=len(docs.lines),
        line_taxes=len(docs.taxes),
        payments=len(docs.payments),
        credit_notes=len(docs.credit_notes),
        expenses=len(docs.expenses),
        admin_email=DEFAULT_ADMIN_EMAIL,
        admin_password=admin_password,
        status_counts=dict(sorted(docs.status_counts.items())),
        estimates=len(docs.estimates),
        refunds=len(docs.refunds),
    )
