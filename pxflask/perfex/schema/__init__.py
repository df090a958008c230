"""SQLAlchemy Core definitions of the Perfex tables pxflask reads or writes.

The definitions follow the 3.4 shape (with ``formatted_number``, ``is_optional`` and
``is_selected``) and are built for any table prefix. ``create_tables`` creates them
(utf8mb4 on MariaDB/MySQL; SQLite works too) for the demo database and the tests.
Money columns are DECIMAL(15,2) read as ``Decimal``; on SQLite, which has no decimal
type, the value travels as text in and is turned back into an exact 2-dp Decimal out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa

from pxflask.perfex.schema.admin_tables import (
    expenses_categories_table,
    expenses_table,
    migrations_table,
    options_table,
    staff_table,
)
from pxflask.perfex.schema.customer_tables import (
    clients_table,
    contacts_table,
    countries_table,
    currencies_table,
)
from pxflask.perfex.schema.mysql_ddl import create_absent_tables
from pxflask.perfex.schema.project_tables import (
    customfields_table,
    customfieldsvalues_table,
    projects_table,
)
from pxflask.perfex.schema.sales_tables import (
    creditnote_refunds_table,
    creditnotes_table,
    credits_table,
    estimates_table,
    invoicepaymentrecords_table,
    invoices_table,
    item_tax_table,
    itemable_table,
    items_groups_table,
    items_table,
    payment_modes_table,
    taxes_table,
)

TableSpec = Callable[[], tuple[list[sa.Column], list[str]]]

# logical name (the table name without the prefix) -> its definition
TABLE_SPECS: dict[str, TableSpec] = {
    "clients": clients_table,
    "contacts": contacts_table,
    "countries": countries_table,
    "currencies": currencies_table,
    "invoices": invoices_table,
    "itemable": itemable_table,
    "item_tax": item_tax_table,
    "items": items_table,
    "items_groups": items_groups_table,
    "taxes": taxes_table,
    "invoicepaymentrecords": invoicepaymentrecords_table,
    "payment_modes": payment_modes_table,
    "expenses": expenses_table,
    "expenses_categories": expenses_categories_table,
    "creditnotes": creditnotes_table,
    "creditnote_refunds": creditnote_refunds_table,
    "credits": credits_table,
    "estimates": estimates_table,
    "options": options_table,
    "staff": staff_table,
    "migrations": migrations_table,
    "projects": projects_table,
    "customfields": customfields_table,
    "customfieldsvalues": customfieldsvalues_table,
}

# Columns that older installs lack; reads adapt to their absence.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "invoices": frozenset({"formatted_number"}),
    "creditnotes": frozenset({"formatted_number"}),
    "estimates": frozenset({"formatted_number"}),
    "itemable": frozenset({"is_optional", "is_selected"}),
}

MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mariadb_engine": "InnoDB",
    "mariadb_charset": "utf8mb4",
    "mariadb_collate": "utf8mb4_unicode_ci",
}


@dataclass(frozen=True)
class PerfexTables:
    """The Perfex tables for one prefix, as SQLAlchemy Core Table objects."""

    prefix: str
    metadata: sa.MetaData
    clients: sa.Table
    contacts: sa.Table
    countries: sa.Table
    currencies: sa.Table
    invoices: sa.Table
    itemable: sa.Table
    item_tax: sa.Table
    items: sa.Table
    items_groups: sa.Table
    taxes: sa.Table
    invoicepaymentrecords: sa.Table
    payment_modes: sa.Table
    expenses: sa.Table
    expenses_categories: sa.Table
    creditnotes: sa.Table
    creditnote_refunds: sa.Table
    credits: sa.Table
    estimates: sa.Table
    options: sa.Table
    staff: sa.Table
    migrations: sa.Table
    projects: sa.Table
    customfields: sa.Table
    customfieldsvalues: sa.Table

    @property
    def payments(self) -> sa.Table:
        """tblinvoicepaymentrecords under a shorter name."""
        return self.invoicepaymentrecords

    def table(self, name: str) -> sa.Table:
        """A table by logical name (without prefix)."""
        return getattr(self, name)

    def all(self) -> dict[str, sa.Table]:
        """Logical name -> table."""
        return {name: self.table(name) for name in TABLE_SPECS}


def build_table(
    metadata: sa.MetaData,
    prefix: str,
    name: str,
    keep: Callable[[str], bool] | None = None,
) -> sa.Table:
    """Build one table; `keep(column)` may leave columns out (older installs)."""
    columns, keys = TABLE_SPECS[name]()
    if keep is not None:
        columns = [c for c in columns if c.primary_key or keep(c.name)]
    kept = {c.name for c in columns}
    indexes = [sa.Index(f"ix_{prefix}{name}_{key}", key) for key in keys if key in kept]
    return sa.Table(
        f"{prefix}{name}", metadata, *columns, *indexes, **MYSQL_TABLE_OPTIONS
    )


def _kept(dropped: frozenset[str], table: str, column: str) -> bool:
    """False for a column `without` drops."""
    return f"{table}.{column}" not in dropped


def build_metadata(prefix: str = "tbl", without: Iterable[str] = ()) -> PerfexTables:
    """Build all table definitions for a prefix; `without` drops 'table.column's."""
    dropped = frozenset(without)
    metadata = sa.MetaData()
    tables = {
        name: build_table(
            metadata,
            prefix,
            name,
            keep=partial(_kept, dropped, name),
        )
        for name in TABLE_SPECS
    }
    return PerfexTables(prefix=prefix, metadata=metadata, **tables)


def create_tables(
    engine: sa.Engine, prefix: str = "tbl", without: Iterable[str] = ()
) -> PerfexTables:
    """Create the Perfex tables that are absent (3.4 shape unless `without`)."""
    tables = build_metadata(prefix, without)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite commits each DDL statement on its own (one fsync each);
            # an explicit BEGIN makes the whole schema one transaction.
            conn.exec_driver_sql("BEGIN")
        if conn.dialect.name in ("mysql", "mariadb"):
            create_absent_tables(conn, tables.metadata)
        else:
            tables.metadata.create_all(conn, checkfirst=True)
    return tables
