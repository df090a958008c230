"""Damaged Perfex values: checked, never guessed.

MariaDB stores '0000-00-00' when Perfex runs with `stricton = false`, SQLite stores
any text in any column, and NOT NULL is not always true of old rows. A read never
raises for such a value: the record comes back with `damaged` set to a reason that
names the column and the value, and the sync fails that record alone.

Bulk reads convert whole columns in C loops and only look at single values when a
column holds a None after conversion (`None in column` is one C scan), so clean
data costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pxflask.perfex.schema.column_types import sqlite_decimal

ZERO = Decimal("0.00")
Damage = dict[int, str]
"""record id -> reason (the first problem found)."""


def show(value: object) -> str:
    """A stored value as the reason quotes it."""
    if value is None or value == "":
        return "NULL"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, float):
        return repr(value)
    return repr(str(value))[:60]


def is_zero_date(value: object) -> bool:
    """True for MySQL's zero date (and zero datetime) texts."""
    return isinstance(value, str | bytes) and str(
        value.decode() if isinstance(value, bytes) else value
    ).startswith("0000-00-00")


def to_date(value: object) -> date | None:
    """A stored date as a date; None when NULL, zero or unreadable."""
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def to_datetime(value: object) -> datetime | None:
    """A stored datetime; None when NULL, zero or unreadable (never sent)."""
    if isinstance(value, datetime):
        return value
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def to_money(value: object) -> Decimal | None:
    """A stored amount as a 2-dp Decimal; None when NULL or not a finite number."""
    if type(value) is Decimal:
        return value if value.is_finite() else None
    if value is None or isinstance(value, bool):
        return None
    try:
        result = sqlite_decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return result if result is not None and result.is_finite() else None


def date_problem(column: str, value: object) -> str:
    """Why a stored date cannot be used."""
    if value is None or value == "":
        return f"{column} is empty (NULL)"
    if is_zero_date(value):
        return f"{column} is the zero date {show(value)}"
    return f"{column} {show(value)} is not a date"


def money_problem(column: str, value: object) -> str:
    """Why a stored amount cannot be used."""
    if value is None or value == "":
        return f"{column} is empty (NULL)"
    return f"{column} {show(value)} is not an amount"


class _Memo(dict):
    """value -> convert(value), computed once per distinct value."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[object], Any]) -> None:
        """A memo of convert; None maps to None."""
        super().__init__({None: None})
        self.convert = convert

    def __missing__(self, key: object) -> Any:
        """Convert an unseen value and remember it."""
        value = self[key] = self.convert(key)
        return value


def memo(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    """convert, computed once per distinct (hashable) value."""
    return _Memo(convert).__getitem__


def checked_column(
    ids: Sequence[int],
    raw: Sequence[object],
    convert: Callable[[object], Any],
    problem: Callable[[str, object], str],
    column: str,
    damage: Damage,
    *,
    required: bool = True,
) -> list[Any]:
    """Convert a column; rows whose value fails (or is NULL when required) are
    noted in `damage` (first reason wins) and get None."""
    out = list(map(convert, raw))
    if None not in out:
        return out
    for index, value in enumerate(out):
        if value is None:
            stored = raw[index]
            if stored is None or stored == "":
                if not required:
                    continue
            damage.setdefault(ids[index], problem(column, stored))
    return out


def check_dates(
    ids: Sequence[int],
    raw: Sequence[object],
    column: str,
    damage: Damage,
    *,
    required: bool = True,
) -> list[date | None]:
    """A date column, checked (see checked_column)."""
    return checked_column(
        ids, raw, memo(to_date), date_problem, column, damage, required=required
    )


def check_money(
    ids: Sequence[int],
    raw: Sequence[object],
    column: str,
    damage: Damage,
    *,
    required: bool = True,
    default: Decimal | None = None,
) -> list[Decimal | None]:
    """A money column, checked; NULL in an optional column becomes `default`."""
    out = checked_column(
        ids, raw, memo(to_money), money_problem, column, damage, required=required
    )
    if default is not None and None in out:
        out = [default if v is None else v for v in out]
    return out


def check_present(
    ids: Sequence[int], raw: Sequence[object], column: str, damage: Damage
) -> None:
    """Note the rows whose NOT NULL column holds NULL."""
    if None not in raw:
        return
    for index, value in enumerate(raw):
        if value is None:
            damage.setdefault(ids[index], f"{column} is empty (NULL)")


def describe(kind: str, key: object, reason: str) -> str:
    """The reason a damaged record fails, for the log and the CLI."""
    return f"{kind} {key} cannot be read from Perfex: {reason}; fix it in Perfex"


def merge(target: Damage, more: Iterable[tuple[int, str]]) -> None:
    """Add reasons, keeping the first one per record."""
    for key, reason in more:
        target.setdefault(key, reason)
