"""Small helpers the Perfex reads share: id chunks, driver rows, look-ups, grouping."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import partial
from itertools import islice, repeat
from typing import Any, TypeVar

import sqlalchemy as sa

from pxflask.perfex import damage
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.numbering import parse_padding
from pxflask.perfex.records import Currency, LineTax

ID_CHUNK = 2000
V = TypeVar("V")


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """Split ids into sorted, de-duplicated chunks of ID_CHUNK."""
    size = ID_CHUNK
    unique = sorted(set(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def raw_rows(conn: sa.Connection, stmt: sa.Select) -> Sequence[tuple]:
    """Execute a statement (events, bind processing) and fetch the driver's tuples.

    Skips SQLAlchemy's Row objects and result processors, so callers convert the
    column types themselves (only for simple column types: int, text, money, dates).
    """
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def first_id_containing(db: PerfexDB, column: sa.Column, text: str) -> int | None:
    """The smallest id of the rows whose `column` holds `text` literally, or None."""
    table = column.table
    with db.engine.connect() as conn:
        found = conn.execute(
            sa.select(table.c.id)
            .where(column.contains(text, autoescape=True))
            .order_by(table.c.id)
            .limit(1)
        ).scalar()
    return None if found is None else int(found)


def is_sqlite(conn: sa.Connection) -> bool:
    """True on SQLite, whose driver returns money as float and dates as text."""
    return conn.dialect.name == "sqlite"


class Memo(dict[object, Any]):
    """text -> convert(text), computed once per distinct text."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[object], object], seed: dict) -> None:
        """A memo of convert, pre-filled with seed."""
        super().__init__(seed)
        self.convert = convert

    def __missing__(self, key: object) -> Any:
        """Convert an unseen value and remember it."""
        value = self[key] = self.convert(key)
        return value


def money_memo(
    conn: sa.Connection, none: Decimal | None = None
) -> Callable[[object], Decimal | None]:
    """Raw driver money value -> Decimal (None -> none), once per distinct value."""
    if is_sqlite(conn):
        return Memo(damage.to_money, {None: none}).__getitem__
    if none is None:
        return _same
    return partial(_none_as, none)


def _none_as(none: Decimal, value: Any) -> Any:
    """The driver's Decimal, or `none` for NULL."""
    return none if value is None else value


def _same(value: Any) -> Any:
    """Identity: MySQL drivers already return Decimal for DECIMAL."""
    return value


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


def currency_map(conn: sa.Connection, db: PerfexDB) -> dict[int, Currency]:
    """All currencies by id."""
    cur = db.tables.currencies
    stmt = sa.select(cur.c.id, cur.c.name, cur.c.symbol, cur.c.isdefault).order_by(
        cur.c.id
    )
    return {
        row[0]: Currency(row[0], row[1], row[2], bool(row[3]))
        for row in conn.execute(stmt)
    }


def currency(currencies: dict[int, Currency], currency_id: int) -> Currency:
    """The currency by id; an unknown id yields a record with an empty code."""
    found = currencies.get(currency_id)
    if found is None:
        found = Currency(currency_id, "", "", False)
        currencies[currency_id] = found
    return found


def group_runs(keys: Iterable[Any], values: Iterable[V]) -> dict[int, tuple[V, ...]]:
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
    items: Sequence[object], names: Sequence[str], rates: Sequence[Decimal]
) -> dict[int, tuple[LineTax, ...]]:
    """Line id -> its LineTax tuple, from tax rows sorted by line id then tax id."""
    taxes = [LineTax(name, rate) for name, rate in zip(names, rates, strict=True)]
    return group_runs(items, taxes)
