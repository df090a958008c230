"""Perfex's sales tables: invoices, estimates, credit notes, lines, taxes, payments."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.perfex.schema.column_types import longtext
from pxflask.perfex.schema.columns import (
    address_cols,
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


def sales_common_cols() -> list[sa.Column]:
    """Columns shared by invoices and credit notes, after number_format."""
    return [
        datetime_col("datecreated", nullable=False),
        date_col("date", nullable=False),
    ]


def invoices_table() -> tuple[list[sa.Column], list[str]]:
    """tblinvoices (3.4 shape)."""
    cols = [
        pk_col(),
        tiny_col("sent", default=0),
        datetime_col("datesend"),
        int_col("clientid"),
        str_col("deleted_customer_name", 100),
        int_col("number"),
        str_col("prefix", 50),
        int_col("number_format", default=0),
        str_col("formatted_number", 100),
        *sales_common_cols(),
        date_col("duedate"),
        int_col("currency"),
        money_col("subtotal"),
        money_col("total_tax", default=True),
        money_col("total"),
        money_col("adjustment", nullable=True),
        int_col("addedfrom", nullable=True),
        str_col("hash", 32, nullable=False),
        int_col("status", nullable=True, default=1),
        mtext_col("clientnote"),
        mtext_col("adminnote"),
        date_col("last_overdue_reminder"),
        date_col("last_due_reminder"),
        int_col("cancel_overdue_reminders", default=0),
        mtext_col("allowed_payment_modes"),
        mtext_col("token"),
        money_col("discount_percent", nullable=True, default=True),
        money_col("discount_total", nullable=True, default=True),
        str_col("discount_type", 30, nullable=False),
        int_col("recurring", default=0),
        str_col("recurring_type", 10),
        tiny_col("custom_recurring", default=0),
        int_col("cycles", default=0),
        int_col("total_cycles", default=0),
        int_col("is_recurring_from", nullable=True),
        date_col("last_recurring_date"),
        mtext_col("terms"),
        int_col("sale_agent", default=0),
        *address_cols("billing"),
        *address_cols("shipping"),
        tiny_col("include_shipping"),
        tiny_col("show_shipping_on_invoice", default=1),
        int_col("show_quantity_as", default=1),
        int_col("project_id", nullable=True, default=0),
        int_col("subscription_id", default=0),
        str_col("short_link", 100),
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


def itemable_table() -> tuple[list[sa.Column], list[str]]:
    """tblitemable (3.4 shape)."""
    cols = [
        pk_col(),
        int_col("rel_id"),
        str_col("rel_type", 15, nullable=False),
        sa.Column("description", longtext(), nullable=False),
        mtext_col("long_description"),
        money_col("qty"),
        money_col("rate"),
        str_col("unit", 40),
        int_col("item_order", nullable=True),
        tiny_col("is_optional", default=0),
        tiny_col("is_selected", default=1),
    ]
    return cols, ["rel_id", "rel_type", "qty", "rate"]


def item_tax_table() -> tuple[list[sa.Column], list[str]]:
    """tblitem_tax."""
    cols = [
        pk_col(),
        int_col("itemid"),
        int_col("rel_id"),
        str_col("rel_type", 20, nullable=False),
        money_col("taxrate"),
        str_col("taxname", 100, nullable=False),
    ]
    return cols, ["itemid", "rel_id"]


def items_table() -> tuple[list[sa.Column], list[str]]:
    """tblitems."""
    cols = [
        pk_col(),
        sa.Column("description", longtext(), nullable=False),
        mtext_col("long_description"),
        money_col("rate"),
        int_col("tax", nullable=True),
        int_col("tax2", nullable=True),
        str_col("unit", 40),
        int_col("group_id", default=0),
    ]
    return cols, ["tax", "tax2", "group_id"]


def items_groups_table() -> tuple[list[sa.Column], list[str]]:
    """tblitems_groups."""
    return [pk_col(), str_col("name", 50, nullable=False)], []


def taxes_table() -> tuple[list[sa.Column], list[str]]:
    """tbltaxes."""
    return [pk_col(), str_col("name", 100, nullable=False), money_col("taxrate")], []


def invoicepaymentrecords_table() -> tuple[list[sa.Column], list[str]]:
    """tblinvoicepaymentrecords."""
    cols = [
        pk_col(),
        int_col("invoiceid"),
        money_col("amount"),
        str_col("paymentmode", 40),
        str_col("paymentmethod", 191),
        date_col("date", nullable=False),
        datetime_col("daterecorded", nullable=False),
        mtext_col("note"),
        sa.Column("transactionid", longtext(), nullable=True),
    ]
    return cols, ["invoiceid", "paymentmethod"]


def payment_modes_table() -> tuple[list[sa.Column], list[str]]:
    """tblpayment_modes."""
    cols = [
        pk_col(),
        str_col("name", 100, nullable=False),
        text_col("description"),
        int_col("show_on_pdf", default=0),
        int_col("invoices_only", default=0),
        int_col("expenses_only", default=0),
        int_col("selected_by_default", default=1),
        tiny_col("active", default=1),
    ]
    return cols, []


def creditnotes_table() -> tuple[list[sa.Column], list[str]]:
    """tblcreditnotes (3.4 shape)."""
    cols = [
        pk_col(),
        int_col("clientid"),
        str_col("deleted_customer_name", 100),
        int_col("number"),
        str_col("prefix", 50),
        int_col("number_format", default=1),
        str_col("formatted_number", 100),
        *sales_common_cols(),
        mtext_col("adminnote"),
        mtext_col("terms"),
        mtext_col("clientnote"),
        int_col("currency"),
        money_col("subtotal"),
        money_col("total_tax", default=True),
        money_col("total"),
        money_col("adjustment", nullable=True),
        int_col("addedfrom", nullable=True),
        int_col("status", nullable=True, default=1),
        int_col("project_id", default=0),
        money_col("discount_percent", nullable=True, default=True),
        money_col("discount_total", nullable=True, default=True),
        str_col("discount_type", 30, nullable=False),
        *address_cols("billing"),
        *address_cols("shipping"),
        tiny_col("include_shipping"),
        tiny_col("show_shipping_on_credit_note", default=1),
        int_col("show_quantity_as", default=1),
        str_col("reference_no", 100),
    ]
    return cols, ["currency", "clientid", "project_id", "formatted_number"]


def estimates_table() -> tuple[list[sa.Column], list[str]]:
    """tblestimates (3.4 shape; Perfex's installer columns)."""
    cols = [
        pk_col(),
        tiny_col("sent", default=0),
        datetime_col("datesend"),
        int_col("clientid"),
        str_col("deleted_customer_name", 100),
        int_col("project_id", default=0),
        int_col("number"),
        str_col("prefix", 50),
        int_col("number_format", default=0),
        str_col("formatted_number", 100),
        str_col("hash", 32),
        *sales_common_cols(),
        date_col("expirydate"),
        int_col("currency"),
        money_col("subtotal"),
        money_col("total_tax", default=True),
        money_col("total"),
        money_col("adjustment", nullable=True),
        int_col("addedfrom", default=0),
        int_col("status", default=1),
        text_col("clientnote"),
        text_col("adminnote"),
        money_col("discount_percent", nullable=True, default=True),
        money_col("discount_total", nullable=True, default=True),
        str_col("discount_type", 30),
        int_col("invoiceid", nullable=True),
        datetime_col("invoiced_date"),
        text_col("terms"),
        str_col("reference_no", 100),
        int_col("sale_agent", default=0),
        *address_cols("billing"),
        *address_cols("shipping"),
        tiny_col("include_shipping", default=0),
        tiny_col("show_shipping_on_estimate", default=1),
        int_col("show_quantity_as", default=1),
        int_col("pipeline_order", nullable=True, default=1),
        int_col("is_expiry_notified", default=0),
        str_col("acceptance_firstname", 50),
        str_col("acceptance_lastname", 50),
        str_col("acceptance_email", 100),
        datetime_col("acceptance_date"),
        str_col("acceptance_ip", 40),
        str_col("signature", 40),
        str_col("short_link", 100),
    ]
    return cols, ["clientid", "currency", "project_id", "sale_agent", "status"]


def creditnote_refunds_table() -> tuple[list[sa.Column], list[str]]:
    """tblcreditnote_refunds."""
    cols = [
        pk_col(),
        int_col("credit_note_id"),
        int_col("staff_id"),
        date_col("refunded_on", nullable=False),
        str_col("payment_mode", 40, nullable=False),
        text_col("note"),
        money_col("amount"),
        datetime_col("created_at"),
    ]
    return cols, []


def credits_table() -> tuple[list[sa.Column], list[str]]:
    """tblcredits."""
    cols = [
        pk_col(),
        int_col("invoice_id"),
        int_col("credit_id"),
        int_col("staff_id"),
        date_col("date", nullable=False),
        datetime_col("date_applied", nullable=False),
        money_col("amount"),
    ]
    return cols, []
