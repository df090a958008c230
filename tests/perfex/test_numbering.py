"""Perfex document number formatting."""

from __future__ import annotations

from datetime import date

import pytest

from pxflask.perfex.numbering import (
    format_credit_note_number,
    format_invoice_number,
    format_number,
    parse_padding,
)
from pxflask.perfex.records import DRAFT_NUMBER, INVOICE_DRAFT, INVOICE_PAID

ON = date(2025, 4, 7)


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [
        (0, "12"),
        (1, "INV-000012"),
        (2, "INV-2025/000012"),
        (3, "INV-000012-25"),
        (4, "INV-000012/04/2025"),
    ],
)
def test_every_number_format(number_format, expected):
    """Formats 0..4 render as Perfex's sales_number_format (0 = raw number)."""
    assert format_number(12, "INV-", number_format, ON) == expected


@pytest.mark.parametrize(
    ("padding", "number", "expected"),
    [
        (0, 12, "INV-12"),
        (1, 12, "INV-12"),
        (4, 12, "INV-0012"),
        (6, 12, "INV-000012"),
        (8, 12, "INV-00000012"),
        (3, 123456, "INV-123456"),
    ],
)
def test_padding_pads_left_and_never_truncates(padding, number, expected):
    """Zero-left-padding to the option's width; longer numbers are kept whole."""
    assert format_number(number, "INV-", 1, ON, padding) == expected


def test_padding_applies_to_every_format():
    """The padding width is used by formats 2, 3 and 4 too."""
    assert format_number(5, "X", 2, ON, 3) == "X2025/005"
    assert format_number(5, "X", 3, ON, 3) == "X005-25"
    assert format_number(5, "X", 4, ON, 3) == "X005/04/2025"


def test_two_digit_year_keeps_leading_zero():
    """Format 3 writes yy with a leading zero (2005 -> 05)."""
    assert format_number(1, "", 3, date(2005, 1, 1)) == "000001-05"


def test_missing_prefix_is_empty():
    """A NULL prefix formats like an empty one."""
    assert format_number(7, None, 1, ON) == "000007"


def test_unknown_format_falls_back_to_raw_number():
    """An unknown number_format shows the raw number, as Perfex does."""
    assert format_number(7, "INV-", 9, ON) == "7"


def test_draft_invoice_shows_prefix_draft():
    """Status 6 gives prefix + 'DRAFT' whatever the number and format."""
    assert format_invoice_number(DRAFT_NUMBER, "INV-", 1, ON, INVOICE_DRAFT) == (
        "INV-DRAFT"
    )
    assert format_invoice_number(3, None, 2, ON, INVOICE_DRAFT) == "DRAFT"


def test_non_draft_invoice_uses_the_format():
    """Other statuses format the number normally, with the padding given."""
    assert format_invoice_number(3, "INV-", 2, ON, INVOICE_PAID, 4) == ("INV-2025/0003")


def test_credit_note_has_no_draft_case():
    """Credit notes format like invoices, status does not matter."""
    assert format_credit_note_number(9, "CN-", 1, ON) == "CN-000009"
    assert format_credit_note_number(9, "CN-", 4, ON, 2) == "CN-09/04/2025"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("6", 6), (" 4 ", 4), ("0", 0), ("", 0), (None, 6), ("abc", 0), ("-1", 0)],
)
def test_parse_padding_option(raw, expected):
    """number_padding_prefixes: empty means no padding; only a missing row is 6."""
    assert parse_padding(raw) == expected
