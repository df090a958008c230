"""MySQL/MariaDB fast path: documents, lines and taxes packed server-side into strings.

PyMySQL parses the protocol in pure Python and spends a few microseconds on every
row and value it returns, so tens of thousands of narrow rows cost more than the
work done on them. Here the server packs whole buckets of rows (``BUCKET``
consecutive document ids) into one string each with GROUP_CONCAT: every field of
every row is separated by U+001F, so Python cuts a bucket with one ``str.split``
and takes each column with a slice (``flat[i::width]``).

Text is never trusted to be free of U+001F: each bucket carries its row count and
the sum of its rows' first (integer) field, and a bucket whose split does not give
exactly ``count * width`` fields with that sum (a separator in some text, a row
made NULL, a result cut by group_concat_max_len or max_allowed_packet) is "unsafe".
Unsafe buckets are read again with the plain row-per-line queries, so the result
is always exact.

Nullable text travels as ``'.' || text`` or ``''`` for NULL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice, repeat
from typing import TypeVar

import sqlalchemy as sa

from pxflask.perfex import damage
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import Line, LineTax, build_records

US = "\x1f"  # field separator (between fields and between rows)
MAX_CONCAT = 1 << 30
BUCKET = 1000  # document ids per packed row

RelFilter = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]] | None
Bucket = tuple[int, int, list[str]]
T = TypeVar("T")
V = TypeVar("V")
ZERO = Decimal("0.00")  # bucket number, row count, packed text

HEADER_FIELDS = 20
LINE_FIELDS = 9
TAX_FIELDS = 3

# is_optional and is_selected from the packed flags field (optional + 2 * selected).
_OPTIONAL = {"0": False, "1": True, "2": False, "3": True}
_SELECTED = {"0": False, "1": False, "2": True, "3": True}


def prepare(conn: sa.Connection) -> None:
    """Let GROUP_CONCAT return long strings on this connection (one statement)."""
    conn.execute(sa.text("SET SESSION group_concat_max_len = :n"), {"n": MAX_CONCAT})


def bucket_range(bucket: int) -> tuple[int, int]:
    """The ids [low, high) a bucket number covers."""
    return bucket * BUCKET, (bucket + 1) * BUCKET


class Memo(dict):
    """text -> convert(text), computed once per distinct text."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[str], object], seed: dict) -> None:
        """A memo of convert, pre-filled with seed."""
        super().__init__(seed)
        self.convert = convert

    def __missing__(self, key: str) -> object:
        """Convert an unseen text and remember it."""
        value = self[key] = self.convert(key)
        return value


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


def decimal_memo() -> Memo:
    """A memo of DECIMAL texts rendered by MySQL ('' as None)."""
    return Memo(Decimal, {"": None})


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


def _text(col: sa.ColumnElement[object] | None) -> sa.ColumnElement[object]:
    """Nullable text as '.' + text, NULL (or an absent column) as ''."""
    if col is None:
        return sa.literal("")
    return sa.func.coalesce(sa.func.concat(".", col), "")


def _untext(texts: list[str]) -> list[str | None]:
    """The texts of _text back: '' is None, else drop the leading dot."""
    return [t[1:] if t else None for t in texts]


def _bucketed(
    key: sa.ColumnElement[int],
    parts: Sequence[sa.ColumnElement[object]],
    order_by: Sequence[sa.ColumnElement[object]],
) -> sa.Select[tuple[int, int, int, str]]:
    """SELECT bucket, COUNT(*), SUM(first part), GROUP_CONCAT(row ORDER BY ...)."""
    bucket = key.op("DIV")(BUCKET)
    packed = sa.aggregate_order_by(
        sa.func.aggregate_strings(_pack(parts), US), *order_by
    )
    return sa.select(bucket, sa.func.count(), sa.func.sum(parts[0]), packed).group_by(
        bucket
    )


def _split(rows: Sequence[Sequence[object]], width: int) -> Iterator[Bucket | int]:
    """Each bucket's fields, or its number when it is unsafe.

    Safe means exactly count * width fields whose first fields (integer ids) add
    up to the server's sum: a separator inside some text adds fields, a cut result
    loses some, and either shifts the ids.
    """
    for bucket, count, id_sum, packed in rows:
        if isinstance(packed, bytes):
            packed = packed.decode("utf-8", "surrogateescape")
        if packed is None:
            yield int(bucket)
            continue
        flat = packed.split(US)
        try:
            safe = len(flat) == width * int(count) and sum(
                map(int, flat[0::width])
            ) == int(id_sum)
        except ValueError:
            safe = False
        if not safe:
            yield int(bucket)
            continue
        yield int(bucket), int(count), flat


def header_select(db: PerfexDB, conds: Sequence[sa.ColumnElement[bool]]) -> sa.Select:
    """SELECT of packed invoice buckets, in read_invoices' column order."""
    inv = db.tables.invoices
    formatted = inv.c.formatted_number if db.has_invoice_formatted_number else None
    parts = [
        inv.c.id,
        inv.c.number,
        _val(inv.c.prefix),
        inv.c.number_format,
        inv.c.clientid,
        _val(inv.c.date),
        _val(inv.c.duedate),
        inv.c.currency,
        inv.c.subtotal,
        inv.c.total_tax,
        inv.c.total,
        _val(inv.c.adjustment),
        _val(inv.c.discount_percent),
        _val(inv.c.discount_total),
        _val(inv.c.discount_type),
        sa.func.coalesce(inv.c.status, 1),
        _text(inv.c.clientnote),
        _text(inv.c.terms),
        _val(inv.c.datecreated),
        _val(formatted) if formatted is not None else sa.literal(""),
    ]
    return _bucketed(inv.c.id, parts, [inv.c.id]).where(*conds)


def parse_headers(
    rows: Sequence[Sequence[object]], damaged: damage.Damage
) -> tuple[list[list[object]], set[int]]:
    """Invoice columns in read_invoices' order, and unsafe bucket numbers.

    A zero, NULL or unreadable date (or an unreadable due date) becomes None and
    its invoice's reason goes into `damaged`; other columns cannot be damaged
    here (MySQL renders DECIMAL and INT exactly, and a NULL in a NOT NULL column
    makes the bucket unsafe, read again by the checked plain path).
    """
    columns: list[list[object]] = [[] for _ in range(HEADER_FIELDS)]
    unsafe: set[int] = set()
    or_zero = Memo(Decimal, {"": ZERO}).__getitem__
    days = Memo(_date, {}).__getitem__
    w = HEADER_FIELDS
    for got in _split(rows, w):
        if isinstance(got, int):
            unsafe.add(got)
            continue
        _, _, flat = got
        columns[0] += map(int, flat[0::w])
        columns[1] += map(int, flat[1::w])
        columns[2] += flat[2::w]
        columns[3] += map(int, flat[3::w])
        columns[4] += map(int, flat[4::w])
        columns[5] += _checked_days(days, flat, 5, "date", damaged, required=True)
        columns[6] += _checked_days(days, flat, 6, "duedate", damaged, required=False)
        columns[7] += map(int, flat[7::w])
        columns[8] += map(Decimal, flat[8::w])
        columns[9] += map(Decimal, flat[9::w])
        columns[10] += map(Decimal, flat[10::w])
        columns[11] += map(or_zero, flat[11::w])
        columns[12] += map(or_zero, flat[12::w])
        columns[13] += map(or_zero, flat[13::w])
        columns[14] += flat[14::w]
        columns[15] += map(int, flat[15::w])
        columns[16] += _untext(flat[16::w])
        columns[17] += _untext(flat[17::w])
        columns[18] += convert_all(datetime.fromisoformat, _datetime, flat[18::w])
        columns[19] += flat[19::w]
    return columns, unsafe


def _checked_days(
    days: Callable[[str], date | None],
    flat: list[str],
    field: int,
    column: str,
    damaged: damage.Damage,
    *,
    required: bool,
) -> list[date | None]:
    """One date field of a bucket; unusable values are noted by invoice id."""
    w = HEADER_FIELDS
    texts = flat[field::w]
    parsed = list(map(days, texts))
    if None in parsed:
        for index, value in enumerate(parsed):
            if value is None and (required or texts[index]):
                damaged.setdefault(
                    int(flat[index * w]), damage.date_problem(column, texts[index])
                )
    return parsed


def convert_all(
    convert: Callable[[str], T], fallback: Callable[[str], T | None], texts: list[str]
) -> list[T | None]:
    """[convert(t) ...] in one C loop, or [fallback(t) ...] when one fails."""
    try:
        return list(map(convert, texts))
    except (ValueError, TypeError):
        return list(map(fallback, texts))


def tax_select(db: PerfexDB, rel_type: str, rel_filter: RelFilter) -> sa.Select:
    """SELECT of packed line-tax buckets: itemid, name, rate by itemid then id."""
    tx = db.tables.item_tax
    parts = [tx.c.itemid, _val(tx.c.taxname), tx.c.taxrate]
    stmt = _bucketed(tx.c.rel_id, parts, [tx.c.itemid, tx.c.id]).where(
        tx.c.rel_type == rel_type
    )
    if rel_filter is not None:
        stmt = stmt.where(rel_filter(tx.c.rel_id))
    return stmt


def line_select(db: PerfexDB, rel_type: str, rel_filter: RelFilter) -> sa.Select:
    """SELECT of packed line buckets, by document, item order and id."""
    li = db.tables.itemable
    if db.has_optional_lines:
        flags: sa.ColumnElement[object] = sa.case(
            (sa.func.coalesce(li.c.is_optional, 0) != 0, 1), else_=0
        ) + sa.case((sa.func.coalesce(li.c.is_selected, 1) != 0, 2), else_=0)
    else:
        flags = sa.literal(2)
    parts = [
        li.c.rel_id,
        li.c.id,
        sa.func.coalesce(li.c.item_order, 0),
        li.c.qty,
        li.c.rate,
        flags,
        _text(li.c.unit),
        _text(li.c.long_description),
        _val(li.c.description),
    ]
    order = [li.c.rel_id, li.c.item_order, li.c.id]
    stmt = _bucketed(li.c.rel_id, parts, order).where(li.c.rel_type == rel_type)
    if rel_filter is not None:
        stmt = stmt.where(rel_filter(li.c.rel_id))
    return stmt


def line_selects(
    db: PerfexDB,
    rel_type: str,
    rel_filter: RelFilter,
    header_rows: Sequence[Sequence[object]],
) -> list[sa.Select]:
    """The line SELECT, in two halves split at a bucket of the documents read."""
    buckets = sorted(int(row[0]) for row in header_rows)
    if len(buckets) < 2:
        return [line_select(db, rel_type, rel_filter)]
    split, _ = bucket_range(buckets[len(buckets) // 2])

    def below(c: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        return sa.and_(c < split, *(() if rel_filter is None else (rel_filter(c),)))

    def above(c: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        return sa.and_(c >= split, *(() if rel_filter is None else (rel_filter(c),)))

    return [line_select(db, rel_type, below), line_select(db, rel_type, above)]


def group_runs(keys: Iterable[object], values: Iterable[V]) -> dict[int, tuple[V, ...]]:
    """int(key) -> tuple of its values, for keys that come in contiguous runs."""
    counts = Counter(keys)
    rest = iter(values)
    return dict(
        zip(
            map(int, counts),
            map(tuple, map(islice, repeat(rest), counts.values())),
            strict=True,
        )
    )


def group_taxes(
    items: Sequence[object],
    names: Sequence[str],
    rates: Sequence[object],
    to_money: Callable[[object], Decimal | None],
) -> dict[int, tuple[LineTax, ...]]:
    """Line id -> its LineTax tuple, from tax rows sorted by line id then tax id.

    Equal LineTax records and equal tax tuples are shared (they are immutable).
    """
    records: list[LineTax] = []

    def number(key: tuple[str, object]) -> int:
        records.append(LineTax(key[0], to_money(key[1])))
        return len(records) - 1

    numbers = Memo(number, {})
    by_line = group_runs(
        items, map(numbers.__getitem__, zip(names, rates, strict=True))
    )
    shared = Memo(lambda key: tuple(map(records.__getitem__, key)), {})
    return dict(zip(by_line, map(shared.__getitem__, by_line.values()), strict=True))


def parse_taxes(
    rows: Sequence[Sequence[object]], out: dict[int, tuple[LineTax, ...]]
) -> set[int]:
    """Fill out with line id -> LineTax tuple; return the unsafe bucket numbers."""
    unsafe: set[int] = set()
    money = decimal_memo()
    w = TAX_FIELDS
    for got in _split(rows, w):
        if isinstance(got, int):
            unsafe.add(got)
            continue
        _, _, flat = got
        out.update(group_taxes(flat[0::w], flat[1::w], flat[2::w], money.__getitem__))
    return unsafe


def parse_lines(
    rows: Sequence[Sequence[object]],
    taxes: dict[int, tuple[LineTax, ...]],
    unsafe: set[int],
) -> dict[int, tuple[Line, ...]]:
    """Lines per document from packed buckets; unsafe buckets are skipped and added."""
    by_doc: dict[int, tuple[Line, ...]] = {}
    money = decimal_memo().__getitem__
    no_taxes: tuple[LineTax, ...] = ()
    w = LINE_FIELDS
    for got in _split(rows, w):
        if isinstance(got, int):
            unsafe.add(got)
            continue
        bucket, count, flat = got
        if bucket in unsafe:  # its taxes were unsafe
            continue
        ids = list(map(int, flat[1::w]))
        flags = flat[5::w]
        lines = build_records(
            Line,
            count,
            [
                ids,
                flat[8::w],
                _untext(flat[7::w]),
                map(money, flat[3::w]),
                map(money, flat[4::w]),
                _untext(flat[6::w]),
                map(int, flat[2::w]),
                map(taxes.get, ids, repeat(no_taxes)),
                map(_OPTIONAL.__getitem__, flags),
                map(_SELECTED.__getitem__, flags),
            ],
        )
        by_doc.update(group_runs(flat[0::w], lines))
    return by_doc
