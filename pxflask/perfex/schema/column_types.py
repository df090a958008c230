"""Column types of the Perfex tables: exact money (also SQLite), tinyint, texts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

MYSQL = ("mysql", "mariadb")
CENT = Decimal("0.01")


_MONEY_CACHE: dict[object, Decimal] = {}
_MONEY_CACHE_MAX = 100_000


def sqlite_decimal(value: object) -> Decimal | None:
    """SQLite's REAL/INTEGER/TEXT money value as an exact 2-dp Decimal (cached)."""
    if value is None:
        return None
    try:
        return _MONEY_CACHE[value]
    except KeyError:
        pass
    except TypeError:  # unhashable: not a number SQLite returns
        return Decimal(str(value)).quantize(CENT)
    text = repr(value) if isinstance(value, float) else str(value)
    result = Decimal(text).quantize(CENT)
    if len(_MONEY_CACHE) >= _MONEY_CACHE_MAX:
        _MONEY_CACHE.clear()
    _MONEY_CACHE[value] = result
    return result


class SQLiteMoney(TypeDecorator[Decimal]):
    """DECIMAL(15,2) on SQLite: bound as text, read back as an exact Decimal.

    A DECIMAL(15,2) value has at most 15 significant digits, so the double SQLite
    stores round-trips exactly through repr(); no arithmetic happens on floats.
    """

    impl = sa.Numeric(15, 2, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: object, dialect: sa.Dialect) -> object:
        """Send the decimal as text; SQLite's numeric affinity stores it."""
        if value is None:
            return None
        return str(value)

    def process_result_value(
        self, value: object, dialect: sa.Dialect
    ) -> Decimal | None:
        """Turn SQLite's REAL/INTEGER back into a 2-dp Decimal."""
        return sqlite_decimal(value)

    def result_processor(
        self, dialect: sa.Dialect, coltype: object
    ) -> Callable[[object], Decimal | None]:
        """The converter itself, without TypeDecorator's wrapping."""
        return sqlite_decimal


def money() -> sa.types.TypeEngine[Decimal]:
    """DECIMAL(15,2) as Decimal on every backend."""
    return sa.Numeric(15, 2, asdecimal=True).with_variant(SQLiteMoney(), "sqlite")


def tinyint() -> sa.types.TypeEngine[int]:
    """tinyint(1) on MySQL, read as int (not bool)."""
    return sa.SmallInteger().with_variant(mysql.TINYINT(display_width=1), *MYSQL)


def mediumtext() -> sa.types.TypeEngine[str]:
    """mediumtext on MySQL, TEXT elsewhere."""
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), *MYSQL)


def longtext() -> sa.types.TypeEngine[str]:
    """longtext on MySQL, TEXT elsewhere."""
    return sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL)
