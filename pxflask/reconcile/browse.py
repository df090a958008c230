"""Filter and page the report's rows for display (the web page; no Flask)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pxflask.reconcile.checks import INVOICE_CATEGORIES, PAYMENT_CATEGORIES
from pxflask.reconcile.credit_notes import CREDIT_NOTE_COLUMNS, credit_notes_note
from pxflask.reconcile.estimates import ESTIMATE_COLUMNS
from pxflask.reconcile.export import public_frame
from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.origin import ORIGIN, ORIGINS
from pxflask.reconcile.reasons import REASON_COLUMNS, is_safe_url
from pxflask.reconcile.refunds import REFUND_COLUMNS
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.stake import (
    CREDITS_OFF,
    DEFINITION,
    TOTAL_SCOPE,
    stake_by_currency,
)

__all__ = [
    "ANY",
    "PER_PAGE",
    "SCOPES",
    "Cards",
    "Filters",
    "Page",
    "cards",
    "categories_of",
    "credit_note_table",
    "expense_table",
    "refund_table",
    "estimate_table",
    "filter_rows",
    "page_of",
]

ANY = "any"
PER_PAGE = 50
EXPENSE_ROWS = 200
SCOPES = ("invoices", "payments")
_LEAD = ("discrepancy", *REASON_COLUMNS)
"""First on the page: the categories, then what, why, what to do and the links."""
_EXPENSE_SHOWN = (
    *_LEAD,
    "origin",
    "perfex_expense_id",
    "xero_bank_transaction_id",
    "reference",
    "perfex_date",
    "xero_date",
    "currency",
    "perfex_total_cents",
    "xero_total_cents",
    "xero_status",
    "matched_by",
    "money_at_stake_cents",
)
_CREDIT_NOTE_HIDDEN = (
    "xero_date",
    "perfex_currency",
    "xero_currency",
    "xero_invoice_ids",
)
_CREDIT_NOTE_SHOWN = (
    *_LEAD,
    *(c for c in CREDIT_NOTE_COLUMNS if c not in (*_LEAD, *_CREDIT_NOTE_HIDDEN)),
)
_REFUND_SHOWN = (
    *_LEAD,
    *(c for c in REFUND_COLUMNS if c not in (*_LEAD, "xero_credit_note_id")),
)
_ESTIMATE_SHOWN = (
    *_LEAD,
    *(c for c in ESTIMATE_COLUMNS if c not in (*_LEAD, "xero_reference")),
)
_SEARCH = {
    "invoices": (
        "invoice_number",
        "customer_name",
        "contact_name",
        "xero_invoice_id",
        "perfex_id",
    ),
    "payments": (
        "invoice_number",
        "perfex_payment_id",
        "xero_payment_id",
        "perfex_invoice_id",
    ),
}
_SHOWN = {
    "invoices": (
        *_LEAD,
        "invoice_number",
        "origin",
        "perfex_id",
        "xero_invoice_id",
        "customer_name",
        "contact_name",
        "perfex_date",
        "xero_date",
        "currency",
        "perfex_total_cents",
        "xero_total_cents",
        "perfex_paid_cents",
        "xero_paid_cents",
        "perfex_status",
        "xero_status",
        "matched_by",
        "money_at_stake_cents",
    ),
    "payments": (
        *_LEAD,
        "invoice_number",
        "origin",
        "perfex_payment_id",
        "xero_payment_id",
        "perfex_date",
        "xero_date",
        "currency",
        "perfex_amount_cents",
        "xero_amount_cents",
        "xero_status",
        "matched_by",
        "money_at_stake_cents",
    ),
}


def categories_of(scope: str) -> tuple[str, ...]:
    """The discrepancy categories of a scope."""
    return INVOICE_CATEGORIES if scope == "invoices" else PAYMENT_CATEGORIES


@dataclass(frozen=True)
class Filters:
    """What the table shows: scope, category ('' all rows, 'any'), currency, text."""

    scope: str = "invoices"
    category: str = ANY
    currency: str = ""
    text: str = ""
    page: int = 1
    origin: str = ""
    """'' every row, else one of ``ORIGINS``: made in Xero or in Perfex."""

    @classmethod
    def parse(cls, args: Any) -> Filters:
        """Filters from query arguments; unknown values fall back to defaults."""
        scope = args.get("scope", "invoices")
        scope = scope if scope in SCOPES else "invoices"
        category = args.get("category", ANY)
        if category not in ("", ANY, *categories_of(scope)):
            category = ANY
        currency = (args.get("currency") or "").strip().upper()[:3]
        text = (args.get("q") or "").strip()[:100]
        try:
            page = max(1, int(args.get("page") or 1))
        except (TypeError, ValueError):
            page = 1
        origin = args.get("origin") or ""
        origin = origin if origin in ORIGINS else ""
        return cls(scope, category, currency, text, page, origin)

    def query(self, **changes: Any) -> dict[str, Any]:
        """Query arguments of these filters with some changed (for links)."""
        out = {
            "scope": self.scope,
            "category": self.category,
            "currency": self.currency,
            "q": self.text,
            "origin": self.origin,
            "page": self.page,
        }
        out.update(changes)
        return {k: v for k, v in out.items() if v not in ("", None)}


def filter_rows(report: ReconciliationReport, filters: Filters) -> pd.DataFrame:
    """The rows of the filters' scope that match category, currency and text."""
    frame = report.invoices if filters.scope == "invoices" else report.payments
    keep = np.ones(len(frame), bool)
    discrepancy = frame["discrepancy"].astype("str")
    if filters.category == ANY:
        keep &= (discrepancy != "").to_numpy()
    elif filters.category:
        parts = discrepancy.str.split(";")
        keep &= parts.map(lambda p: filters.category in p).to_numpy(bool)
    if filters.currency:
        keep &= (frame["currency"].astype("str") == filters.currency).to_numpy()
    if filters.origin and ORIGIN in frame.columns:  # old cached reports have none
        origin = frame[ORIGIN].astype("str")
        keep &= (origin == filters.origin).to_numpy(bool, na_value=False)
    if filters.text:
        needle = filters.text.lower()
        hit = np.zeros(len(frame), bool)
        for col in _SEARCH[filters.scope]:
            text = frame[col].astype("str").str.lower()
            hit |= text.str.contains(needle, regex=False).fillna(False).to_numpy(bool)
        keep &= hit
    return frame[keep]


@dataclass(frozen=True)
class Page:
    """One page of display rows."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def _display(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows as exported (``public_frame``), dates as ISO, missing as ''."""
    shown = public_frame(frame[list(columns)])
    out: dict[str, list[Any]] = {}
    for name in shown.columns:
        series = shown[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[name] = series.dt.strftime("%Y-%m-%d").fillna("").tolist()
        else:
            out[name] = ["" if pd.isna(v) else str(v) for v in series.tolist()]
        if name.endswith("_url"):  # only http(s) and panel paths become links
            out[name] = [v if is_safe_url(v) else "" for v in out[name]]
    names = list(out)
    return [
        dict(zip(names, values, strict=True))
        for values in zip(*out.values(), strict=True)
    ]


def page_of(
    frame: pd.DataFrame, scope: str, page: int, per_page: int = PER_PAGE
) -> Page:
    """The requested page (clamped) of filtered rows, ready to display."""
    total = len(frame)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    part = frame.iloc[(page - 1) * per_page : page * per_page]
    columns = tuple(c for c in _SHOWN[scope] if c in frame.columns)  # old caches
    names = tuple(c.removesuffix("_cents") for c in columns)
    return Page(names, _display(part, columns), total, page, pages)


@dataclass(frozen=True)
class Cards:
    """The figures of the summary cards."""

    invoices: int
    invoices_bad: int
    payments: int
    payments_bad: int
    at_stake: list[tuple[str, str]]  # (currency, amount): each amount once
    categories: list[tuple[str, str, int, str]]  # scope, category, count, money
    expenses: int | None = None  # None when expenses are not reconciled
    expenses_bad: int = 0
    definition: str = DEFINITION  # what money at stake means
    credits_note: str = ""  # why Perfex credits are not compared, when they are not
    credit_notes: int | None = None  # None when credit notes are not compared
    credit_notes_bad: int = 0
    credit_notes_note: str = ""  # the scope is off: says so instead of flags
    refunds: int | None = None  # None when refunds are not compared
    refunds_bad: int = 0
    estimates: int | None = None  # None when estimates are not compared
    estimates_bad: int = 0


def cards(report: ReconciliationReport) -> Cards:
    """Counts of compared and flagged rows, money at stake per currency (once)."""
    summary = report.summary
    flagged_rows = summary[(summary["count"] > 0) & (summary["scope"] != TOTAL_SCOPE)]
    money: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in flagged_rows.itertuples(index=False):
        key = (str(r.scope), str(r.category))
        counts[key] = counts.get(key, 0) + int(r.count)
        amount = f"{from_cents(r.money_at_stake_cents)} {r.currency}".strip()
        money.setdefault(key, []).append(amount)
    return Cards(
        invoices=len(report.invoices),
        invoices_bad=int((report.invoices["discrepancy"].astype("str") != "").sum()),
        payments=len(report.payments),
        payments_bad=int((report.payments["discrepancy"].astype("str") != "").sum()),
        at_stake=[(c, str(from_cents(v))) for c, v in stake_by_currency(summary)],
        categories=[
            (scope, category, n, " · ".join(money[(scope, category)]))
            for (scope, category), n in counts.items()
        ],
        expenses=None if report.expenses is None else len(report.expenses),
        expenses_bad=0
        if report.expenses is None
        else int((report.expenses["discrepancy"].astype("str") != "").sum()),
        credits_note="" if report.credits_synced else CREDITS_OFF,
        credit_notes=None if report.credit_notes is None else len(report.credit_notes),
        credit_notes_bad=len(report.discrepancies("credit_notes")),
        credit_notes_note=credit_notes_note(report),
        refunds=None if report.refunds is None else len(report.refunds),
        refunds_bad=len(report.discrepancies("refunds")),
        estimates=None if report.estimates is None else len(report.estimates),
        estimates_bad=len(report.discrepancies("estimates")),
    )


def expense_table(report: ReconciliationReport, limit: int = EXPENSE_ROWS) -> Page:
    """The expense rows with a discrepancy (at most ``limit``), ready to display."""
    return _scope_table(report, "expenses", _EXPENSE_SHOWN, limit)


def credit_note_table(report: ReconciliationReport, limit: int = EXPENSE_ROWS) -> Page:
    """The flagged credit note rows (at most ``limit``), discrepancy first."""
    return _scope_table(report, "credit_notes", _CREDIT_NOTE_SHOWN, limit)


def refund_table(report: ReconciliationReport, limit: int = EXPENSE_ROWS) -> Page:
    """The flagged refund rows (at most ``limit``), discrepancy first."""
    return _scope_table(report, "refunds", _REFUND_SHOWN, limit)


def estimate_table(report: ReconciliationReport, limit: int = EXPENSE_ROWS) -> Page:
    """The flagged estimate rows (at most ``limit``), discrepancy first."""
    return _scope_table(report, "estimates", _ESTIMATE_SHOWN, limit)


def _scope_table(
    report: ReconciliationReport, scope: str, shown_columns: tuple[str, ...], limit: int
) -> Page:
    """The flagged rows of an optional scope (at most ``limit``), ready to display."""
    frame = report.discrepancies(scope)
    shown = frame.head(limit)
    columns = tuple(c for c in shown_columns if c in frame.columns)
    names = tuple(c.removesuffix("_cents") for c in columns)
    return Page(names, _display(shown, columns), len(frame), 1, 1)
