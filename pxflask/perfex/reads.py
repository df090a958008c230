"""Typed reads of Perfex data, a fixed number of queries per call.

Every function issues a constant number of queries whatever the number of rows: one
for the documents, one for all their lines, one for all the lines' taxes, plus the
small look-up tables (currencies, countries, options). Filters travel into the line
and tax queries as a sub-select, so nothing grows with the row count. Only explicit
id lists are sent in chunks of ``ID_CHUNK`` ids (one round of queries per chunk).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, itemgetter

import sqlalchemy as sa
from sqlalchemy.types import NullType

from pxflask.perfex import _packed, damage
from pxflask.perfex.db import PerfexDataError, PerfexDB
from pxflask.perfex.numbering import (
    format_credit_note_number,
    format_invoice_number,
    parse_padding,
)
from pxflask.perfex.records import (
    Address,
    Contact,
    Country,
    CreditApplication,
    CreditNote,
    Currency,
    Customer,
    Expense,
    ExpenseCategory,
    Invoice,
    Item,
    Line,
    LineTax,
    Payment,
    PaymentMode,
    Staff,
    Tax,
    build_records,
)

ID_CHUNK = 2000
ZERO = Decimal("0.00")
REL_INVOICE = "invoice"
REL_CREDIT_NOTE = "credit_note"

RelFilter = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]] | None


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """Split ids into sorted, de-duplicated chunks of ID_CHUNK."""
    size = ID_CHUNK
    unique = sorted(set(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


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


def number_padding(conn: sa.Connection, db: PerfexDB) -> int:
    """The option number_padding_prefixes (default 6)."""
    opt = db.tables.options
    stmt = (
        sa.select(opt.c.value)
        .where(opt.c.name == "number_padding_prefixes")
        .order_by(opt.c.id.desc())
        .limit(1)
    )
    return parse_padding(conn.execute(stmt).scalar())


# ------------------------------------------------------------------ reference data


def _currency_map(conn: sa.Connection, db: PerfexDB) -> dict[int, Currency]:
    """All currencies by id."""
    cur = db.tables.currencies
    stmt = sa.select(cur.c.id, cur.c.name, cur.c.symbol, cur.c.isdefault).order_by(
        cur.c.id
    )
    return {
        row[0]: Currency(row[0], row[1], row[2], bool(row[3]))
        for row in conn.execute(stmt)
    }


def _currency(currencies: dict[int, Currency], currency_id: int) -> Currency:
    """The currency by id; an unknown id yields a record with an empty code."""
    found = currencies.get(currency_id)
    if found is None:
        found = Currency(currency_id, "", "", False)
        currencies[currency_id] = found
    return found


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


def _contact(row: Sequence[object]) -> Contact:
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
            contact_rows = list(conn.execute(contacts_stmt))
        else:
            rows, contact_rows = [], []
            for chunk in _chunks(ids):
                rows.extend(conn.execute(stmt.where(cl.c.userid.in_(chunk))))
                contact_rows.extend(
                    conn.execute(contacts_stmt.where(ct.c.userid.in_(chunk)))
                )
    primary: dict[int, Contact] = {}
    for row in contact_rows:
        primary.setdefault(row[1], _contact(row))

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


# ---------------------------------------------------------------- lines and taxes


def _raw_rows(conn: sa.Connection, stmt: sa.Select) -> Sequence[tuple]:
    """Execute a statement (events, bind processing) and fetch the driver's tuples.

    Skips SQLAlchemy's Row objects and result processors, so callers convert the
    column types themselves (only for simple column types: int, text, money, dates).
    """
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _is_sqlite(conn: sa.Connection) -> bool:
    """True on SQLite, whose driver returns money as float and dates as text."""
    return conn.dialect.name == "sqlite"


def _money_memo(
    conn: sa.Connection, none: Decimal | None = None
) -> Callable[[object], Decimal | None]:
    """Raw driver money value -> Decimal (None -> none), once per distinct value."""
    if _is_sqlite(conn):
        return _packed.Memo(damage.to_money, {None: none}).__getitem__
    if none is None:
        return _same
    return lambda value: none if value is None else value


def _same(value: object) -> object:
    """Identity: MySQL drivers already return Decimal for DECIMAL."""
    return value


def _load_lines(
    conn: sa.Connection,
    db: PerfexDB,
    rel_type: str,
    rel_filter: RelFilter,
    damaged: damage.Damage | None = None,
) -> dict[int, tuple[Line, ...]]:
    """Lines with their taxes, grouped by document id, in item order (2 queries).

    A line whose quantity or price is NULL or unreadable gets None there, and its
    document's reason goes into `damaged` (document id -> reason).
    """
    li = db.tables.itemable
    tx = db.tables.item_tax

    tax_stmt = (
        sa.select(tx.c.itemid, tx.c.taxname, tx.c.taxrate)
        .where(tx.c.rel_type == rel_type)
        .order_by(tx.c.itemid, tx.c.id)
    )
    optional = db.has_optional_lines
    line_cols = [
        li.c.rel_id,
        li.c.id,
        li.c.description,
        li.c.long_description,
        li.c.qty,
        li.c.rate,
        li.c.unit,
        li.c.item_order,
    ]
    if optional:
        line_cols += [li.c.is_optional, li.c.is_selected]
    line_stmt = (
        sa.select(*line_cols)
        .where(li.c.rel_type == rel_type)
        .order_by(li.c.rel_id, li.c.item_order, li.c.id)
    )
    if rel_filter is not None:
        tax_stmt = tax_stmt.where(rel_filter(tx.c.rel_id))
        line_stmt = line_stmt.where(rel_filter(li.c.rel_id))

    money = _money_memo(conn)
    tax_rows = _raw_rows(conn, tax_stmt)
    line_taxes: dict[int, tuple[LineTax, ...]] = {}
    if tax_rows:
        items, names, rates = zip(*tax_rows, strict=True)
        line_taxes = _packed.group_taxes(items, names, rates, money)

    rows = _raw_rows(conn, line_stmt)
    if not rows:
        return {}
    cols = list(zip(*rows, strict=True))
    ids = cols[1]
    amount = damage.memo(damage.to_money) if _is_sqlite(conn) else money
    qtys = list(map(amount, cols[4]))
    rates = list(map(amount, cols[5]))
    if damaged is not None and (None in qtys or None in rates):
        for index, (qty, rate) in enumerate(zip(qtys, rates, strict=True)):
            for value, raw, name in ((qty, cols[4], "qty"), (rate, cols[5], "rate")):
                if value is None:
                    damaged.setdefault(
                        int(cols[0][index]),
                        damage.money_problem(f"line {ids[index]} {name}", raw[index]),
                    )
    lines = build_records(
        Line,
        len(rows),
        [
            ids,
            [desc or "" for desc in cols[2]],
            cols[3],
            qtys,
            rates,
            cols[6],
            [order or 0 for order in cols[7]],
            map(line_taxes.get, ids, repeat(())),
            map(bool, cols[8]) if optional else repeat(False),
            map(bool, cols[9]) if optional else repeat(True),
        ],
    )
    return _packed.group_runs(cols[0], lines)


# ------------------------------------------------------------------------- invoices


def _changed_since(db: PerfexDB, since: datetime) -> sa.ColumnElement[bool]:
    """Invoices created, sent, paid or credited since a moment (cheap signals)."""
    inv = db.tables.invoices
    pay = db.tables.invoicepaymentrecords
    cr = db.tables.credits
    return sa.or_(
        inv.c.datecreated >= since,
        inv.c.datesend >= since,
        inv.c.id.in_(sa.select(pay.c.invoiceid).where(pay.c.daterecorded >= since)),
        inv.c.id.in_(sa.select(cr.c.invoice_id).where(cr.c.date_applied >= since)),
    )


def invoice_conditions(
    db: PerfexDB,
    changed_since: datetime | None = None,
    after_id: int | None = None,
    date_from: date | None = None,
    statuses: Iterable[int] | None = None,
    customer_id: int | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on tblinvoices for the read filters."""
    inv = db.tables.invoices
    conds: list[sa.ColumnElement[bool]] = []
    if changed_since is not None:
        conds.append(_changed_since(db, changed_since))
    if after_id is not None:
        conds.append(inv.c.id > after_id)
    if date_from is not None:
        conds.append(inv.c.date >= date_from)
    if statuses is not None:
        conds.append(inv.c.status.in_(sorted(set(statuses))))
    if customer_id is not None:
        conds.append(inv.c.clientid == customer_id)
    return conds


def read_invoices(
    db: PerfexDB,
    ids: Iterable[int] | None = None,
    *,
    changed_since: datetime | None = None,
    after_id: int | None = None,
    date_from: date | None = None,
    statuses: Iterable[int] | None = None,
    customer_id: int | None = None,
    limit: int | None = None,
) -> list[Invoice]:
    """Invoices with lines and line taxes, ordered by id (filters are ANDed).

    ``changed_since`` selects invoices created, sent, paid or credited since then;
    Perfex keeps no modification time, so edits are found with invoice_fingerprints.
    ``after_id`` with ``limit`` pages through all invoices in id order.
    """
    conds = invoice_conditions(
        db, changed_since, after_id, date_from, statuses, customer_id
    )
    id_list = None if ids is None else sorted(set(ids))
    with db.engine.connect() as conn:
        currencies = _currency_map(conn, db)
        padding = number_padding(conn, db)
        if db.is_mysql and db.packed_reads:
            return _invoices_packed(
                conn, db, id_list, conds, limit, currencies, padding
            )
        damaged: damage.Damage = {}
        rows, lines = _invoice_data_plain(conn, db, id_list, conds, limit, damaged)
        return _plain_invoices(conn, rows, currencies, padding, lines, damaged)


def _invoice_select(db: PerfexDB) -> sa.Select[tuple[object, ...]]:
    """The invoice columns _assemble_invoices reads, in its positional order."""
    inv = db.tables.invoices
    cols = [
        inv.c.id,
        inv.c.number,
        inv.c.prefix,
        inv.c.number_format,
        inv.c.clientid,
        inv.c.date,
        inv.c.duedate,
        inv.c.currency,
        inv.c.subtotal,
        inv.c.total_tax,
        inv.c.total,
        inv.c.adjustment,
        inv.c.discount_percent,
        inv.c.discount_total,
        inv.c.discount_type,
        inv.c.status,
        inv.c.clientnote,
        inv.c.terms,
        inv.c.datecreated,
    ]
    if db.has_invoice_formatted_number:
        cols.append(inv.c.formatted_number)
    return sa.select(*cols).order_by(inv.c.id)


InvoiceData = tuple[list[Sequence[object]], dict[int, tuple[Line, ...]]]


def _invoice_data_plain(
    conn: sa.Connection,
    db: PerfexDB,
    ids: list[int] | None,
    conds: list[sa.ColumnElement[bool]],
    limit: int | None,
    damaged: damage.Damage,
) -> InvoiceData:
    """Raw invoice rows (driver tuples) and their lines, one row per line and tax."""
    inv = db.tables.invoices
    stmt = _invoice_select(db).where(*conds)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows: list[Sequence[object]] = []
    lines: dict[int, tuple[Line, ...]] = {}
    if ids is None and limit is None:
        rows = list(_raw_rows(conn, stmt))
        sub = sa.select(inv.c.id).where(*conds) if conds else None
        lines = _load_lines(
            conn,
            db,
            REL_INVOICE,
            None if sub is None else (lambda c: c.in_(sub)),
            damaged,
        )
        return rows, lines
    if ids is None:
        rows = list(_raw_rows(conn, stmt))
        ids = [r[0] for r in rows]
        fetch_rows = False
    else:
        fetch_rows = True
    for chunk in _chunks(ids):
        if fetch_rows:
            rows.extend(_raw_rows(conn, stmt.where(inv.c.id.in_(chunk))))
        lines.update(
            _load_lines(conn, db, REL_INVOICE, lambda c, ch=chunk: c.in_(ch), damaged)
        )
    rows.sort(key=itemgetter(0))
    return rows, lines


def _plain_invoices(
    conn: sa.Connection,
    rows: Sequence[Sequence[object]],
    currencies: dict[int, Currency],
    padding: int,
    lines: dict[int, tuple[Line, ...]],
    damaged: damage.Damage,
) -> list[Invoice]:
    """Invoices from raw rows of _invoice_select, converting the driver's types.

    Values that cannot be used (a zero or unreadable date, a NULL or unreadable
    amount) become None and the invoice's reason goes into `damaged`.
    """
    if not rows:
        return []
    cols: list[Sequence[object]] = list(zip(*rows, strict=True))
    if len(cols) < 20:
        cols.append([None] * len(rows))
    ids = cols[0]
    for index, name in ((1, "number"), (4, "clientid"), (7, "currency")):
        damage.check_present(ids, cols[index], name, damaged)
    cols[5] = damage.check_dates(ids, cols[5], "date", damaged)
    cols[6] = damage.check_dates(ids, cols[6], "duedate", damaged, required=False)
    cols[18] = list(map(damage.to_datetime, cols[18]))
    for index, name in ((8, "subtotal"), (9, "total_tax"), (10, "total")):
        cols[index] = damage.check_money(ids, cols[index], name, damaged)
    for index, name in (
        (11, "adjustment"),
        (12, "discount_percent"),
        (13, "discount_total"),
    ):
        cols[index] = damage.check_money(
            ids, cols[index], name, damaged, required=False, default=ZERO
        )
    cols[2] = [v or "" for v in cols[2]]
    cols[14] = [v or "" for v in cols[14]]
    cols[15] = [1 if v is None else v for v in cols[15]]
    return _assemble_invoices(cols, currencies, padding, lines, damaged)


def _invoices_packed(
    conn: sa.Connection,
    db: PerfexDB,
    ids: list[int] | None,
    conds: list[sa.ColumnElement[bool]],
    limit: int | None,
    currencies: dict[int, Currency],
    padding: int,
) -> list[Invoice]:
    """Invoices through the MySQL packed fast path (see _packed)."""
    inv = db.tables.invoices
    _packed.prepare(conn)
    if limit is not None and ids is None:
        # A page: find its ids, then read them like an explicit id list.
        stmt = sa.select(inv.c.id).where(*conds).order_by(inv.c.id).limit(limit)
        ids = [r[0] for r in _raw_rows(conn, stmt)]
        conds = []
    rounds: list[tuple[list[sa.ColumnElement[bool]], RelFilter]] = []
    if ids is None:
        sub = sa.select(inv.c.id).where(*conds) if conds else None
        rounds.append((conds, None if sub is None else (lambda c: c.in_(sub))))
    else:
        for chunk in _chunks(ids):
            rounds.append(([inv.c.id.in_(chunk)], lambda c, ch=chunk: c.in_(ch)))
    invoices: list[Invoice] = []
    resorted = False
    for round_conds, rel_filter in rounds:
        # One connection, one transaction: a second thread sends the queries in
        # turn while this one parses the answers already in. Headers come first
        # (quick to pack); their buckets split the lines, the slowest to pack, in
        # two halves, so Python parses one half while the server packs the other.
        with ThreadPoolExecutor(1, "pxflask-perfex-fetch") as fetch:
            header_rows, tax_rows = (
                fetch.submit(_raw_rows, conn, stmt)
                for stmt in (
                    _packed.header_select(db, round_conds),
                    _packed.tax_select(db, REL_INVOICE, rel_filter),
                )
            )
            head = header_rows.result()
            line_rows = [
                fetch.submit(_raw_rows, conn, stmt)
                for stmt in _packed.line_selects(db, REL_INVOICE, rel_filter, head)
            ]
            damaged: damage.Damage = {}
            cols, unsafe_rows = _packed.parse_headers(head, damaged)
            taxes: dict[int, tuple[LineTax, ...]] = {}
            unsafe_lines = _packed.parse_taxes(tax_rows.result(), taxes)
            lines: dict[int, tuple[Line, ...]] = {}
            for part in line_rows:
                lines.update(_packed.parse_lines(part.result(), taxes, unsafe_lines))
        # Buckets with a separator in some text (or cut short): read them plainly.
        for bucket in sorted(unsafe_lines):
            low, high = _packed.bucket_range(bucket)
            lines.update(
                _load_lines(
                    conn,
                    db,
                    REL_INVOICE,
                    lambda c, lo=low, hi=high, f=rel_filter: sa.and_(
                        c >= lo, c < hi, *(() if f is None else (f(c),))
                    ),
                    damaged,
                )
            )
        part = _assemble_invoices(cols, currencies, padding, lines, damaged)
        for bucket in sorted(unsafe_rows):
            low, high = _packed.bucket_range(bucket)
            stmt = _invoice_select(db).where(
                *round_conds, inv.c.id >= low, inv.c.id < high
            )
            part += _plain_invoices(
                conn, _raw_rows(conn, stmt), currencies, padding, lines, damaged
            )
            resorted = True
        invoices += part
    if resorted:
        invoices.sort(key=attrgetter("id"))
    return invoices


def _assemble_invoices(
    cols: Sequence[Sequence[object]],
    currencies: dict[int, Currency],
    padding: int,
    lines: dict[int, tuple[Line, ...]],
    damaged: damage.Damage,
) -> list[Invoice]:
    """Invoices from columns in _invoice_select's order (formatted_number last).

    The columns hold final values (prefix and discount_type '' for NULL, money
    ZERO for NULL, status 1 for NULL); the number is formatted with the current
    padding option (numbering.py), the stored formatted_number only for a damaged
    row without a date or number. `damaged` (invoice id -> reason) marks the
    invoices that cannot be used.
    """
    ids = cols[0]
    count = len(ids)
    formatted = [  # as Perfex shows it now: a stored one may be stale
        stored
        if stored and (day is None or number is None)
        else _invoice_number(number, prefix, number_format, day, status, padding)
        for stored, number, prefix, number_format, day, status in zip(
            cols[19], cols[1], cols[2], cols[3], cols[5], cols[15], strict=True
        )
    ]
    for currency_id in set(cols[7]):
        _currency(currencies, currency_id)  # unknown ids get an empty record
    return build_records(
        Invoice,
        count,
        [
            ids,
            cols[1],
            cols[2],
            cols[3],
            formatted,
            cols[4],
            cols[5],
            cols[6],
            map(currencies.__getitem__, cols[7]),
            cols[8],
            cols[9],
            cols[10],
            cols[11],
            cols[12],
            cols[13],
            cols[14],
            cols[15],
            cols[16],
            cols[17],
            cols[18],
            map(lines.get, ids, repeat(())),
            map(damaged.get, ids) if damaged else repeat(None),
        ],
    )


def _invoice_number(
    number: int | None,
    prefix: str,
    number_format: int | None,
    day: date | None,
    status: int,
    padding: int,
) -> str:
    """The formatted number; a damaged row (no date or number) gets a plain one."""
    if number is None or day is None:
        return f"{prefix}{'' if number is None else number}"
    return format_invoice_number(number, prefix, number_format, day, status, padding)


def _crc32(value: object) -> int | None:
    """CRC32 of a text value like MySQL's CRC32() (for SQLite)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return zlib.crc32(value)
    return zlib.crc32(str(value).encode("utf-8"))


def _ensure_crc32(conn: sa.Connection) -> None:
    """Register crc32() on a SQLite connection (MySQL has it built in)."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        raw.create_function("crc32", 1, _crc32, deterministic=True)


def invoice_fingerprints(
    db: PerfexDB, *conds: sa.ColumnElement[bool]
) -> dict[int, str]:
    """Invoice id -> checksum of its content (row, lines, taxes), in one query.

    The checksum changes when anything a sync sends changes: header fields, totals,
    status, notes, and each line's text, quantity, price, unit, order and taxes.
    Lines and taxes are folded in with order-independent sums of CRC32s, so it is a
    change detector, not a cryptographic digest. Extra WHERE conditions (see
    invoice_conditions) narrow the invoices.
    """
    inv = db.tables.invoices
    li = db.tables.itemable
    tx = db.tables.item_tax
    f, crc = sa.func, sa.func.crc32

    def text(col: sa.ColumnElement[object]) -> sa.ColumnElement[object]:
        return crc(f.coalesce(col, ""))

    line_aggs = [
        f.count(),
        f.sum(li.c.qty),
        f.sum(li.c.rate),
        f.sum(li.c.qty * li.c.rate),
        f.sum(li.c.id * li.c.rate),
        f.sum(text(li.c.description)),
        f.sum(text(li.c.long_description)),
        f.sum(text(li.c.unit)),
        f.sum(f.coalesce(li.c.item_order, 0) * text(li.c.description)),
        f.sum(li.c.id),
    ]
    if db.has_optional_lines:
        line_aggs.append(f.sum(li.c.is_optional + 2 * li.c.is_selected))
    lines = (
        sa.select(
            li.c.rel_id.label("rel_id"),
            *(
                sa.type_coerce(a, NullType()).label(f"l{i}")
                for i, a in enumerate(line_aggs)
            ),
        )
        .where(li.c.rel_type == REL_INVOICE)
        .group_by(li.c.rel_id)
        .subquery("l")
    )
    tax_aggs = [
        f.count(),
        f.sum(tx.c.taxrate),
        f.sum(tx.c.itemid * tx.c.taxrate),
        f.sum(text(tx.c.taxname)),
        f.sum(tx.c.itemid * text(tx.c.taxname)),
    ]
    taxes = (
        sa.select(
            tx.c.rel_id.label("rel_id"),
            *(
                sa.type_coerce(a, NullType()).label(f"t{i}")
                for i, a in enumerate(tax_aggs)
            ),
        )
        .where(tx.c.rel_type == REL_INVOICE)
        .group_by(tx.c.rel_id)
        .subquery("t")
    )
    head = [
        inv.c.number,
        inv.c.prefix,
        inv.c.number_format,
        inv.c.clientid,
        inv.c.date,
        inv.c.duedate,
        inv.c.currency,
        inv.c.subtotal,
        inv.c.total_tax,
        inv.c.total,
        inv.c.adjustment,
        inv.c.discount_percent,
        inv.c.discount_total,
        inv.c.discount_type,
        inv.c.status,
        text(inv.c.clientnote),
        text(inv.c.terms),
    ]
    if db.has_invoice_formatted_number:
        head.append(inv.c.formatted_number)
    stmt = (
        sa.select(
            inv.c.id,
            *(sa.type_coerce(c, NullType()) for c in head),
            *(c for c in lines.c if c.name != "rel_id"),
            *(c for c in taxes.c if c.name != "rel_id"),
        )
        .select_from(
            inv.outerjoin(lines, lines.c.rel_id == inv.c.id).outerjoin(
                taxes, taxes.c.rel_id == inv.c.id
            )
        )
        .where(*conds)
        .order_by(inv.c.id)
    )
    with db.engine.connect() as conn:
        _ensure_crc32(conn)
        rows = conn.execute(stmt).all()
    blake = hashlib.blake2b
    return {
        row[0]: blake(repr(tuple(row[1:])).encode(), digest_size=12).hexdigest()
        for row in rows
    }


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
    keys, damaged = cols[0], {}
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
    keys, damaged = cols[0], {}
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


# --------------------------------------------------------------------- credit notes


def read_credit_notes(
    db: PerfexDB, ids: Iterable[int] | None = None, *, after_id: int | None = None
) -> list[CreditNote]:
    """Credit notes (tblcreditnotes) with lines and line taxes, ordered by id."""
    cn = db.tables.creditnotes
    cols = [
        cn.c.id,
        cn.c.number,
        cn.c.prefix,
        cn.c.number_format,
        cn.c.clientid,
        cn.c.date,
        cn.c.currency,
        cn.c.subtotal,
        cn.c.total_tax,
        cn.c.total,
        cn.c.adjustment,
        cn.c.discount_percent,
        cn.c.discount_total,
        cn.c.discount_type,
        cn.c.status,
        cn.c.reference_no,
    ]
    conds = [] if after_id is None else [cn.c.id > after_id]
    stmt = sa.select(*cols).where(*conds).order_by(cn.c.id)
    damaged: damage.Damage = {}
    with db.engine.connect() as conn:
        currencies = _currency_map(conn, db)
        padding = number_padding(conn, db)
        if ids is None:
            rows = list(_raw_rows(conn, stmt))
            sub = sa.select(cn.c.id).where(*conds) if conds else None
            lines = _load_lines(
                conn,
                db,
                REL_CREDIT_NOTE,
                None if sub is None else (lambda c: c.in_(sub)),
                damaged,
            )
        else:
            rows, lines = [], {}
            for chunk in _chunks(ids):
                rows.extend(_raw_rows(conn, stmt.where(cn.c.id.in_(chunk))))
                lines.update(
                    _load_lines(
                        conn,
                        db,
                        REL_CREDIT_NOTE,
                        lambda c, ch=chunk: c.in_(ch),
                        damaged,
                    )
                )
    if not rows:
        return []
    cols: list[Sequence[object]] = list(zip(*rows, strict=True))
    keys = cols[0]
    for index, name in ((1, "number"), (4, "clientid"), (6, "currency")):
        damage.check_present(keys, cols[index], name, damaged)
    cols[5] = damage.check_dates(keys, cols[5], "date", damaged)
    for index, name in ((7, "subtotal"), (8, "total_tax"), (9, "total")):
        cols[index] = damage.check_money(keys, cols[index], name, damaged)
    for index, name in (
        (10, "adjustment"),
        (11, "discount_percent"),
        (12, "discount_total"),
    ):
        cols[index] = damage.check_money(
            keys, cols[index], name, damaged, required=False, default=ZERO
        )
    out = []
    for r in zip(*cols, strict=True):
        if r[1] is None or r[5] is None:  # damaged: a plain number, no guess
            formatted = f"{r[2] or ''}{'' if r[1] is None else r[1]}"
        else:
            formatted = format_credit_note_number(r[1], r[2], r[3], r[5], padding)
        out.append(
            CreditNote(
                r[0],
                r[1],
                r[2] or "",
                r[3],
                formatted,
                r[4],
                r[5],
                _currency(currencies, r[6]),
                r[7],
                r[8],
                r[9],
                r[10],
                r[11],
                r[12],
                r[13] or "",
                r[14] if r[14] is not None else 1,
                r[15],
                tuple(lines.get(r[0], ())),
                damaged.get(r[0]),
            )
        )
    return out


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
    keys, damaged = cols[0], {}
    amounts = damage.check_money(keys, cols[3], "amount", damaged, default=ZERO)
    days = damage.check_dates(keys, cols[4], "date", damaged)
    return [
        CreditApplication(
            int(r[0]), int(r[1]), int(r[2]), amount, day, damaged.get(r[0])
        )
        for r, amount, day in zip(rows, amounts, days, strict=True)
    ]


# ---------------------------------------------------------------------------- staff


def _staff_select(db: PerfexDB) -> sa.Select[tuple[object, ...]]:
    """The staff columns a Staff needs (2FA columns as NULL where absent)."""
    s = db.tables.staff
    optional = [
        s.c[name] if db.has_column("staff", name) else sa.null()
        for name in ("two_factor_auth_enabled", "google_auth_secret")
    ]
    return sa.select(
        s.c.staffid,
        s.c.email,
        s.c.firstname,
        s.c.lastname,
        s.c.password,
        s.c.admin,
        s.c.active,
        *optional,
    )


def _staff(row: Sequence[object]) -> Staff:
    """A Staff from a row of _staff_select."""
    return Staff(
        row[0],
        row[1] or "",
        row[2] or "",
        row[3] or "",
        row[4] or "",
        row[5] == 1,
        row[6] == 1,
        int(row[7] or 0),
        str(row[8] or ""),
    )


def find_staff_by_email(db: PerfexDB, email: str) -> Staff | None:
    """The staff member with this email (case-insensitive), or None.

    Emails are not unique in Perfex: an active admin wins, then an active member,
    then anyone; ties go to the lowest staff id.
    """
    s = db.tables.staff
    wanted = (email or "").strip().lower()
    if not wanted:
        return None
    rank = sa.case(
        (sa.and_(s.c.active == 1, s.c.admin == 1), 0),
        (s.c.active == 1, 1),
        else_=2,
    )
    stmt = (
        _staff_select(db)
        .where(sa.func.lower(sa.func.trim(s.c.email)) == wanted)
        .order_by(rank, s.c.staffid)
        .limit(1)
    )
    with db.engine.connect() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else _staff(row)


def get_staff(db: PerfexDB, staff_id: int) -> Staff | None:
    """The staff member with this id, or None."""
    s = db.tables.staff
    with db.engine.connect() as conn:
        row = conn.execute(_staff_select(db).where(s.c.staffid == staff_id)).first()
    return None if row is None else _staff(row)
