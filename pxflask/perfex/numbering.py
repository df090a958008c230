"""Perfex's document number formatting (sales_number_format and friends).

The number a document carries is the one Perfex shows: formatted from its number,
prefix and format with the *current* `number_padding_prefixes`. The stored
`formatted_number` (Perfex 3.2+) is not used: it can be stale after the option
changed, until Perfex's list view rewrites it.
"""

from __future__ import annotations

from datetime import date

from pxflask.perfex.records import INVOICE_DRAFT

DEFAULT_PADDING = 6

FORMAT_LEGACY = 0
FORMAT_NUMBER = 1
FORMAT_YEAR = 2
FORMAT_NUMBER_YY = 3
FORMAT_NUMBER_MM_YYYY = 4


def parse_padding(value: object, default: int = DEFAULT_PADDING) -> int:
    """The option number_padding_prefixes as a width, as Perfex's str_pad reads it.

    No option row: the installer's default (6). An empty, negative or unreadable
    value: no padding (0), never a guessed width.
    """
    if value is None:
        return default
    try:
        padding = int(str(value).strip())
    except ValueError:
        return 0
    return max(padding, 0)


def format_number(
    number: int,
    prefix: str | None,
    number_format: int | None,
    on: date,
    padding: int = DEFAULT_PADDING,
) -> str:
    """Format a document number like Perfex's sales_number_format()."""
    prefix = prefix or ""
    padded = str(number).rjust(padding, "0")
    if number_format == FORMAT_NUMBER:
        return f"{prefix}{padded}"
    if number_format == FORMAT_YEAR:
        return f"{prefix}{on.year:04d}/{padded}"
    if number_format == FORMAT_NUMBER_YY:
        return f"{prefix}{padded}-{on.year % 100:02d}"
    if number_format == FORMAT_NUMBER_MM_YYYY:
        return f"{prefix}{padded}/{on.month:02d}/{on.year:04d}"
    # 0 (legacy, before Perfex 1.2.7), NULL and unknown formats: the raw number.
    return str(number)


def format_invoice_number(
    number: int,
    prefix: str | None,
    number_format: int | None,
    on: date,
    status: int,
    padding: int = DEFAULT_PADDING,
) -> str:
    """Format an invoice number; drafts show as prefix + 'DRAFT'."""
    if status == INVOICE_DRAFT:
        return f"{prefix or ''}DRAFT"
    return format_number(number, prefix, number_format, on, padding)


def format_credit_note_number(
    number: int,
    prefix: str | None,
    number_format: int | None,
    on: date,
    padding: int = DEFAULT_PADDING,
) -> str:
    """Format a credit-note number (same rules as invoices, no draft case)."""
    return format_number(number, prefix, number_format, on, padding)


format_estimate_number = format_credit_note_number
"""Estimate numbers follow the same rules (no draft case: drafts have numbers)."""
