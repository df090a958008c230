"""Input frame schemas of the reconciliation, their constructors and validators.

Every money column is an ``int64`` count of cents (``*_cents``); amounts are compared
as integers and never as floats.  Text columns use pandas' ``str`` dtype, dates are
``datetime64[us]`` at midnight (no time, no time zone), ids are ``int64`` (Perfex) or
``str`` (Xero GUIDs).

Perfex invoices (``PERFEX_INVOICES``)
    perfex_id int64 (unique), invoice_number str (Perfex's formatted number, e.g.
    ``INV-000012``; drafts carry ``INV-DRAFT``), customer_id int64, customer_name str,
    date, due_date (may be NaT), currency str (ISO 4217), subtotal_cents, tax_cents,
    total_cents, paid_cents (payments plus applied credits), status str (``unpaid``,
    ``paid``, ``partially_paid``, ``overdue``, ``cancelled``, ``draft``),
    credit_cents (the credits applied, part of paid_cents; 0 when the column is not
    given).

Xero invoices (``XERO_INVOICES``)
    xero_invoice_id str (unique), invoice_number str, contact_id str, contact_name str,
    contact_number str (may be missing; the sync stores the Perfex customer id there),
    date, due_date, currency, subtotal_cents, tax_cents, total_cents, paid_cents
    (AmountPaid plus AmountCredited), status str (``DRAFT``, ``SUBMITTED``,
    ``AUTHORISED``, ``PAID``, ``VOIDED``, ``DELETED``).

Perfex payments (``PERFEX_PAYMENTS``)
    perfex_payment_id int64 (unique), perfex_invoice_id int64, invoice_number str,
    date, amount_cents int64, currency str, mode str (payment-mode id or gateway).

Xero payments (``XERO_PAYMENTS``)
    xero_payment_id str (unique), xero_invoice_id str, invoice_number str, date,
    amount_cents int64, currency str, status str (``AUTHORISED``, ``DELETED``).

Xero bills (``XERO_BILLS``)
    xero_bill_id str (unique; an ACCPAY invoice's InvoiceID), bill_number str, date,
    currency, total_cents, tax_cents, status str (as for invoices).

Links (``LINKS``, optional)
    entity str (``invoices`` or ``payments``), perfex_id int64, xero_id str, pulled
    bool (the Perfex record was pulled from Xero; False when the column is not given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from pxflask.reconcile._text import is_unique_text

__all__ = [
    "DATE_DTYPE",
    "LINKS",
    "PERFEX_INVOICES",
    "PERFEX_PAYMENTS",
    "PERFEX_STATUSES",
    "SCHEMAS",
    "XERO_BILLS",
    "XERO_INVOICES",
    "XERO_INVOICE_STATUSES",
    "XERO_PAYMENTS",
    "XERO_PAYMENT_STATUSES",
    "FrameError",
    "FrameSchema",
    "build_frame",
    "empty_frame",
    "from_cents",
    "links_frame",
    "perfex_invoices_frame",
    "perfex_payments_frame",
    "to_cents",
    "validate_frame",
    "xero_bills_frame",
    "xero_invoices_frame",
    "xero_payments_frame",
]

DATE_DTYPE = "datetime64[us]"
_CENT = Decimal("0.01")
_US_PER_DAY = 86_400_000_000

PERFEX_STATUSES = frozenset(
    {"unpaid", "paid", "partially_paid", "overdue", "cancelled", "draft"}
)
XERO_INVOICE_STATUSES = frozenset(
    {"DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"}
)
XERO_PAYMENT_STATUSES = frozenset({"AUTHORISED", "DELETED"})
LINK_ENTITIES = frozenset({"invoices", "payments"})


class FrameError(ValueError):
    """An input frame does not follow its schema."""


@dataclass(frozen=True)
class FrameSchema:
    """Columns, dtypes and rules of one input frame."""

    name: str
    columns: dict[str, str]
    key: str | None = None
    nullable: frozenset[str] = frozenset()
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)  # filled when absent

    @property
    def money_columns(self) -> list[str]:
        """The ``*_cents`` columns."""
        return [c for c in self.columns if c.endswith("_cents")]


PERFEX_INVOICES = FrameSchema(
    name="perfex_invoices",
    columns={
        "perfex_id": "int64",
        "invoice_number": "str",
        "customer_id": "int64",
        "customer_name": "str",
        "date": DATE_DTYPE,
        "due_date": DATE_DTYPE,
        "currency": "str",
        "subtotal_cents": "int64",
        "tax_cents": "int64",
        "total_cents": "int64",
        "paid_cents": "int64",
        "status": "str",
        "credit_cents": "int64",
    },
    key="perfex_id",
    nullable=frozenset({"due_date", "customer_name"}),
    allowed={"status": PERFEX_STATUSES},
    defaults={"credit_cents": 0},
)

XERO_INVOICES = FrameSchema(
    name="xero_invoices",
    columns={
        "xero_invoice_id": "str",
        "invoice_number": "str",
        "contact_id": "str",
        "contact_name": "str",
        "contact_number": "str",
        "date": DATE_DTYPE,
        "due_date": DATE_DTYPE,
        "currency": "str",
        "subtotal_cents": "int64",
        "tax_cents": "int64",
        "total_cents": "int64",
        "paid_cents": "int64",
        "status": "str",
    },
    key="xero_invoice_id",
    nullable=frozenset(
        {"invoice_number", "contact_id", "contact_name", "contact_number", "due_date"}
    ),
    allowed={"status": XERO_INVOICE_STATUSES},
)

PERFEX_PAYMENTS = FrameSchema(
    name="perfex_payments",
    columns={
        "perfex_payment_id": "int64",
        "perfex_invoice_id": "int64",
        "invoice_number": "str",
        "date": DATE_DTYPE,
        "amount_cents": "int64",
        "currency": "str",
        "mode": "str",
    },
    key="perfex_payment_id",
    nullable=frozenset({"invoice_number", "mode"}),
)

XERO_PAYMENTS = FrameSchema(
    name="xero_payments",
    columns={
        "xero_payment_id": "str",
        "xero_invoice_id": "str",
        "invoice_number": "str",
        "date": DATE_DTYPE,
        "amount_cents": "int64",
        "currency": "str",
        "status": "str",
    },
    key="xero_payment_id",
    nullable=frozenset({"invoice_number"}),
    allowed={"status": XERO_PAYMENT_STATUSES},
)

XERO_BILLS = FrameSchema(
    name="xero_bills",
    columns={
        "xero_bill_id": "str",
        "bill_number": "str",
        "date": DATE_DTYPE,
        "currency": "str",
        "total_cents": "int64",
        "tax_cents": "int64",
        "status": "str",
    },
    key="xero_bill_id",
    nullable=frozenset({"bill_number", "date"}),
    allowed={"status": XERO_INVOICE_STATUSES},
)
"""Xero bills (ACCPAY invoices): kept from the invoice pages for pulled expenses."""

LINKS = FrameSchema(
    name="links",
    columns={"entity": "str", "perfex_id": "int64", "xero_id": "str", "pulled": "bool"},
    allowed={"entity": LINK_ENTITIES},
    defaults={"pulled": False},
)

SCHEMAS: dict[str, FrameSchema] = {
    s.name: s
    for s in (PERFEX_INVOICES, XERO_INVOICES, PERFEX_PAYMENTS, XERO_PAYMENTS, LINKS)
}


def to_cents(amount: Decimal | int | str) -> int:
    """Return an amount as integer cents, rounded half-up at 2 dp, exactly."""
    if isinstance(amount, bool) or isinstance(amount, float):
        raise TypeError(f"money must be Decimal, int or str, not {type(amount)!r}")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return int(value.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))


def from_cents(cents: int) -> Decimal:
    """Return integer cents as a Decimal with 2 dp."""
    return Decimal(int(cents)).scaleb(-2).quantize(_CENT)


def empty_frame(schema: FrameSchema) -> pd.DataFrame:
    """Return an empty frame with the schema's columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in schema.columns.items()})


def _coerce(col: pd.Series, dtype: str, name: str) -> pd.Series:
    """Return ``col`` in ``dtype``; raise FrameError when it cannot be converted."""
    if dtype == "str":
        if isinstance(col.dtype, pd.StringDtype) and col.dtype.na_value is np.nan:
            return col
        return col.astype("str")
    if dtype == DATE_DTYPE:
        if col.dtype != DATE_DTYPE:
            try:
                col = pd.to_datetime(col)
            except (ValueError, TypeError) as exc:
                raise FrameError(f"{name}: not dates ({exc})") from exc
            if getattr(col.dt, "tz", None) is not None:
                col = col.dt.tz_localize(None)
            col = col.astype(DATE_DTYPE)
        ticks = col.to_numpy(dtype=DATE_DTYPE).view(np.int64)
        ticks = ticks[ticks != np.iinfo(np.int64).min]  # NaT
        if not (ticks % _US_PER_DAY).any():  # already at midnight
            return col
        return col.dt.normalize()
    if col.dtype == dtype:
        return col
    if col.dtype.kind == "f":
        raise FrameError(f"{name}: float values; money and ids must be integers")
    if col.hasnans:
        raise FrameError(f"{name}: missing values")
    try:
        return col.astype(dtype)
    except (ValueError, TypeError) as exc:
        raise FrameError(f"{name}: not {dtype} ({exc})") from exc


def _is_unique(values: pd.Series) -> bool:
    """True when the key column has no repeated value."""
    if values.dtype == "int64":
        return bool(values.is_unique)
    return is_unique_text(values)


def validate_frame(
    df: pd.DataFrame, schema: FrameSchema, check_key: bool = True
) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns in its dtypes, or raise."""
    missing = [
        c for c in schema.columns if c not in df.columns and c not in schema.defaults
    ]
    if missing:
        raise FrameError(f"{schema.name}: missing columns {missing}")
    out = {}
    for col, dtype in schema.columns.items():
        name = f"{schema.name}.{col}"
        if col not in df.columns:
            out[col] = pd.Series(np.full(len(df), schema.defaults[col]), dtype=dtype)
            continue
        series = _coerce(df[col], dtype, name)
        if col not in schema.nullable and series.hasnans:
            raise FrameError(f"{name}: missing values")
        allowed = schema.allowed.get(col)
        if allowed is not None:
            bad = ~series.isin(list(allowed))
            if bad.any():
                sample = sorted(set(series[bad].astype(str).head(5)))
                raise FrameError(f"{name}: values not allowed {sample}")
        out[col] = series.reset_index(drop=True)
    frame = pd.DataFrame(out, copy=False)
    if check_key and schema.key is not None and not _is_unique(frame[schema.key]):
        dup = frame[schema.key][frame[schema.key].duplicated()].head(5).tolist()
        raise FrameError(f"{schema.name}.{schema.key}: duplicate ids {dup}")
    return frame


def build_frame(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame, schema: FrameSchema
) -> pd.DataFrame:
    """Build a validated frame from records; Decimal ``total`` fills ``total_cents``."""
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if df.empty and len(df.columns) == 0:
        return empty_frame(schema)
    df = df.copy()
    for col in schema.money_columns:
        plain = col.removesuffix("_cents")
        if col not in df.columns and plain in df.columns:
            df[col] = pd.Series(
                [to_cents(v) for v in df[plain]], index=df.index, dtype="int64"
            )
    return validate_frame(df, schema)


def perfex_invoices_frame(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
) -> pd.DataFrame:
    """Build a validated Perfex invoices frame."""
    return build_frame(records, PERFEX_INVOICES)


def xero_invoices_frame(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
) -> pd.DataFrame:
    """Build a validated Xero invoices frame."""
    return build_frame(records, XERO_INVOICES)


def perfex_payments_frame(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
) -> pd.DataFrame:
    """Build a validated Perfex payments frame."""
    return build_frame(records, PERFEX_PAYMENTS)


def xero_payments_frame(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
) -> pd.DataFrame:
    """Build a validated Xero payments frame."""
    return build_frame(records, XERO_PAYMENTS)


def xero_bills_frame(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
) -> pd.DataFrame:
    """Build a validated Xero bills frame."""
    return build_frame(records, XERO_BILLS)


def links_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Build a validated links frame."""
    return build_frame(records, LINKS)
