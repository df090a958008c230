"""Perfex documents (invoices, credit notes, estimates): one read over named columns.

A document type is a ``DocumentSpec``: its table, its line type in ``tblitemable``,
the header columns read (by name) and how each one is checked. ``read_documents``
reads any spec with a constant number of queries: one for the headers, one for all
their lines, one for the lines' taxes (per chunk of ``query.ID_CHUNK`` ids when an
id list is given), plus the currencies and the number padding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import repeat
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from pxflask.perfex import damage, query
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.numbering import (
    format_credit_note_number,
    format_estimate_number,
    format_invoice_number,
)
from pxflask.perfex.records import (
    CreditNote,
    Estimate,
    Invoice,
    Line,
    LineTax,
    build_records,
)

ZERO = Decimal("0.00")
REL_INVOICE = "invoice"
REL_CREDIT_NOTE = "credit_note"
REL_ESTIMATE = "estimate"

RelFilter = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]] | None
Columns = dict[str, list[Any]]


@dataclass(frozen=True)
class DocumentSpec:
    """How one Perfex document type is read: its table and named header columns."""

    record: type  # the frozen record built (fields named like the columns)
    table: str  # logical table in PerfexDB.tables
    rel_type: str  # tblitemable.rel_type of its lines
    columns: tuple[str, ...]  # header columns read, id first
    optional: tuple[str, ...] = ()  # read when this database has them, else None
    present: tuple[str, ...] = ()  # NULL marks the document damaged
    dates: tuple[str, ...] = ()  # a date it must have
    optional_dates: tuple[str, ...] = ()  # a date it may lack
    stamps: tuple[str, ...] = ()  # datetimes (unusable ones become None)
    money: tuple[str, ...] = ()  # amounts it must have
    optional_money: tuple[str, ...] = ()  # amounts that default to 0.00
    blank_text: tuple[str, ...] = ()  # NULL text read as ''
    renamed: Mapping[str, str] | None = None  # record field -> column
    numbered: Callable[[Columns, int], list[str]] | None = None  # formatted numbers


def _invoice_numbers(cols: Columns, padding: int) -> list[str]:
    """Invoice numbers as Perfex shows them now (a stored one may be stale)."""
    return [
        stored
        if stored and (day is None or number is None)
        else _invoice_number(number, prefix, number_format, day, status, padding)
        for stored, number, prefix, number_format, day, status in zip(
            cols["formatted_number"],
            cols["number"],
            cols["prefix"],
            cols["number_format"],
            cols["date"],
            cols["status"],
            strict=True,
        )
    ]


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


def _plain_numbers(
    formatter: Callable[..., str], cols: Columns, padding: int
) -> list[str]:
    """Numbers by `formatter`; a damaged row (no date or number) gets a plain one."""
    return [
        f"{prefix}{'' if number is None else number}"
        if number is None or day is None
        else formatter(number, prefix, number_format, day, padding)
        for number, prefix, number_format, day in zip(
            cols["number"],
            cols["prefix"],
            cols["number_format"],
            cols["date"],
            strict=True,
        )
    ]


_HEADER = ("id", "number", "prefix", "number_format", "clientid", "date")
_TOTALS = (
    "currency",
    "subtotal",
    "total_tax",
    "total",
    "adjustment",
    "discount_percent",
    "discount_total",
    "discount_type",
    "status",
)
_CHECKS: dict[str, Any] = {
    "present": ("number", "clientid", "currency"),
    "dates": ("date",),
    "money": ("subtotal", "total_tax", "total"),
    "optional_money": ("adjustment", "discount_percent", "discount_total"),
    "blank_text": ("prefix", "discount_type"),
    "renamed": {"customer_id": "clientid"},
}
INVOICES = DocumentSpec(
    record=Invoice,
    table="invoices",
    rel_type=REL_INVOICE,
    columns=(
        *_HEADER,
        "duedate",
        *_TOTALS,
        "clientnote",
        "terms",
        "datecreated",
        "formatted_number",
    ),
    optional=("formatted_number",),
    optional_dates=("duedate",),
    stamps=("datecreated",),
    numbered=_invoice_numbers,
    **_CHECKS,
)
CREDIT_NOTES = DocumentSpec(
    record=CreditNote,
    table="creditnotes",
    rel_type=REL_CREDIT_NOTE,
    columns=(*_HEADER, *_TOTALS, "reference_no"),
    numbered=partial(_plain_numbers, format_credit_note_number),
    **_CHECKS,
)
ESTIMATES = DocumentSpec(
    record=Estimate,
    table="estimates",
    rel_type=REL_ESTIMATE,
    columns=(*_HEADER, "expirydate", *_TOTALS, "terms", "reference_no", "invoiceid"),
    optional_dates=("expirydate",),
    numbered=partial(_plain_numbers, format_estimate_number),
    **{**_CHECKS, "renamed": {"customer_id": "clientid", "invoice_id": "invoiceid"}},
)


# ---------------------------------------------------------------- lines and taxes


def _id_in(ids: list[int], column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """The rows whose id column is one of ids."""
    return column.in_(ids)


def _tax_rates(
    stored: Sequence[object],
    items: Sequence[object],
    documents: Sequence[object],
    money: Callable[[object], Decimal | None],
    damaged: damage.Damage | None,
) -> list[Decimal]:
    """Line tax rates as Decimals; an unreadable one marks its document damaged.

    The damaged document is left out of the sync, so its rate stands in as 0; with
    no damage record to write to, an unreadable rate is an error (MySQL's column is
    NOT NULL DECIMAL, so only a hand-edited SQLite copy can hold one).
    """
    rates: list[Decimal] = []
    for value, item, document in zip(stored, items, documents, strict=True):
        rate = money(value)
        if rate is None:
            problem = damage.money_problem(f"line {item} tax rate", value)
            if damaged is None:
                raise ValueError(f"line tax: {problem}")
            damaged.setdefault(int(str(document)), problem)
            rate = Decimal(0)
        rates.append(rate)
    return rates


def load_lines(
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
        sa.select(tx.c.itemid, tx.c.taxname, tx.c.taxrate, tx.c.rel_id)
        .where(tx.c.rel_type == rel_type)
        .order_by(tx.c.itemid, tx.c.id)
    )
    optional = db.has_optional_lines
    names = ["rel_id", "id", "description", "long_description", "qty", "rate"]
    names += ["unit", "item_order"]
    if optional:
        names += ["is_optional", "is_selected"]
    line_stmt = (
        sa.select(*(li.c[name] for name in names))
        .where(li.c.rel_type == rel_type)
        .order_by(li.c.rel_id, li.c.item_order, li.c.id)
    )
    if rel_filter is not None:
        tax_stmt = tax_stmt.where(rel_filter(tx.c.rel_id))
        line_stmt = line_stmt.where(rel_filter(li.c.rel_id))

    money = query.money_memo(conn)
    tax_rows = query.raw_rows(conn, tax_stmt)
    line_taxes: dict[int, tuple[LineTax, ...]] = {}
    if tax_rows:
        items, tax_names, stored, tax_docs = zip(*tax_rows, strict=True)
        tax_rates = _tax_rates(stored, items, tax_docs, money, damaged)
        line_taxes = query.group_taxes(items, tax_names, tax_rates)

    rows = query.raw_rows(conn, line_stmt)
    if not rows:
        return {}
    col = dict(zip(names, zip(*rows, strict=True), strict=True))
    ids = col["id"]
    amount = damage.memo(damage.to_money) if query.is_sqlite(conn) else money
    qtys = list(map(amount, col["qty"]))
    rates = list(map(amount, col["rate"]))
    if damaged is not None and (None in qtys or None in rates):
        for index, (qty, rate) in enumerate(zip(qtys, rates, strict=True)):
            for value, name in ((qty, "qty"), (rate, "rate")):
                if value is None:
                    damaged.setdefault(
                        int(col["rel_id"][index]),
                        damage.money_problem(
                            f"line {ids[index]} {name}", col[name][index]
                        ),
                    )
    lines = build_records(
        Line,
        len(rows),
        [
            ids,
            [desc or "" for desc in col["description"]],
            col["long_description"],
            qtys,
            rates,
            col["unit"],
            [order or 0 for order in col["item_order"]],
            map(line_taxes.get, ids, repeat(())),
            map(bool, col["is_optional"]) if optional else repeat(False),
            map(bool, col["is_selected"]) if optional else repeat(True),
        ],
    )
    return query.group_runs(col["rel_id"], lines)


# ---------------------------------------------------------------------- documents


def header_names(db: PerfexDB, spec: DocumentSpec) -> list[str]:
    """The spec's header columns this database has, in the spec's order."""
    return [
        name
        for name in spec.columns
        if name not in spec.optional or db.has_column(spec.table, name)
    ]


def read_documents(
    db: PerfexDB,
    spec: DocumentSpec,
    ids: Iterable[int] | None = None,
    conds: Sequence[sa.ColumnElement[bool]] = (),
    limit: int | None = None,
) -> list[Any]:
    """Documents of one type with their lines and line taxes, ordered by id."""
    table = getattr(db.tables, spec.table)
    names = header_names(db, spec)
    stmt = sa.select(*(table.c[name] for name in names)).where(*conds)
    stmt = stmt.order_by(table.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    damaged: damage.Damage = {}
    with db.engine.connect() as conn:
        currencies = query.currency_map(conn, db)
        padding = query.number_padding(conn, db)
        id_list = None if ids is None else sorted(set(ids))
        lines: dict[int, tuple[Line, ...]] = {}
        if id_list is None and limit is None:
            rows = list(query.raw_rows(conn, stmt))
            sub = sa.select(table.c.id).where(*conds) if conds else None
            rel_filter = None if sub is None else (lambda c: c.in_(sub))
            lines = load_lines(conn, db, spec.rel_type, rel_filter, damaged)
        else:
            rows = []
            if id_list is None:  # a page: its ids first
                rows = list(query.raw_rows(conn, stmt))
                id_list = [r[0] for r in rows]
            for chunk in query.chunks(id_list):
                if ids is not None:
                    rows.extend(query.raw_rows(conn, stmt.where(table.c.id.in_(chunk))))
                lines.update(
                    load_lines(
                        conn,
                        db,
                        spec.rel_type,
                        partial(_id_in, chunk),
                        damaged,
                    )
                )
            rows.sort(key=itemgetter(0))
    if not rows:
        return []
    cols: Columns = {
        name: list(values)
        for name, values in zip(names, zip(*rows, strict=True), strict=True)
    }
    for name in spec.optional:
        cols.setdefault(name, [None] * len(rows))
    return _records(spec, cols, currencies, padding, lines, damaged)


def _records(
    spec: DocumentSpec,
    cols: Columns,
    currencies: dict[int, Any],
    padding: int,
    lines: dict[int, tuple[Line, ...]],
    damaged: damage.Damage,
) -> list[Any]:
    """Records from named driver columns, checked; unusable values mark damage."""
    ids = cols["id"]
    for name in spec.present:
        damage.check_present(ids, cols[name], name, damaged)
    for name in spec.dates:
        cols[name] = damage.check_dates(ids, cols[name], name, damaged)
    for name in spec.optional_dates:
        cols[name] = damage.check_dates(ids, cols[name], name, damaged, required=False)
    for name in spec.stamps:
        cols[name] = list(map(damage.to_datetime, cols[name]))
    for name in spec.money:
        cols[name] = damage.check_money(ids, cols[name], name, damaged)
    for name in spec.optional_money:
        cols[name] = damage.check_money(
            ids, cols[name], name, damaged, required=False, default=ZERO
        )
    for name in spec.blank_text:
        cols[name] = [v or "" for v in cols[name]]
    cols["status"] = [1 if v is None else v for v in cols["status"]]
    numbers = spec.numbered(cols, padding) if spec.numbered else None
    cols["currency"] = [query.currency(currencies, c) for c in cols["currency"]]
    cols["formatted_number"] = numbers or []
    cols["lines"] = list(map(lines.get, ids, repeat(())))
    cols["damaged"] = list(map(damaged.get, ids)) if damaged else [None] * len(ids)
    renamed = spec.renamed or {}
    return build_records(
        spec.record,
        len(ids),
        [cols[renamed.get(f.name, f.name)] for f in fields(spec.record)],
    )


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
    return read_documents(db, INVOICES, ids, conds, limit)


def read_credit_notes(
    db: PerfexDB, ids: Iterable[int] | None = None, *, after_id: int | None = None
) -> list[CreditNote]:
    """Credit notes (tblcreditnotes) with lines and line taxes, ordered by id."""
    cn = db.tables.creditnotes
    conds = [] if after_id is None else [cn.c.id > after_id]
    return read_documents(db, CREDIT_NOTES, ids, conds)


def read_estimates(
    db: PerfexDB, ids: Iterable[int] | None = None, *, after_id: int | None = None
) -> list[Estimate]:
    """Estimates (tblestimates) with lines and line taxes, ordered by id."""
    est = db.tables.estimates
    conds = [] if after_id is None else [est.c.id > after_id]
    return read_documents(db, ESTIMATES, ids, conds)
