"""Column builders shared by the Perfex table definitions."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.perfex.schema.column_types import mediumtext, money, tinyint


def pk_col(name: str = "id") -> sa.Column:
    """A signed INT AUTO_INCREMENT primary key."""
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=True)


def int_col(name: str, nullable: bool = False, default: int | None = None) -> sa.Column:
    """An int column with an optional server default."""
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, sa.Integer, nullable=nullable, server_default=server_default)


def tiny_col(
    name: str, nullable: bool = False, default: int | None = None
) -> sa.Column:
    """A tinyint(1) column with an optional server default."""
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, tinyint(), nullable=nullable, server_default=server_default)


def str_col(name: str, length: int, nullable: bool = True) -> sa.Column:
    """A varchar column."""
    return sa.Column(name, sa.String(length), nullable=nullable)


def money_col(name: str, nullable: bool = False, default: bool = False) -> sa.Column:
    """A DECIMAL(15,2) column, optionally DEFAULT 0.00."""
    server_default = sa.text("0.00") if default else None
    return sa.Column(name, money(), nullable=nullable, server_default=server_default)


def text_col(name: str, nullable: bool = True) -> sa.Column:
    """A text column."""
    return sa.Column(name, sa.Text(), nullable=nullable)


def mtext_col(name: str, nullable: bool = True) -> sa.Column:
    """A mediumtext column."""
    return sa.Column(name, mediumtext(), nullable=nullable)


def date_col(name: str, nullable: bool = True) -> sa.Column:
    """A date column."""
    return sa.Column(name, sa.Date(), nullable=nullable)


def datetime_col(name: str, nullable: bool = True) -> sa.Column:
    """A datetime column."""
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def address_cols(kind: str) -> list[sa.Column]:
    """billing_* or shipping_* columns as on invoices and credit notes."""
    return [
        str_col(f"{kind}_street", 200),
        str_col(f"{kind}_city", 100),
        str_col(f"{kind}_state", 100),
        str_col(f"{kind}_zip", 100),
        int_col(f"{kind}_country", nullable=True),
    ]
