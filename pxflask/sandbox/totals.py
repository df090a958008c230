"""Xero's per-line arithmetic: line amounts, discounts, tax and document totals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .serialize import quantize, to_decimal

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")


class LineError(ValueError):
    """A line item that Xero would reject."""


@dataclass
class Totals:
    """Document totals computed from its lines."""

    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    total_discount: Decimal


def _opt_decimal(line: dict[str, Any], key: str) -> Decimal | None:
    """Read an optional numeric field of a line."""
    value = line.get(key)
    if value is None:
        return None
    try:
        return to_decimal(value)
    except ValueError as exc:
        raise LineError(f"{key} must be a number") from exc


def compute_line(
    raw: dict[str, Any],
    line_amount_types: str,
    tax_rate: Decimal,
    unitdp: int,
) -> dict[str, Any]:
    """Return the stored form of one line, with LineAmount and TaxAmount set.

    A TaxAmount sent on the line is kept, as Xero keeps it (it "can be overridden
    if the calculated TaxAmount is not correct"): pxflask/sync/mappers/line_tax.py
    has what was found. It must be a number of the line amount's sign (or zero),
    and none is accepted with NoTax. `_tax_computed` keeps Xero's own figure
    (bank transactions refuse one that differs from it).
    """
    qty = _opt_decimal(raw, "Quantity")
    unit = _opt_decimal(raw, "UnitAmount")
    given_line = _opt_decimal(raw, "LineAmount")
    rate = _opt_decimal(raw, "DiscountRate")
    disc_amount = _opt_decimal(raw, "DiscountAmount")
    if qty is None:
        qty = Decimal(1)
    qty = quantize(qty, 4)
    if unit is None and given_line is not None:
        unit = given_line / qty if qty else ZERO
    if unit is None:
        unit = ZERO
    unit = quantize(unit, 4 if unitdp >= 4 else 2)
    gross = qty * unit
    discount = ZERO
    if rate is not None and rate != 0:
        if rate < 0 or rate > HUNDRED:
            raise LineError("DiscountRate must be between 0 and 100")
        line_amount = quantize(gross * (HUNDRED - rate) / HUNDRED, 2)
        discount = quantize(gross, 2) - line_amount
    elif disc_amount is not None and disc_amount != 0:
        line_amount = quantize(gross - disc_amount, 2)
        discount = quantize(disc_amount, 2)
    else:
        line_amount = quantize(gross, 2)
    if line_amount_types == "NoTax":
        computed = ZERO
    elif line_amount_types == "Inclusive":
        computed = quantize(line_amount * tax_rate / (HUNDRED + tax_rate), 2)
    else:
        computed = quantize(line_amount * tax_rate / HUNDRED, 2)
    given = _given_tax(raw, line_amount_types, line_amount)
    tax = computed if given is None else given
    stored = {
        "LineItemID": raw.get("LineItemID") or str(uuid.uuid4()),
        "Description": raw.get("Description"),
        "Quantity": qty,
        "UnitAmount": unit,
        "ItemCode": raw.get("ItemCode"),
        "AccountCode": raw.get("AccountCode"),
        "AccountID": raw.get("AccountID"),
        "TaxType": raw.get("TaxType"),
        "TaxAmount": tax,
        "LineAmount": line_amount,
        "Tracking": list(raw.get("Tracking") or []),
    }
    if rate is not None:
        stored["DiscountRate"] = quantize(rate, 2)
    if disc_amount is not None:
        stored["DiscountAmount"] = quantize(disc_amount, 2)
    stored["_discount"] = discount
    stored["_tax_computed"] = computed
    stored["_tax_given"] = given is not None
    return stored


def _given_tax(
    raw: dict[str, Any], line_amount_types: str, line_amount: Decimal
) -> Decimal | None:
    """The TaxAmount sent on a line (None: Xero computes it), checked."""
    given = _opt_decimal(raw, "TaxAmount")
    if given is None:
        return None
    given = quantize(given, 2)
    if line_amount_types == "NoTax":
        if given:
            raise LineError("TaxAmount cannot be set when amounts have no tax.")
        return None
    if given and (line_amount == 0 or (given > 0) != (line_amount > 0)):
        raise LineError(
            f"The TaxAmount {given} must have the sign of the line amount"
            f" {line_amount}."
        )
    return given


def compute_totals(lines: list[dict[str, Any]], line_amount_types: str) -> Totals:
    """Sum rounded per-line amounts the way Xero does."""
    line_sum = sum((line["LineAmount"] for line in lines), ZERO)
    tax_sum = sum((line["TaxAmount"] for line in lines), ZERO)
    discount = sum((line.get("_discount", ZERO) for line in lines), ZERO)
    sub_total = line_sum - tax_sum if line_amount_types == "Inclusive" else line_sum
    return Totals(sub_total, tax_sum, sub_total + tax_sum, discount)


def compute_document(
    raw_lines: list[dict[str, Any]],
    line_amount_types: str,
    tax_rate_of: Callable[[dict[str, Any]], Decimal],
    unitdp: int,
) -> tuple[list[dict[str, Any]], Totals]:
    """Compute all lines (tax_rate_of resolves a line's rate) and the totals."""
    lines = [
        compute_line(raw, line_amount_types, tax_rate_of(raw), unitdp)
        for raw in raw_lines
    ]
    return lines, compute_totals(lines, line_amount_types)
