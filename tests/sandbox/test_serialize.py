"""The sandbox's JSON: money as exact numbers, dates as Xero writes them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pxflask.sandbox.serialize import _encode, dumps, loads


def _exact(obj: object) -> str:
    """The reference encoder's text."""
    out: list[str] = []
    _encode(obj, out)
    return "".join(out)


@pytest.mark.parametrize(
    "document",
    [
        {"Name": 'Café "Ω" Ltd', "Phones": [], "IsCustomer": True, "Rank": None},
        {
            "UpdatedDateUTC": datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
            "Day": date(2026, 1, 2),
        },
        {"Total": Decimal("1234.50"), "Lines": [{"Tax": Decimal("-0.00")}]},
        [{"a": [1, 2, {"b": Decimal("0.1")}]}, "x"],
    ],
)
def test_fast_and_exact_encoders_agree(document):
    """Documents with and without money give the reference encoder's text."""
    text = dumps(document)
    assert text == _exact(document)
    if "Total" in text:
        assert '"Total":1234.50' in text  # money stays a number with its cents
        assert loads(text)["Total"] == Decimal("1234.50")
    json.loads(text)  # valid JSON either way
