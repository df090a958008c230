"""The record page's Perfex record: flat fields, nested records named."""

from __future__ import annotations

from decimal import Decimal

from pxflask.panel.dashboard_queries import _flatten
from pxflask.perfex.records import Currency, Line


def test_a_nested_record_shows_its_field_names():
    """A currency reads 'id 3 · code GBP · ...', not a bare tuple of values."""
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class Holder:
        id: int
        currency: Currency
        lines: tuple[Line, ...] = field(default=())
        amount: Decimal = Decimal("1.50")

    flat = _flatten(Holder(7, Currency(3, "GBP", "£", False)))
    assert flat["currency"] == "id 3 · code GBP · symbol £ · is_default False"
    assert flat["lines"] == "0 item(s)"
    assert flat["id"] == 7 and flat["amount"] == Decimal("1.50")
