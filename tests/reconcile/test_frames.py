"""Frame schemas, constructors, validators and the cents helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pxflask.reconcile.frames import (
    PERFEX_INVOICES,
    SCHEMAS,
    FrameError,
    empty_frame,
    from_cents,
    perfex_invoices_frame,
    to_cents,
    validate_frame,
    xero_payments_frame,
)
from tests.reconcile.helpers import clean_inputs


def _invoice(**over: object) -> dict[str, object]:
    """One Perfex invoice record with Decimal amounts."""
    rec = {
        "perfex_id": 1,
        "invoice_number": "INV-000001",
        "customer_id": 3,
        "customer_name": "Acme Ltd",
        "date": dt.date(2025, 1, 31),
        "due_date": None,
        "currency": "GBP",
        "subtotal": Decimal("100.005"),
        "tax": Decimal("20.00"),
        "total": Decimal("120.01"),
        "paid": Decimal("0"),
        "status": "unpaid",
    }
    rec.update(over)
    return rec


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (Decimal("1.005"), 101),
        (Decimal("-1.005"), -101),
        (Decimal("0.004"), 0),
        (Decimal("12345678.90"), 1234567890),
        ("2.50", 250),
        (7, 700),
    ],
)
def test_to_cents_rounds_half_up(amount: object, cents: int) -> None:
    """Amounts become integer cents, half-up at 2 dp."""
    assert to_cents(amount) == cents


def test_to_cents_refuses_floats_and_garbage() -> None:
    """Floats and non-numbers are refused."""
    with pytest.raises(TypeError):
        to_cents(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_cents("abc")
    with pytest.raises(ValueError):
        to_cents(Decimal("NaN"))


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_round_trip(cents: int) -> None:
    """from_cents and to_cents are inverse on integer cents."""
    value = from_cents(cents)
    assert value.as_tuple().exponent == -2
    assert to_cents(value) == cents


def test_constructor_converts_decimals_and_dtypes() -> None:
    """Records with Decimal amounts give a frame in the schema's dtypes."""
    frame = perfex_invoices_frame([_invoice()])
    assert list(frame.columns) == list(PERFEX_INVOICES.columns)
    assert frame.at[0, "subtotal_cents"] == 10001
    assert frame.at[0, "total_cents"] == 12001
    assert str(frame["date"].dtype) == "datetime64[us]"
    assert pd.isna(frame.at[0, "due_date"])
    for col, dtype in PERFEX_INVOICES.columns.items():
        assert str(frame[col].dtype) == dtype


@pytest.mark.parametrize("schema", list(SCHEMAS.values()), ids=list(SCHEMAS))
def test_empty_frames_validate(schema: object) -> None:
    """Each schema's empty frame passes its validator."""
    frame = validate_frame(empty_frame(schema), schema)
    assert list(frame.columns) == list(schema.columns)


def test_synthetic_frames_follow_their_schemas() -> None:
    """The synthetic inputs validate unchanged."""
    inputs = clean_inputs()
    for frame, name in (
        (inputs.perfex_invoices, "perfex_invoices"),
        (inputs.xero_invoices, "xero_invoices"),
        (inputs.perfex_payments, "perfex_payments"),
        (inputs.xero_payments, "xero_payments"),
        (inputs.links, "links"),
    ):
        validate_frame(frame, SCHEMAS[name])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "open"}, "values not allowed"),
        ({"perfex_id": None}, "missing values"),
        ({"date": "not a date"}, "not dates"),
    ],
)
def test_validator_rejects_bad_values(change: dict, message: str) -> None:
    """Bad statuses, missing ids and bad dates raise FrameError."""
    with pytest.raises(FrameError, match=message):
        perfex_invoices_frame([_invoice(**change)])


def test_validator_rejects_duplicates_missing_columns_and_floats() -> None:
    """Duplicate keys, missing columns and float money raise FrameError."""
    with pytest.raises(FrameError, match="duplicate"):
        perfex_invoices_frame([_invoice(), _invoice()])
    frame = perfex_invoices_frame([_invoice()])
    with pytest.raises(FrameError, match="missing columns"):
        validate_frame(frame.drop(columns="status"), PERFEX_INVOICES)
    with pytest.raises(FrameError, match="float"):
        validate_frame(frame.astype({"total_cents": "float64"}), PERFEX_INVOICES)
    with pytest.raises(FrameError, match="duplicate"):
        xero_payments_frame(
            [
                {
                    "xero_payment_id": "a",
                    "xero_invoice_id": "x",
                    "invoice_number": "INV-1",
                    "date": "2025-01-01",
                    "amount": Decimal("1.00"),
                    "currency": "GBP",
                    "status": "AUTHORISED",
                }
            ]
            * 2
        )
