"""Perfex's projects and custom fields (what tracking categories are made of)."""

from __future__ import annotations

import sqlalchemy as sa

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


def projects_table() -> tuple[list[sa.Column], list[str]]:
    """tblprojects (installer columns)."""
    cols = [
        pk_col(),
        str_col("name", 191, nullable=False),
        text_col("description"),
        int_col("status", default=0),
        int_col("clientid"),
        int_col("billing_type"),
        date_col("start_date", nullable=False),
        date_col("deadline"),
        date_col("project_created", nullable=False),
        datetime_col("date_finished"),
        int_col("progress", nullable=True, default=0),
        int_col("progress_from_tasks", default=1),
        money_col("project_cost", nullable=True),
        money_col("project_rate_per_hour", nullable=True),
        money_col("estimated_hours", nullable=True),
        int_col("addedfrom"),
        int_col("contact_notification", nullable=True, default=1),
        text_col("notify_contacts"),
    ]
    return cols, ["clientid", "name"]


def customfields_table() -> tuple[list[sa.Column], list[str]]:
    """tblcustomfields: one field per `fieldto` (invoice, credit_note, expenses...)."""
    cols = [
        pk_col(),
        str_col("fieldto", 30),
        str_col("name", 150, nullable=False),
        str_col("slug", 150, nullable=False),
        tiny_col("required", default=0),
        str_col("type", 20, nullable=False),
        mtext_col("options"),
        tiny_col("display_inline", default=0),
        int_col("field_order", nullable=True, default=0),
        int_col("active", default=1),
        int_col("show_on_pdf", default=0),
        tiny_col("show_on_ticket_form", default=0),
        tiny_col("only_admin", default=0),
        tiny_col("show_on_table", default=0),
        int_col("show_on_client_portal", default=0),
        int_col("disalow_client_to_edit", default=0),
        int_col("bs_column", default=12),
        mtext_col("default_value"),
    ]
    return cols, []


def customfieldsvalues_table() -> tuple[list[sa.Column], list[str]]:
    """tblcustomfieldsvalues: a field's value for one record (relid)."""
    cols = [
        pk_col(),
        int_col("relid"),
        int_col("fieldid"),
        str_col("fieldto", 15, nullable=False),
        text_col("value", nullable=False),
    ]
    return cols, ["relid", "fieldto", "fieldid"]
