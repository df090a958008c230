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


def _pk(name: str = "id") -> sa.Column:
    """A signed INT AUTO_INCREMENT primary key."""
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=True)


def _int(name: str, nullable: bool = False, default: int | None = None) -> sa.Column:
    """An int column with an optional server default."""
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, sa.Integer, nullable=nullable, server_default=server_default)


def _tiny(name: str, nullable: bool = False, default: int | None = None) -> sa.Column:
    """A tinyint(1) column with an optional server default."""
    server_default = None if default is None else sa.text(str(default))
    return sa.Column(name, tinyint(), nullable=nullable, server_default=server_default)


def _str(name: str, length: int, nullable: bool = True) -> sa.Column:
    """A varchar column."""
    return sa.Column(name, sa.String(length), nullable=nullable)


def _money(name: str, nullable: bool = False, default: bool = False) -> sa.Column:
    """A DECIMAL(15,2) column, optionally DEFAULT 0.00."""
    server_default = sa.text("0.00") if default else None
    return sa.Column(name, money(), nullable=nullable, server_default=server_default)


def _text(name: str, nullable: bool = True) -> sa.Column:
    """A text column."""
    return sa.Column(name, sa.Text(), nullable=nullable)


def _mtext(name: str, nullable: bool = True) -> sa.Column:
    """A mediumtext column."""
    return sa.Column(name, mediumtext(), nullable=nullable)


def _date(name: str, nullable: bool = True) -> sa.Column:
    """A date column."""
    return sa.Column(name, sa.Date(), nullable=nullable)


def _datetime(name: str, nullable: bool = True) -> sa.Column:
    """A datetime column."""
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _address(kind: str) -> list[sa.Column]:
    """billing_* or shipping_* columns as on invoices and credit notes."""
    return [
        _str(f"{kind}_street", 200),
        _str(f"{kind}_city", 100),
        _str(f"{kind}_state", 100),
        _str(f"{kind}_zip", 100),
        _int(f"{kind}_country", nullable=True),
    ]


def _clients() -> tuple[list[sa.Column], list[str]]:
    """tblclients."""
    cols = [
        _pk("userid"),
        _str("company", 191),
        _str("vat", 50),
        _str("phonenumber", 30),
        _int("country", default=0),
        _str("city", 100),
        _str("zip", 15),
        _str("state", 50),
        _str("address", 191),
        _str("website", 150),
        _datetime("datecreated", nullable=False),
        _int("active", default=1),
        _int("leadid", nullable=True),
        _str("billing_street", 200),
        _str("billing_city", 100),
        _str("billing_state", 100),
        _str("billing_zip", 100),
        _int("billing_country", nullable=True, default=0),
        _str("shipping_street", 200),
        _str("shipping_city", 100),
        _str("shipping_state", 100),
        _str("shipping_zip", 100),
        _int("shipping_country", nullable=True, default=0),
        _str("longitude", 191),
        _str("latitude", 191),
        _str("default_language", 40),
        _int("default_currency", default=0),
        _int("show_primary_contact", default=0),
        _str("stripe_id", 40),
        _int("registration_confirmed", default=1),
        _int("addedfrom", default=0),
    ]
    return cols, ["country", "leadid", "company", "active"]


def _contacts() -> tuple[list[sa.Column], list[str]]:
    """tblcontacts."""
    cols = [
        _pk(),
        _int("userid"),
        _int("is_primary", default=1),
        _str("firstname", 191, nullable=False),
        _str("lastname", 191, nullable=False),
        _str("email", 100, nullable=False),
        _str("phonenumber", 100, nullable=False),
        _str("title", 100),
        _datetime("datecreated", nullable=False),
        _str("password", 255),
        _str("new_pass_key", 32),
        _datetime("new_pass_key_requested"),
        _datetime("email_verified_at"),
        _str("email_verification_key", 32),
        _datetime("email_verification_sent_at"),
        _str("last_ip", 40),
        _datetime("last_login"),
        _datetime("last_password_change"),
        _tiny("active", default=1),
        _str("profile_image", 191),
        _str("direction", 3),
        _tiny("invoice_emails", default=1),
        _tiny("estimate_emails", default=1),
        _tiny("credit_note_emails", default=1),
        _tiny("contract_emails", default=1),
        _tiny("task_emails", default=1),
        _tiny("project_emails", default=1),
        _tiny("ticket_emails", default=1),
    ]
    return cols, ["userid", "firstname", "lastname", "email", "is_primary"]


def _countries() -> tuple[list[sa.Column], list[str]]:
    """tblcountries."""
    cols = [
        _pk("country_id"),
        sa.Column("iso2", sa.CHAR(2), nullable=True),
        _str("short_name", 80, nullable=False),
        _str("long_name", 80, nullable=False),
        sa.Column("iso3", sa.CHAR(3), nullable=True),
        _str("numcode", 6),
        _str("un_member", 12),
        _str("calling_code", 8),
        _str("cctld", 5),
    ]
    return cols, []


def _currencies() -> tuple[list[sa.Column], list[str]]:
    """tblcurrencies."""
    cols = [
        _pk(),
        _str("symbol", 10, nullable=False),
        _str("name", 100, nullable=False),
        _str("decimal_separator", 5),
        _str("thousand_separator", 5),
        _str("placement", 10),
        _tiny("isdefault", default=0),
    ]
    return cols, []


def _sales_common() -> list[sa.Column]:
    """Columns shared by invoices and credit notes, after number_format."""
    return [
        _datetime("datecreated", nullable=False),
        _date("date", nullable=False),
    ]


def _invoices() -> tuple[list[sa.Column], list[str]]:
    """tblinvoices (3.4 shape)."""
    cols = [
        _pk(),
        _tiny("sent", default=0),
        _datetime("datesend"),
        _int("clientid"),
        _str("deleted_customer_name", 100),
        _int("number"),
        _str("prefix", 50),
        _int("number_format", default=0),
        _str("formatted_number", 100),
        *_sales_common(),
        _date("duedate"),
        _int("currency"),
        _money("subtotal"),
        _money("total_tax", default=True),
        _money("total"),
        _money("adjustment", nullable=True),
        _int("addedfrom", nullable=True),
        _str("hash", 32, nullable=False),
        _int("status", nullable=True, default=1),
        _mtext("clientnote"),
        _mtext("adminnote"),
        _date("last_overdue_reminder"),
        _date("last_due_reminder"),
        _int("cancel_overdue_reminders", default=0),
        _mtext("allowed_payment_modes"),
        _mtext("token"),
        _money("discount_percent", nullable=True, default=True),
        _money("discount_total", nullable=True, default=True),
        _str("discount_type", 30, nullable=False),
        _int("recurring", default=0),
        _str("recurring_type", 10),
        _tiny("custom_recurring", default=0),
        _int("cycles", default=0),
        _int("total_cycles", default=0),
        _int("is_recurring_from", nullable=True),
        _date("last_recurring_date"),
        _mtext("terms"),
        _int("sale_agent", default=0),
        *_address("billing"),
        *_address("shipping"),
        _tiny("include_shipping"),
        _tiny("show_shipping_on_invoice", default=1),
        _int("show_quantity_as", default=1),
        _int("project_id", nullable=True, default=0),
        _int("subscription_id", default=0),
        _str("short_link", 100),
    ]
    keys = [
        "currency",
        "clientid",
        "project_id",
        "sale_agent",
        "total",
        "status",
        "formatted_number",
    ]
    return cols, keys


def _itemable() -> tuple[list[sa.Column], list[str]]:
    """tblitemable (3.4 shape)."""
    cols = [
        _pk(),
        _int("rel_id"),
        _str("rel_type", 15, nullable=False),
        sa.Column("description", longtext(), nullable=False),
        _mtext("long_description"),
        _money("qty"),
        _money("rate"),
        _str("unit", 40),
        _int("item_order", nullable=True),
        _tiny("is_optional", default=0),
        _tiny("is_selected", default=1),
    ]
    return cols, ["rel_id", "rel_type", "qty", "rate"]


def _item_tax() -> tuple[list[sa.Column], list[str]]:
    """tblitem_tax."""
    cols = [
        _pk(),
        _int("itemid"),
        _int("rel_id"),
        _str("rel_type", 20, nullable=False),
        _money("taxrate"),
        _str("taxname", 100, nullable=False),
    ]
    return cols, ["itemid", "rel_id"]


def _items() -> tuple[list[sa.Column], list[str]]:
    """tblitems."""
    cols = [
        _pk(),
        sa.Column("description", longtext(), nullable=False),
        _mtext("long_description"),
        _money("rate"),
        _int("tax", nullable=True),
        _int("tax2", nullable=True),
        _str("unit", 40),
        _int("group_id", default=0),
    ]
    return cols, ["tax", "tax2", "group_id"]


def _items_groups() -> tuple[list[sa.Column], list[str]]:
    """tblitems_groups."""
    return [_pk(), _str("name", 50, nullable=False)], []


def _taxes() -> tuple[list[sa.Column], list[str]]:
    """tbltaxes."""
    return [_pk(), _str("name", 100, nullable=False), _money("taxrate")], []


def _invoicepaymentrecords() -> tuple[list[sa.Column], list[str]]:
    """tblinvoicepaymentrecords."""
    cols = [
        _pk(),
        _int("invoiceid"),
        _money("amount"),
        _str("paymentmode", 40),
        _str("paymentmethod", 191),
        _date("date", nullable=False),
        _datetime("daterecorded", nullable=False),
        _mtext("note"),
        sa.Column("transactionid", longtext(), nullable=True),
    ]
    return cols, ["invoiceid", "paymentmethod"]


def _payment_modes() -> tuple[list[sa.Column], list[str]]:
    """tblpayment_modes."""
    cols = [
        _pk(),
        _str("name", 100, nullable=False),
        _text("description"),
        _int("show_on_pdf", default=0),
        _int("invoices_only", default=0),
        _int("expenses_only", default=0),
        _int("selected_by_default", default=1),
        _tiny("active", default=1),
    ]
    return cols, []


def _expenses() -> tuple[list[sa.Column], list[str]]:
    """tblexpenses."""
    cols = [
        _pk(),
        _int("category"),
        _int("currency"),
        _money("amount"),
        _int("tax", nullable=True),
        _int("tax2", default=0),
        _str("reference_no", 100),
        _text("note"),
        _str("expense_name", 191),
        _int("clientid"),
        _int("project_id", default=0),
        _int("billable", nullable=True, default=0),
        _int("invoiceid", nullable=True),
        _str("paymentmode", 50),
        _date("date", nullable=False),
        _str("recurring_type", 10),
        _int("repeat_every", nullable=True),
        _int("recurring", default=0),
        _int("cycles", default=0),
        _int("total_cycles", default=0),
        _int("custom_recurring", default=0),
        _date("last_recurring_date"),
        _tiny("create_invoice_billable", nullable=True),
        _tiny("send_invoice_to_customer"),
        _int("recurring_from", nullable=True),
        _datetime("dateadded", nullable=False),
        _int("addedfrom"),
    ]
    return cols, ["clientid", "project_id", "category", "currency"]


def _expenses_categories() -> tuple[list[sa.Column], list[str]]:
    """tblexpenses_categories."""
    return [_pk(), _str("name", 191, nullable=False), _text("description")], []


def _creditnotes() -> tuple[list[sa.Column], list[str]]:
    """tblcreditnotes (3.4 shape)."""
    cols = [
        _pk(),
        _int("clientid"),
        _str("deleted_customer_name", 100),
        _int("number"),
        _str("prefix", 50),
        _int("number_format", default=1),
        _str("formatted_number", 100),
        *_sales_common(),
        _mtext("adminnote"),
        _mtext("terms"),
        _mtext("clientnote"),
        _int("currency"),
        _money("subtotal"),
        _money("total_tax", default=True),
        _money("total"),
        _money("adjustment", nullable=True),
        _int("addedfrom", nullable=True),
        _int("status", nullable=True, default=1),
        _int("project_id", default=0),
        _money("discount_percent", nullable=True, default=True),
        _money("discount_total", nullable=True, default=True),
        _str("discount_type", 30, nullable=False),
        *_address("billing"),
        *_address("shipping"),
        _tiny("include_shipping"),
        _tiny("show_shipping_on_credit_note", default=1),
        _int("show_quantity_as", default=1),
        _str("reference_no", 100),
    ]
    return cols, ["currency", "clientid", "project_id", "formatted_number"]


def _creditnote_refunds() -> tuple[list[sa.Column], list[str]]:
    """tblcreditnote_refunds."""
    cols = [
        _pk(),
        _int("credit_note_id"),
        _int("staff_id"),
        _date("refunded_on", nullable=False),
        _str("payment_mode", 40, nullable=False),
        _text("note"),
        _money("amount"),
        _datetime("created_at"),
    ]
    return cols, []


def _credits() -> tuple[list[sa.Column], list[str]]:
    """tblcredits."""
    cols = [
        _pk(),
        _int("invoice_id"),
        _int("credit_id"),
        _int("staff_id"),
        _date("date", nullable=False),
        _datetime("date_applied", nullable=False),
        _money("amount"),
    ]
    return cols, []


def _options() -> tuple[list[sa.Column], list[str]]:
    """tbloptions."""
    cols = [
        _pk(),
        _str("name", 191, nullable=False),
        sa.Column("value", longtext(), nullable=False),
        _tiny("autoload", default=1),
    ]
    return cols, ["name"]


def _staff() -> tuple[list[sa.Column], list[str]]:
    """tblstaff."""
    cols = [
        _pk("staffid"),
        _str("email", 100, nullable=False),
        _str("firstname", 50, nullable=False),
        _str("lastname", 50, nullable=False),
        _mtext("facebook"),
        _mtext("linkedin"),
        _str("phonenumber", 30),
        _str("skype", 50),
        _str("password", 250, nullable=False),
        _datetime("datecreated", nullable=False),
        _str("profile_image", 191),
        _str("last_ip", 40),
        _datetime("last_login"),
        _datetime("last_activity"),
        _datetime("last_password_change"),
        _str("new_pass_key", 32),
        _datetime("new_pass_key_requested"),
        _int("admin", default=0),
        _int("role", nullable=True),
        _int("active", default=1),
        _str("default_language", 40),
        _str("direction", 3),
        _str("media_path_slug", 191),
        _int("is_not_staff", default=0),
        sa.Column(
            "hourly_rate", money(), nullable=False, server_default=sa.text("0.00")
        ),
        _tiny("two_factor_auth_enabled", nullable=True, default=0),
        _str("two_factor_auth_code", 100),
        _datetime("two_factor_auth_code_requested"),
        _text("email_signature"),
        _text("google_auth_secret"),
    ]
    return cols, ["firstname", "lastname"]


def _migrations() -> tuple[list[sa.Column], list[str]]:
    """tblmigrations (core schema version)."""
    return [sa.Column("version", sa.BigInteger, nullable=False)], []


TableSpec = Callable[[], tuple[list[sa.Column], list[str]]]

# logical name (the table name without the prefix) -> its definition
TABLE_SPECS: dict[str, TableSpec] = {
    "clients": _clients,
    "contacts": _contacts,
    "countries": _countries,
    "currencies": _currencies,
    "invoices": _invoices,
    "itemable": _itemable,
    "item_tax": _item_tax,
    "items": _items,
    "items_groups": _items_groups,
    "taxes": _taxes,
    "invoicepaymentrecords": _invoicepaymentrecords,
    "payment_modes": _payment_modes,
    "expenses": _expenses,
    "expenses_categories": _expenses_categories,
    "creditnotes": _creditnotes,
    "creditnote_refunds": _creditnote_refunds,
    "credits": _credits,
    "options": _options,
    "staff": _staff,
    "migrations": _migrations,
}

# Columns that older installs lack; reads adapt to their absence.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "invoices": frozenset({"formatted_number"}),
    "creditnotes": frozenset({"formatted_number"}),
    "itemable": frozenset({"is_optional", "is_selected"}),
}

MYSQL_TABLE_OPTIONS = {
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
    options: sa.Table
    staff: sa.Table
    migrations: sa.Table

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


def build_metadata(prefix: str = "tbl", without: Iterable[str] = ()) -> PerfexTables:
    """Build all table definitions for a prefix; `without` drops 'table.column's."""
    dropped = frozenset(without)
    metadata = sa.MetaData()
    tables = {
        name: build_table(
            metadata,
            prefix,
            name,
            keep=lambda col, name=name: f"{name}.{col}" not in dropped,
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
        tables.metadata.create_all(conn, checkfirst=True)
    return tables
