"""Perfex's customer tables: clients, contacts, countries, currencies."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.perfex.schema.columns import (
    datetime_col,
    int_col,
    pk_col,
    str_col,
    tiny_col,
)


def clients_table() -> tuple[list[sa.Column], list[str]]:
    """tblclients."""
    cols = [
        pk_col("userid"),
        str_col("company", 191),
        str_col("vat", 50),
        str_col("phonenumber", 30),
        int_col("country", default=0),
        str_col("city", 100),
        str_col("zip", 15),
        str_col("state", 50),
        str_col("address", 191),
        str_col("website", 150),
        datetime_col("datecreated", nullable=False),
        int_col("active", default=1),
        int_col("leadid", nullable=True),
        str_col("billing_street", 200),
        str_col("billing_city", 100),
        str_col("billing_state", 100),
        str_col("billing_zip", 100),
        int_col("billing_country", nullable=True, default=0),
        str_col("shipping_street", 200),
        str_col("shipping_city", 100),
        str_col("shipping_state", 100),
        str_col("shipping_zip", 100),
        int_col("shipping_country", nullable=True, default=0),
        str_col("longitude", 191),
        str_col("latitude", 191),
        str_col("default_language", 40),
        int_col("default_currency", default=0),
        int_col("show_primary_contact", default=0),
        str_col("stripe_id", 40),
        int_col("registration_confirmed", default=1),
        int_col("addedfrom", default=0),
    ]
    return cols, ["country", "leadid", "company", "active"]


def contacts_table() -> tuple[list[sa.Column], list[str]]:
    """tblcontacts."""
    cols = [
        pk_col(),
        int_col("userid"),
        int_col("is_primary", default=1),
        str_col("firstname", 191, nullable=False),
        str_col("lastname", 191, nullable=False),
        str_col("email", 100, nullable=False),
        str_col("phonenumber", 100, nullable=False),
        str_col("title", 100),
        datetime_col("datecreated", nullable=False),
        str_col("password", 255),
        str_col("new_pass_key", 32),
        datetime_col("new_pass_key_requested"),
        datetime_col("email_verified_at"),
        str_col("email_verification_key", 32),
        datetime_col("email_verification_sent_at"),
        str_col("last_ip", 40),
        datetime_col("last_login"),
        datetime_col("last_password_change"),
        tiny_col("active", default=1),
        str_col("profile_image", 191),
        str_col("direction", 3),
        tiny_col("invoice_emails", default=1),
        tiny_col("estimate_emails", default=1),
        tiny_col("credit_note_emails", default=1),
        tiny_col("contract_emails", default=1),
        tiny_col("task_emails", default=1),
        tiny_col("project_emails", default=1),
        tiny_col("ticket_emails", default=1),
    ]
    return cols, ["userid", "firstname", "lastname", "email", "is_primary"]


def countries_table() -> tuple[list[sa.Column], list[str]]:
    """tblcountries."""
    cols = [
        pk_col("country_id"),
        sa.Column("iso2", sa.CHAR(2), nullable=True),
        str_col("short_name", 80, nullable=False),
        str_col("long_name", 80, nullable=False),
        sa.Column("iso3", sa.CHAR(3), nullable=True),
        str_col("numcode", 6),
        str_col("un_member", 12),
        str_col("calling_code", 8),
        str_col("cctld", 5),
    ]
    return cols, []


def currencies_table() -> tuple[list[sa.Column], list[str]]:
    """tblcurrencies."""
    cols = [
        pk_col(),
        str_col("symbol", 10, nullable=False),
        str_col("name", 100, nullable=False),
        str_col("decimal_separator", 5),
        str_col("thousand_separator", 5),
        str_col("placement", 10),
        tiny_col("isdefault", default=0),
    ]
    return cols, []
