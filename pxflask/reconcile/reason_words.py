"""Row reasons in plain words: where a scope's records live and what differs.

``Scope`` names a scope's link entity, key columns and URL patterns; ``what`` writes
the differences of one flagged row from its columns and category codes (``reasons``
adds the why, the action and the links).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.glossary import GLOSSARY

__all__ = ["Scope", "cell_text", "what"]


@dataclass(frozen=True)
class Scope:
    """Where a scope's records live: link entity, key columns and URL patterns."""

    entity: str
    noun: str
    key: str
    xero_id: str
    perfex_path: str
    xero_url: str
    number: str | None = None


def cell_text(value: Any) -> str:
    """A cell as text ('' for missing)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _money(value: Any) -> str:
    """Cents as 2-dp text ('none' when missing)."""
    text = cell_text(value)
    return str(from_cents(int(value))) if text else "none"


def _pair(row: dict[str, Any], label: str, name: str, money: bool = False) -> str:
    """'Label: Perfex a, Xero b'."""
    show = _money if money else (lambda v: cell_text(v) or "none")
    suffix = "_cents" if money else ""
    p, x = row.get(f"perfex_{name}{suffix}"), row.get(f"xero_{name}{suffix}")
    currency = cell_text(row.get("currency"))
    cur = f" {currency}" if money and currency else ""
    return f"{label}: Perfex {show(p)}{cur}, Xero {show(x)}{cur}"


def _upper_first(text: str) -> str:
    """The text with its first letter upper-case (the rest kept)."""
    return text[:1].upper() + text[1:]


_CONVERSION = ("invoice_not_in_xero", "quote_not_invoiced", "invoiced_total_differs")
"""The estimates scope's checks of an estimate converted to an invoice."""


def _converted(code: str, label: str, row: dict[str, Any]) -> str:
    """The words of one conversion check (estimates scope)."""
    invoice = f"Perfex invoice {cell_text(row.get('perfex_invoice_id'))}"
    if code == "invoice_not_in_xero":
        return f"{_upper_first(label)} became {invoice}, which has no Xero invoice"
    if code == "quote_not_invoiced":
        status = cell_text(row.get("xero_status")) or "missing"
        return f"{_upper_first(label)} became {invoice}; the Xero quote is {status}"
    cur = cell_text(row.get("currency"))
    return (
        f"{invoice}, made from {label}, totals"
        f" {_money(row.get('perfex_invoice_total_cents'))} {cur}; the estimate"
        f" {_money(row.get('perfex_total_cents'))} {cur}"
    )


def what(scope: Scope, row: dict[str, Any], codes: list[str]) -> str:
    """The differences of one row in plain words."""
    number = cell_text(row.get(scope.number)) if scope.number else ""
    label = (
        f"{scope.noun} {number}".strip()
        if scope.entity != "payments"
        else (f"payment on invoice {number}" if number else "payment")
    )
    amount = "total" if scope.entity != "payments" else "amount"
    parts = []
    for code in codes:
        if code in _CONVERSION:
            parts.append(_converted(code, label, row))
        elif code == "missing_in_xero":
            deleted = cell_text(row.get("xero_status")) == "DELETED"
            state = "deleted in Xero" if deleted else "not in Xero"
            parts.append(
                f"{_upper_first(label)} ({_money(row.get(f'perfex_{amount}_cents'))}"
                f" {cell_text(row.get('currency'))}) is in Perfex, {state}"
            )
        elif code == "only_in_xero":
            parts.append(
                f"{_upper_first(label)} ({_money(row.get(f'xero_{amount}_cents'))}"
                f" {cell_text(row.get('currency'))}) is in Xero, not in Perfex"
            )
        elif code == "credit_not_synced":
            parts.append(
                f"{_money(row.get('perfex_credit_cents'))}"
                f" {cell_text(row.get('currency'))}"
                f" of credit applied to {label} in Perfex; credit notes are not synced"
            )
        elif code == "duplicate_in_xero":
            parts.append(f"A second live Xero copy of {label}")
        elif code == "deleted_in_xero":
            parts.append(f"{_upper_first(label)} is deleted in Xero, not in Perfex")
        elif code in ("status_differs", "currency_differs", "date_differs"):
            name = code.removesuffix("_differs")
            parts.append(_pair(row, name.capitalize(), name))
        elif code.endswith("_differs"):
            name = code.removesuffix("_differs")
            title = (
                GLOSSARY[code].title.removesuffix(" differs")
                if code in GLOSSARY
                else name
            )
            parts.append(_pair(row, title, name, money=True))
    return "; ".join(parts)
