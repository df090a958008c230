"""Perfex's other tables: expenses, options, staff, migrations."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.perfex.schema.column_types import longtext, money
from pxflask.perfex.schema.columns import (
    date_col,
    datetime_col,
    int_col,
    money_col,
    mtext_col,
    pk_col,
    str_col,
    text_col,
    tiny_col,
)


def expenses_table() -> tuple[list[sa.Column], list[str]]:
    """tblexpenses."""
    cols = [
        pk_col(),
        int_col("category"),
        int_col("currency"),
        money_col("amount"),
        int_col("tax", nullable=True),
        int_col("tax2", default=0),
        str_col("reference_no", 100),
        text_col("note"),
        str_col("expense_name", 191),
        int_col("clientid"),
        int_col("project_id", default=0),
        int_col("billable", nullable=True, default=0),
        int_col("invoiceid", nullable=True),
        str_col("paymentmode", 50),
        date_col("date", nullable=False),
        str_col("recurring_type", 10),
        int_col("repeat_every", nullable=True),
        int_col("recurring", default=0),
        int_col("cycles", default=0),
        int_col("total_cycles", default=0),
        int_col("custom_recurring", default=0),
        date_col("last_recurring_date"),
        tiny_col("create_invoice_billable", nullable=True),
        tiny_col("send_invoice_to_customer"),
        int_col("recurring_from", nullable=True),
        datetime_col("dateadded", nullable=False),
        int_col("addedfrom"),
    ]
    return cols, ["clientid", "project_id", "category", "currency"]


def expenses_categories_table() -> tuple[list[sa.Column], list[str]]:
    """tblexpenses_categories."""
    return [pk_col(), str_col("name", 191, nullable=False), text_col("description")], []


def options_table() -> tuple[list[sa.Column], list[str]]:
    """tbloptions."""
    cols = [
        pk_col(),
        str_col("name", 191, nullable=False),
        sa.Column("value", longtext(), nullable=False),
        tiny_col("autoload", default=1),
    ]
    return cols, ["name"]


def staff_table() -> tuple[list[sa.Column], list[str]]:
    """tblstaff."""
    cols = [
        pk_col("staffid"),
        str_col("email", 100, nullable=False),
        str_col("firstname", 50, nullable=False),
        str_col("lastname", 50, nullable=False),
        mtext_col("facebook"),
        mtext_col("linkedin"),
        str_col("phonenumber", 30),
        str_col("skype", 50),
        str_col("password", 250, nullable=False),
        datetime_col("datecreated", nullable=False),
        str_col("profile_image", 191),
        str_col("last_ip", 40),
        datetime_col("last_login"),
        datetime_col("last_activity"),
        datetime_col("last_password_change"),
        str_col("new_pass_key", 32),
        datetime_col("new_pass_key_requested"),
        int_col("admin", default=0),
        int_col("role", nullable=True),
        int_col("active", default=1),
        str_col("default_language", 40),
        str_col("direction", 3),
        str_col("media_path_slug", 191),
        int_col("is_not_staff", default=0),
        sa.Column(
            "hourly_rate", money(), nullable=False, server_default=sa.text("0.00")
        ),
        tiny_col("two_factor_auth_enabled", nullable=True, default=0),
        str_col("two_factor_auth_code", 100),
        datetime_col("two_factor_auth_code_requested"),
        text_col("email_signature"),
        text_col("google_auth_secret"),
    ]
    return cols, ["firstname", "lastname"]


def migrations_table() -> tuple[list[sa.Column], list[str]]:
    """tblmigrations (core schema version)."""
    return [sa.Column("version", sa.BigInteger, nullable=False)], []
