"""Typed reads of Perfex data, a fixed number of queries per call.

Every function issues a constant number of queries whatever the number of rows.
Documents with lines (invoices, credit notes, estimates) are read in
``documents``; the other records here. Only explicit id lists are sent in chunks
of ``query.ID_CHUNK`` ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import NullType

from pxflask.perfex import damage
from pxflask.perfex.db import PerfexDataError, PerfexDB
from pxflask.perfex.documents import (
    invoice_conditions,
    read_credit_notes,
    read_estimates,
    read_invoices,
)
from pxflask.perfex.fingerprints import invoice_fingerprints
from pxflask.perfex.query import chunks as _chunks
from pxflask.perfex.query import currency as _currency
from pxflask.perfex.query import currency_map as _currency_map
from pxflask.perfex.query import number_padding
from pxflask.perfex.query import raw_rows as _raw_rows
from pxflask.perfex.records import (
    Address,
    Contact,
    Country,
    CreditApplication,
    Currency,
    Customer,
    Expense,
    ExpenseCategory,
    Item,
    Payment,
    PaymentMode,
    Tax,
)
from pxflask.perfex.refunds import read_credit_refunds
from pxflask.perfex.staff import find_staff_by_email, get_staff

__all__ = [
    "base_currency",
    "find_staff_by_email",
    "get_option",
    "get_staff",
    "invoice_conditions",
    "invoice_fingerprints",
    "number_padding",
    "read_contacts",
    "read_countries",
    "read_credit_applications",
    "read_credit_notes",
    "read_credit_refunds",
    "read_currencies",
    "read_customers",
    "read_estimates",
    "read_expense_categories",
    "read_expenses",
    "read_invoices",
    "read_items",
    "read_options",
    "read_payment_modes",
    "read_payments",
    "read_taxes",
]

ZERO = Decimal("0.00")


# --------------------------------------------------------------------------- options


def read_options(db: PerfexDB, names: Iterable[str] | None = None) -> dict[str, str]:
    """Options (tbloptions) by name; with duplicates the last row wins like Perfex."""
    opt = db.tables.options
    stmt = sa.select(opt.c.name, opt.c.value).order_by(opt.c.id)
    if names is not None:
        stmt = stmt.where(opt.c.name.in_(list(names)))
    with db.engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(stmt).all()}


def get_option(db: PerfexDB, name: str, default: str | None = None) -> str | None:
    """One option's value, or default when absent."""
    return read_options(db, [name]).get(name, default)


# ------------------------------------------------------------------ reference data


def read_currencies(db: PerfexDB) -> list[Currency]:
    """All currencies (tblcurrencies) by id."""
    with db.engine.connect() as conn:
        return list(_currency_map(conn, db).values())


def base_currency(db: PerfexDB) -> Currency:
    """The base currency (isdefault = 1; the lowest id if none is flagged)."""
    currencies = read_currencies(db)
    if not currencies:
        raise PerfexDataError("Perfex has no currencies (tblcurrencies is empty)")
    for currency in currencies:
        if currency.is_default:
            return currency
    return currencies[0]


def read_countries(db: PerfexDB) -> dict[int, Country]:
    """All countries by id."""
    with db.engine.connect() as conn:
        return _country_map(conn, db)


def _country_map(conn: sa.Connection, db: PerfexDB) -> dict[int, Country]:
    """All countries by id, on an open connection."""
    c = db.tables.countries
    stmt = sa.select(c.c.country_id, c.c.iso2, c.c.short_name)
    return {row[0]: Country(row[0], row[1], row[2]) for row in conn.execute(stmt)}


def read_taxes(db: PerfexDB) -> list[Tax]:
    """All taxes (tbltaxes) by id."""
    t = db.tables.taxes
    stmt = sa.select(t.c.id, t.c.name, t.c.taxrate).order_by(t.c.id)
    with db.engine.connect() as conn:
        return [Tax(row[0], row[1], row[2]) for row in conn.execute(stmt)]


def read_payment_modes(db: PerfexDB, active_only: bool = False) -> list[PaymentMode]:
    """Offline payment modes (tblpayment_modes) by id."""
    pm = db.tables.payment_modes
    stmt = sa.select(
        pm.c.id,
        pm.c.name,
        pm.c.description,
        pm.c.active,
        pm.c.invoices_only,
        pm.c.expenses_only,
    ).order_by(pm.c.id)
    if active_only:
        stmt = stmt.where(pm.c.active == 1)
    with db.engine.connect() as conn:
        return [
            PaymentMode(r[0], r[1], r[2], bool(r[3]), bool(r[4]), bool(r[5]))
            for r in conn.execute(stmt)
        ]


def read_expense_categories(db: PerfexDB) -> list[ExpenseCategory]:
    """Expense categories (tblexpenses_categories) by id."""
    ec = db.tables.expenses_categories
    stmt = sa.select(ec.c.id, ec.c.name, ec.c.description).order_by(ec.c.id)
    with db.engine.connect() as conn:
        return [ExpenseCategory(r[0], r[1], r[2]) for r in conn.execute(stmt)]


def _tax_ids(*values: int | None) -> tuple[int, ...]:
    """Non-empty tax references as a tuple."""
    return tuple(v for v in values if v)


def read_items(db: PerfexDB, ids: Iterable[int] | None = None) -> list[Item]:
    """Catalogue items (tblitems) with their tax ids, by id."""
    it = db.tables.items
    stmt = sa.select(
        it.c.id,
        it.c.description,
        it.c.long_description,
        it.c.rate,
        it.c.unit,
        it.c.group_id,
        it.c.tax,
        it.c.tax2,
    ).order_by(it.c.id)
    if ids is not None:
        stmt = stmt.where(it.c.id.in_(sorted(set(ids))))
    with db.engine.connect() as conn:
        return [
            Item(r[0], r[1], r[2], r[3], r[4], r[5] or 0, _tax_ids(r[6], r[7]))
            for r in conn.execute(stmt)
        ]


# ------------------------------------------------------------------------ customers


def _contact_columns(db: PerfexDB) -> list[sa.ColumnElement[object]]:
    """The contact columns a Contact needs, in constructor order."""
    c = db.tables.contacts
    return [
        c.c.id,
        c.c.userid,
        c.c.firstname,
        c.c.lastname,
        c.c.email,
        c.c.phonenumber,
        c.c.is_primary,
        c.c.active,
    ]


def _contact(row: Sequence[Any]) -> Contact:
    """A Contact from a row of _contact_columns."""
    return Contact(
        row[0],
        row[1],
        row[2] or "",
        row[3] or "",
        row[4] or "",
        row[5] or None,
        bool(row[6]),
        bool(row[7]),
    )


def read_contacts(
    db: PerfexDB, customer_ids: Iterable[int] | None = None
) -> list[Contact]:
    """Contacts (tblcontacts), ordered by customer, primary first, then id."""
    c = db.tables.contacts
    base = sa.select(*_contact_columns(db)).order_by(
        c.c.userid, c.c.is_primary.desc(), c.c.id
    )
    with db.engine.connect() as conn:
        if customer_ids is None:
            return [_contact(r) for r in conn.execute(base)]
        out: list[Contact] = []
        for chunk in _chunks(customer_ids):
            out.extend(
                _contact(r) for r in conn.execute(base.where(c.c.userid.in_(chunk)))
            )
        return out


def read_customers(
    db: PerfexDB,
    ids: Iterable[int] | None = None,
    active_only: bool = False,
) -> list[Customer]:
    """Customers with their primary contact and resolved countries, by id."""
    cl = db.tables.clients
    ct = db.tables.contacts
    stmt = sa.select(
        cl.c.userid,
        cl.c.company,
        cl.c.vat,
        cl.c.phonenumber,
        cl.c.website,
        cl.c.active,
        cl.c.default_currency,
        cl.c.address,
        cl.c.city,
        cl.c.state,
        cl.c.zip,
        cl.c.country,
        cl.c.billing_street,
        cl.c.billing_city,
        cl.c.billing_state,
        cl.c.billing_zip,
        cl.c.billing_country,
        cl.c.shipping_street,
        cl.c.shipping_city,
        cl.c.shipping_state,
        cl.c.shipping_zip,
        cl.c.shipping_country,
        sa.type_coerce(cl.c.datecreated, NullType()),  # checked below, never raises
    ).order_by(cl.c.userid)
    contacts_stmt = (
        sa.select(*_contact_columns(db))
        .where(ct.c.is_primary == 1)
        .order_by(ct.c.userid, ct.c.id)
    )
    if active_only:
        stmt = stmt.where(cl.c.active == 1)
        contacts_stmt = contacts_stmt.where(
            ct.c.userid.in_(sa.select(cl.c.userid).where(cl.c.active == 1))
        )
    with db.engine.connect() as conn:
        countries = _country_map(conn, db)
        if ids is None:
            rows = list(conn.execute(stmt))
            contact_rows: list[Sequence[Any]] = list(conn.execute(contacts_stmt))
        else:
            rows, contact_rows = [], []
            for chunk in _chunks(ids):
                rows.extend(conn.execute(stmt.where(cl.c.userid.in_(chunk))))
                contact_rows.extend(
                    conn.execute(contacts_stmt.where(ct.c.userid.in_(chunk)))
                )
    primary: dict[int, Contact] = {}
    for contact_row in contact_rows:
        primary.setdefault(contact_row[1], _contact(contact_row))

    def address(
        street: str | None,
        city: str | None,
        state: str | None,
        zip_: str | None,
        country: int | None,
    ) -> Address:
        return Address(
            street, city, state, zip_, countries.get(country) if country else None
        )

    return [
        Customer(
            id=r[0],
            company=r[1],
            vat=r[2],
            phone=r[3],
            website=r[4],
            active=bool(r[5]),
            default_currency_id=r[6] or 0,
            address=address(r[7], r[8], r[9], r[10], r[11]),
            billing=address(r[12], r[13], r[14], r[15], r[16]),
            shipping=address(r[17], r[18], r[19], r[20], r[21]),
            primary_contact=primary.get(r[0]),
            datecreated=damage.to_datetime(r[22]),
        )
        for r in rows
    ]


# ------------------------------------------------------------------------- payments


def read_payments(
    db: PerfexDB,
    ids: Iterable[int] | None = None,
    *,
    invoice_ids: Iterable[int] | None = None,
    recorded_since: datetime | None = None,
    after_id: int | None = None,
) -> list[Payment]:
    """Payments (tblinvoicepaymentrecords), ordered by id; filters are ANDed."""
    p = db.tables.invoicepaymentrecords
    stmt = sa.select(
        p.c.id,
        p.c.invoiceid,
        p.c.amount,
        p.c.paymentmode,
        p.c.paymentmethod,
        p.c.date,
        p.c.daterecorded,
        p.c.note,
        p.c.transactionid,
    ).order_by(p.c.id)
    if recorded_since is not None:
        stmt = stmt.where(p.c.daterecorded >= recorded_since)
    if after_id is not None:
        stmt = stmt.where(p.c.id > after_id)
    with db.engine.connect() as conn:
        if ids is not None:
            rows = [
                r
                for ch in _chunks(ids)
                for r in _raw_rows(conn, stmt.where(p.c.id.in_(ch)))
            ]
        elif invoice_ids is not None:
            rows = [
                r
                for ch in _chunks(invoice_ids)
                for r in _raw_rows(conn, stmt.where(p.c.invoiceid.in_(ch)))
            ]
        else:
            rows = list(_raw_rows(conn, stmt))
    if ids is not None and invoice_ids is not None:
        wanted = set(invoice_ids)
        rows = [r for r in rows if r[1] in wanted]
    rows.sort(key=lambda r: r[0])
    if not rows:
        return []
    cols = list(zip(*rows, strict=True))
    keys, damaged = cols[0], damage.Damage()
    amounts = damage.check_money(keys, cols[2], "amount", damaged)
    days = damage.check_dates(keys, cols[5], "date", damaged)
    recorded = list(map(damage.to_datetime, cols[6]))
    return [
        Payment(
            r[0],
            r[1],
            amount,
            r[3] or None,
            r[4] or None,
            day,
            stamp,
            r[7],
            r[8],
            damaged.get(r[0]),
        )
        for r, amount, day, stamp in zip(rows, amounts, days, recorded, strict=True)
    ]


# ------------------------------------------------------------------------- expenses


def read_expenses(
    db: PerfexDB, ids: Iterable[int] | None = None, *, after_id: int | None = None
) -> list[Expense]:
    """Expenses (tblexpenses) with currency and tax ids, ordered by id."""
    e = db.tables.expenses
    stmt = sa.select(
        e.c.id,
        e.c.category,
        e.c.currency,
        e.c.amount,
        e.c.tax,
        e.c.tax2,
        e.c.expense_name,
        e.c.note,
        e.c.reference_no,
        e.c.clientid,
        e.c.paymentmode,
        e.c.date,
        e.c.dateadded,
    ).order_by(e.c.id)
    if after_id is not None:
        stmt = stmt.where(e.c.id > after_id)
    with db.engine.connect() as conn:
        currencies = _currency_map(conn, db)
        if ids is None:
            rows = list(_raw_rows(conn, stmt))
        else:
            rows = [
                r
                for ch in _chunks(ids)
                for r in _raw_rows(conn, stmt.where(e.c.id.in_(ch)))
            ]
    if not rows:
        return []
    cols = list(zip(*rows, strict=True))
    keys, damaged = cols[0], damage.Damage()
    amounts = damage.check_money(keys, cols[3], "amount", damaged)
    days = damage.check_dates(keys, cols[11], "date", damaged)
    added = list(map(damage.to_datetime, cols[12]))
    return [
        Expense(
            r[0],
            r[1],
            _currency(currencies, r[2]),
            amount,
            _tax_ids(r[4], r[5]),
            r[6],
            r[7],
            r[8],
            r[9] or 0,
            r[10] or None,
            day,
            stamp,
            damaged.get(r[0]),
        )
        for r, amount, day, stamp in zip(rows, amounts, days, added, strict=True)
    ]


def read_credit_applications(db: PerfexDB) -> list[CreditApplication]:
    """Credit-note amounts applied to invoices (tblcredits), ordered by id."""
    cr = db.tables.credits
    stmt = sa.select(
        cr.c.id, cr.c.credit_id, cr.c.invoice_id, cr.c.amount, cr.c.date
    ).order_by(cr.c.id)
    with db.engine.connect() as conn:
        rows = list(_raw_rows(conn, stmt))
    if not rows:
        return []
    cols = list(zip(*rows, strict=True))
    keys, damaged = cols[0], damage.Damage()
    amounts = damage.check_money(keys, cols[3], "amount", damaged, default=ZERO)
    days = damage.check_dates(keys, cols[4], "date", damaged)
    return [
        CreditApplication(
            int(r[0]), int(r[1]), int(r[2]), amount, day, damaged.get(r[0])
        )
        for r, amount, day in zip(rows, amounts, days, strict=True)
    ]
