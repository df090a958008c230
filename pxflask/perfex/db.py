"""A connection to a Perfex database: engine, prefix and the tables that exist."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

import sqlalchemy as sa

from pxflask.perfex.schema import (
    OPTIONAL_COLUMNS,
    TABLE_SPECS,
    PerfexTables,
    build_table,
)


class PaymentChannel(Protocol):
    """Records payments through Perfex's own model (module_api.PerfexModule)."""

    def record_payment(
        self,
        invoice_id: int,
        amount: Decimal,
        on: date,
        mode: str | int | None,
        *,
        transaction_id: str,
        note: str | None = None,
    ) -> tuple[int, bool]:
        """Record one payment; (payment id, created)."""


class PerfexError(Exception):
    """Base class of the Perfex layer's errors."""


class PerfexConnectionError(PerfexError):
    """The Perfex database cannot be reached (bad URL, server down, no database)."""


class PerfexSchemaError(PerfexError):
    """The Perfex database lacks a table or a column pxflask needs."""


class PerfexDataError(PerfexError):
    """The Perfex data is inconsistent in a way pxflask cannot work around."""


# Columns the reads and writes use, per table; their absence is an error.
REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "clients": frozenset(
        "userid company vat phonenumber country city zip state address website "
        "datecreated active billing_street billing_city billing_state billing_zip "
        "billing_country shipping_street shipping_city shipping_state shipping_zip "
        "shipping_country default_currency".split()
    ),
    "contacts": frozenset(
        "id userid is_primary firstname lastname email phonenumber active".split()
    ),
    "countries": frozenset("country_id iso2 short_name".split()),
    "currencies": frozenset("id symbol name isdefault".split()),
    "invoices": frozenset(
        "id clientid number prefix number_format datecreated date duedate currency "
        "subtotal total_tax total adjustment status clientnote terms datesend "
        "discount_percent discount_total discount_type".split()
    ),
    "itemable": frozenset(
        "id rel_id rel_type description long_description qty rate unit "
        "item_order".split()
    ),
    "item_tax": frozenset("id itemid rel_id rel_type taxrate taxname".split()),
    "items": frozenset(
        "id description long_description rate tax tax2 unit group_id".split()
    ),
    "items_groups": frozenset({"id", "name"}),
    "taxes": frozenset({"id", "name", "taxrate"}),
    "invoicepaymentrecords": frozenset(
        "id invoiceid amount paymentmode paymentmethod date daterecorded note "
        "transactionid".split()
    ),
    "payment_modes": frozenset(
        "id name description invoices_only expenses_only active".split()
    ),
    "expenses": frozenset(
        "id category currency amount tax tax2 reference_no note expense_name "
        "clientid paymentmode date dateadded".split()
    ),
    "expenses_categories": frozenset({"id", "name", "description"}),
    "creditnotes": frozenset(
        "id clientid number prefix number_format datecreated date currency "
        "subtotal total_tax total adjustment status discount_percent "
        "discount_total discount_type reference_no".split()
    ),
    "credits": frozenset("id invoice_id credit_id date date_applied amount".split()),
    "estimates": frozenset(
        "id clientid number prefix number_format datecreated date expirydate "
        "currency subtotal total_tax total adjustment status discount_percent "
        "discount_total discount_type invoiceid terms reference_no".split()
    ),
    "options": frozenset({"id", "name", "value"}),
    "staff": frozenset(
        "staffid email firstname lastname password admin active".split()
    ),
}

# Tables pxflask can do without.
OPTIONAL_TABLES = frozenset(
    {
        "creditnote_refunds",
        "estimates",
        "migrations",
        "projects",
        "customfields",
        "customfieldsvalues",
    }
)

# Names of tables before Perfex 2.3.1 renamed them, for a helpful error.
OLD_TABLE_NAMES = {
    "itemable": "items_in",
    "item_tax": "itemstax",
    "payment_modes": "invoicepaymentsmodes",
    "expenses_categories": "expensescategories",
}


def safe_url(url: sa.URL | str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


def _reason(exc: BaseException) -> str:
    """A one-line reason from a DBAPI or SQLAlchemy error."""
    orig = getattr(exc, "orig", None) or exc
    args: tuple[object, ...] = getattr(orig, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        text = str(args[1])
    else:
        text = str(orig)
    return " ".join(text.split()) or type(orig).__name__


def _engine_for(url: str | sa.URL) -> sa.Engine:
    """Create an engine with sensible options for the backend."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise PerfexConnectionError(  # not echoed: it may hold a password
            "not a database URL (expected e.g. mysql+pymysql://user:pw@host/perfex)"
        ) from exc
    kwargs: dict[str, object] = {}
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb"):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        kwargs.update(pool_pre_ping=True, pool_recycle=3600)
    elif backend == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:"):
            if not os.path.exists(path):
                raise PerfexConnectionError(
                    f"cannot open the Perfex database {safe_url(parsed)}: no such file"
                )
    try:
        return sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise PerfexConnectionError(
            f"cannot use the Perfex database URL {safe_url(parsed)}: {_reason(exc)}"
        ) from exc


def _present_columns(conn: sa.Connection) -> dict[str, set[str]]:
    """Table name -> column names actually present in the database."""
    if conn.dialect.name in ("mysql", "mariadb"):
        rows = conn.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE()"
            )
        )
        present: dict[str, set[str]] = {}
        for table_name, column_name in rows:
            present.setdefault(table_name, set()).add(column_name)
        return present
    inspector = sa.inspect(conn)
    return {
        name: {col["name"] for col in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


@dataclass(eq=False)
class PerfexDB:
    """An engine on a Perfex database, its prefix and the tables as they exist."""

    engine: sa.Engine
    prefix: str
    tables: PerfexTables
    columns: Mapping[str, frozenset[str]] = field(default_factory=dict)
    module: PaymentChannel | None = None
    """The pxflask Perfex module's API, when configured: payments go through it."""

    @classmethod
    def connect(cls, url: str | sa.URL, prefix: str = "tbl") -> PerfexDB:
        """Open and check a Perfex database; raise PerfexConnectionError/SchemaError."""
        engine = _engine_for(url)
        try:
            return cls.from_engine(engine, prefix)
        except PerfexError:
            engine.dispose()
            raise

    @classmethod
    def from_engine(cls, engine: sa.Engine, prefix: str = "tbl") -> PerfexDB:
        """Check the schema behind an existing engine and adapt to it."""
        try:
            with engine.connect() as conn:
                present = _present_columns(conn)
        except sa.exc.DBAPIError as exc:
            raise PerfexConnectionError(
                f"cannot connect to the Perfex database {safe_url(engine.url)}: "
                f"{_reason(exc)}"
            ) from exc
        # MySQL on case-insensitive file systems may report other letter cases.
        by_lower = {name.lower(): cols for name, cols in present.items()}
        if f"{prefix}invoices".lower() not in by_lower:
            _no_perfex_tables(engine, prefix, by_lower)
        metadata = sa.MetaData()
        tables: dict[str, sa.Table] = {}
        columns: dict[str, frozenset[str]] = {}
        problems: list[str] = []
        for name in TABLE_SPECS:
            full = f"{prefix}{name}"
            cols = present.get(full) or by_lower.get(full.lower())
            if cols is None:
                if name not in OPTIONAL_TABLES:
                    problems.append(_missing_table(full, prefix, name, by_lower))
                cols = set()
            missing = sorted(REQUIRED_COLUMNS.get(name, frozenset()) - cols)
            if missing and cols:
                problems.append(f"table {full} lacks column(s) {', '.join(missing)}")
            columns[name] = frozenset(cols)
            tables[name] = build_table(metadata, prefix, name, keep=cols.__contains__)
        if problems:
            raise PerfexSchemaError(
                f"the database {safe_url(engine.url)} is not a usable Perfex CRM "
                f"database (table prefix {prefix!r}): " + "; ".join(problems)
            )
        perfex_tables = PerfexTables(prefix=prefix, metadata=metadata, **tables)
        return cls(engine=engine, prefix=prefix, tables=perfex_tables, columns=columns)

    def has_column(self, table: str, column: str) -> bool:
        """True when the logical table has that column in this database."""
        return column in self.columns.get(table, frozenset())

    @property
    def has_invoice_formatted_number(self) -> bool:
        """tblinvoices.formatted_number exists (Perfex 3.2+)."""
        return self.has_column("invoices", "formatted_number")

    @property
    def has_creditnote_formatted_number(self) -> bool:
        """tblcreditnotes.formatted_number exists (Perfex 3.2+)."""
        return self.has_column("creditnotes", "formatted_number")

    @property
    def has_optional_lines(self) -> bool:
        """tblitemable.is_optional and is_selected exist (Perfex 3.4+)."""
        return all(
            self.has_column("itemable", col) for col in OPTIONAL_COLUMNS["itemable"]
        )

    @property
    def is_mysql(self) -> bool:
        """True on MySQL/MariaDB."""
        return self.engine.dialect.name in ("mysql", "mariadb")

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()


def _missing_table(
    full: str, prefix: str, name: str, by_lower: Mapping[str, set[str]]
) -> str:
    """A message for a missing table, with a hint when the cause is guessable."""
    old = OLD_TABLE_NAMES.get(name)
    if old and f"{prefix}{old}".lower() in by_lower:
        return (
            f"missing table {full} (found {prefix}{old}: Perfex older than 2.3.1 "
            "is not supported)"
        )
    return f"missing table {full}"


def _no_perfex_tables(
    engine: sa.Engine, prefix: str, by_lower: Mapping[str, set[str]]
) -> None:
    """Raise the error for a database without {prefix}invoices."""
    guesses = sorted(
        name[: -len("invoices")]
        for name, cols in by_lower.items()
        if name.endswith("invoices") and "clientid" in cols
    )
    hint = (
        f"; tables with prefix {', '.join(repr(g) for g in guesses)} exist: "
        "set PERFEX_TABLE_PREFIX"
        if guesses
        else ""
    )
    raise PerfexSchemaError(
        f"the database {safe_url(engine.url)} is not a Perfex CRM database: "
        f"missing table {prefix}invoices (table prefix {prefix!r}){hint}"
    )
