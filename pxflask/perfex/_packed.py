"""MySQL/MariaDB fast path: documents and lines packed server-side into strings.

PyMySQL parses the protocol in pure Python and spends a few microseconds on every
value it returns, so tens of thousands of narrow rows cost more than the work done
on them. Here the server packs each invoice header into one string, and all lines of
an invoice (each with its taxes, from a correlated subquery on the itemid index)
into one string with GROUP_CONCAT; Python splits them with ``str.split``. Fields are
separated by U+001F, lines by U+001D, a line's taxes by U+001C and a tax's name
from its rate by U+001E; each distinct tax list is parsed once.

Text is never trusted to be free of those characters: each segment carries its own
field count and the total CHAR_LENGTH of its text fields, and a segment whose split
disagrees marks its document "unsafe". Unsafe documents are read again with the
plain row-per-line queries, so the result is always exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import Line, LineTax

US = "\x1f"  # field separator
GS = "\x1d"  # segment (line) separator
RS = "\x1e"  # between a tax's name and rate
FS = "\x1c"  # between a line's taxes
MAX_CONCAT = 1 << 30

RelFilter = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]] | None

HEADER_FIELDS = 22
LINE_FIELDS = 10


def prepare(conn: sa.Connection) -> None:
    """Let GROUP_CONCAT return long strings on this connection (one statement)."""
    conn.execute(sa.text("SET SESSION group_concat_max_len = :n"), {"n": MAX_CONCAT})


def _pack(parts: Sequence[sa.ColumnElement[object]]) -> sa.ColumnElement[str]:
    """CONCAT(part, US, part, ...)."""
    args: list[object] = []
    for index, part in enumerate(parts):
        if index:
            args.append(sa.literal(US))
        args.append(part)
    return sa.func.concat(*args)


def _val(col: sa.ColumnElement[object]) -> sa.ColumnElement[object]:
    """A nullable scalar as text, NULL as ''."""
    return sa.func.coalesce(col, "")


def _text_parts(
    cols: Sequence[sa.ColumnElement[object] | None],
) -> list[sa.ColumnElement[object]]:
    """[null flags, total char length, text...] for nullable text columns."""
    flags: sa.ColumnElement[object] = sa.literal(0)
    length: sa.ColumnElement[object] = sa.literal(0)
    texts: list[sa.ColumnElement[object]] = []
    for bit, col in enumerate(cols):
        if col is None:  # column absent in this database: NULL
            flags = flags + (1 << bit)
            texts.append(sa.literal(""))
            continue
        flags = flags + sa.case((col.is_(None), 1 << bit), else_=0)
        length = length + sa.func.char_length(sa.func.coalesce(col, ""))
        texts.append(sa.func.coalesce(col, ""))
    return [flags, length, *texts]


def _checked(fields: list[str], count: int, text_from: int) -> bool:
    """True when a split segment has its field count and text length."""
    if len(fields) != count:
        return False
    try:
        expected = int(fields[text_from - 1])
    except ValueError:
        return False
    return sum(map(len, fields[text_from:])) == expected


def _date(text: str) -> date | None:
    """'YYYY-MM-DD' as a date; '' and zero dates as None."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _datetime(text: str) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' as a datetime; '' and zero dates as None."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _dec(text: str) -> Decimal | None:
    """A DECIMAL rendered by MySQL, '' as None."""
    return Decimal(text) if text else None


def header_select(db: PerfexDB) -> sa.Select[tuple[str]]:
    """SELECT of one packed string per invoice (no WHERE yet)."""
    inv = db.tables.invoices
    formatted = inv.c.formatted_number if db.has_invoice_formatted_number else None
    parts = [
        inv.c.id,
        inv.c.number,
        inv.c.number_format,
        inv.c.clientid,
        inv.c.currency,
        _val(inv.c.status),
        _val(inv.c.date),
        _val(inv.c.duedate),
        _val(inv.c.datecreated),
        inv.c.subtotal,
        inv.c.total_tax,
        inv.c.total,
        _val(inv.c.adjustment),
        _val(inv.c.discount_percent),
        _val(inv.c.discount_total),
        *_text_parts(
            [
                inv.c.prefix,
                inv.c.discount_type,
                formatted,
                inv.c.clientnote,
                inv.c.terms,
            ]
        ),
    ]
    return sa.select(inv.c.id, _pack(parts)).order_by(inv.c.id)


def parse_headers(
    rows: Sequence[Sequence[object]],
) -> tuple[list[tuple[object, ...]], list[int]]:
    """Invoice rows in read_invoices' column order, and ids that need a re-read."""
    out: list[tuple[object, ...]] = []
    unsafe: list[int] = []
    for invoice_id, packed in rows:
        f = str(packed).split(US)
        if not _checked(f, HEADER_FIELDS, 17):
            unsafe.append(invoice_id)
            continue
        nulls = int(f[15])
        out.append(
            (
                int(f[0]),
                int(f[1]),
                None if nulls & 1 else f[17],
                int(f[2]),
                int(f[3]),
                _date(f[6]),
                _date(f[7]),
                int(f[4]),
                Decimal(f[9]),
                Decimal(f[10]),
                Decimal(f[11]),
                _dec(f[12]),
                _dec(f[13]),
                _dec(f[14]),
                None if nulls & 2 else f[18],
                int(f[5]) if f[5] else None,
                None if nulls & 8 else f[20],
                None if nulls & 16 else f[21],
                _datetime(f[8]),
                None if nulls & 4 else f[19],
            )
        )
    return out, unsafe


def load_lines(
    conn: sa.Connection,
    db: PerfexDB,
    rel_type: str,
    rel_filter: RelFilter,
) -> tuple[dict[int, list[Line]], set[int]]:
    """Lines with their taxes per document (1 query), and documents to re-read.

    Each line's taxes arrive as one text field ``name RS rate FS name RS rate``,
    parsed once per distinct combination.
    """
    li = db.tables.itemable
    tx = db.tables.item_tax
    tax_text = sa.func.concat(
        sa.func.coalesce(tx.c.taxname, ""), sa.literal(RS), tx.c.taxrate
    )
    # Each line's taxes through a correlated subquery on the itemid index; a join
    # to a grouped derived table is far slower on MariaDB (split materialisation).
    line_taxes = (
        sa.select(
            sa.aggregate_order_by(sa.func.aggregate_strings(tax_text, FS), tx.c.id)
        )
        .where(tx.c.itemid == li.c.id, tx.c.rel_type == rel_type)
        .scalar_subquery()
    )

    if db.has_optional_lines:
        flags: sa.ColumnElement[object] = sa.func.coalesce(
            li.c.is_optional, 0
        ) + 2 * sa.func.coalesce(li.c.is_selected, 1)
    else:
        flags = sa.literal(2)
    flags = (
        flags
        + sa.case((li.c.unit.is_(None), 4), else_=0)
        + sa.case((li.c.long_description.is_(None), 8), else_=0)
    )
    texts = [
        sa.func.coalesce(line_taxes, ""),
        sa.func.coalesce(li.c.unit, ""),
        sa.func.coalesce(li.c.long_description, ""),
        sa.func.coalesce(li.c.description, ""),
    ]
    length: sa.ColumnElement[object] = sa.literal(0)
    for text in texts:
        length = length + sa.func.char_length(text)
    line_seg = _pack(
        [li.c.id, _val(li.c.item_order), li.c.qty, li.c.rate, flags, length, *texts]
    )
    line_stmt = (
        sa.select(
            li.c.rel_id,
            sa.aggregate_order_by(
                sa.func.aggregate_strings(line_seg, GS), li.c.item_order, li.c.id
            ),
        )
        .where(li.c.rel_type == rel_type)
        .group_by(li.c.rel_id)
    )
    if rel_filter is not None:
        line_stmt = line_stmt.where(rel_filter(li.c.rel_id))

    unsafe: set[int] = set()
    decimals: dict[str, Decimal] = {}
    tax_tuples: dict[str, tuple[LineTax, ...] | None] = {"": ()}
    by_doc: dict[int, list[Line]] = {}
    for rel_id, packed in conn.execute(line_stmt).all():
        lines: list[Line] = []
        for segment in str(packed).split(GS):
            f = segment.split(US)
            # This loop runs once per line: keep it flat.
            if (
                len(f) != LINE_FIELDS
                or not f[5].isdigit()
                or len(f[6]) + len(f[7]) + len(f[8]) + len(f[9]) != int(f[5])
            ):
                unsafe.add(rel_id)
                break
            line_taxes = tax_tuples.get(f[6], None)
            if line_taxes is None:
                line_taxes = tax_tuples[f[6]] = _parse_taxes(f[6], decimals)
                if line_taxes is None:
                    unsafe.add(rel_id)
                    break
            qty = decimals.get(f[2])
            if qty is None:
                qty = decimals[f[2]] = Decimal(f[2])
            rate = decimals.get(f[3])
            if rate is None:
                rate = decimals[f[3]] = Decimal(f[3])
            bits = int(f[4])
            lines.append(
                Line(
                    int(f[0]),
                    f[9],
                    None if bits & 8 else f[8],
                    qty,
                    rate,
                    None if bits & 4 else f[7],
                    int(f[1]) if f[1] else 0,
                    line_taxes,
                    bool(bits & 1),
                    bool(bits & 2),
                )
            )
        by_doc[rel_id] = lines
    for rel_id in unsafe:
        by_doc.pop(rel_id, None)
    return by_doc, unsafe


def _parse_taxes(text: str, decimals: dict[str, Decimal]) -> tuple[LineTax, ...] | None:
    """'name RS rate FS name RS rate' as LineTax records; None when malformed."""
    out = []
    for part in text.split(FS):
        pieces = part.split(RS)
        if len(pieces) != 2:
            return None
        name, rate_text = pieces
        try:
            rate = decimals.get(rate_text) or Decimal(rate_text)
        except ArithmeticError:
            return None
        decimals[rate_text] = rate
        out.append(LineTax(name, rate))
    return tuple(out)
