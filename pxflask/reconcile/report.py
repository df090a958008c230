"""The reconciliation report: side-by-side rows (rows), checks, summary, totals.

All money in the report frames is integer cents in ``*_cents`` columns (nullable
``Int64`` where a side may be absent); ``export`` writes it as 2-dp decimals.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from pxflask.reconcile._text import codes_unique
from pxflask.reconcile.checks import (
    INVOICE_CATEGORIES,
    PAYMENT_CATEGORIES,
    CheckResult,
    check_invoices,
    check_payments,
    describe,
)
from pxflask.reconcile.frames import (
    LINKS,
    PERFEX_INVOICES,
    PERFEX_PAYMENTS,
    XERO_INVOICES,
    XERO_PAYMENTS,
    FrameError,
    FrameSchema,
    empty_frame,
    validate_frame,
)
from pxflask.reconcile.match import match_invoices, xero_ids
from pxflask.reconcile.rows import (
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    invoice_frame,
    invoice_rows,
    payment_frame,
    payment_rows,
)
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.stake import (
    category_rows,
    counted_on_invoice,
    summary_frame,
    total_rows,
)
from pxflask.reconcile.totals import (
    POSTED_PERFEX_STATUSES,
    POSTED_XERO_STATUSES,
    side_totals,
)

__all__ = [
    "INVOICE_CATEGORIES",
    "INVOICE_COLUMNS",
    "PAYMENT_CATEGORIES",
    "PAYMENT_COLUMNS",
    "POSTED_PERFEX_STATUSES",
    "POSTED_XERO_STATUSES",
    "ReconciliationReport",
    "invoice_rows",
    "payment_rows",
    "reconcile",
    "tolerance_cents",
]


@dataclass(frozen=True)
class ReconciliationReport:
    """Result of ``reconcile``; every frame's money is in integer cents."""

    invoices: pd.DataFrame  # INVOICE_COLUMNS, one row per invoice on either side
    payments: pd.DataFrame  # PAYMENT_COLUMNS, one row per payment on either side
    summary: pd.DataFrame  # stake.SUMMARY_COLUMNS: per currency, then the totals
    summary_by_currency: pd.DataFrame  # the category rows with a count, no totals
    by_month: pd.DataFrame  # month, currency + _TOTAL_COLUMNS
    by_currency: pd.DataFrame  # currency + _TOTAL_COLUMNS
    by_customer: pd.DataFrame  # customer_key, customer_name, currency + totals
    tolerance: Decimal
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    expenses: pd.DataFrame | None = None  # reconcile.expenses rows, when enabled
    credits_synced: bool = True  # False: Perfex credits are not expected in Xero
    credit_notes: pd.DataFrame | None = None  # reconcile.credit_notes, when synced
    refunds: pd.DataFrame | None = None  # reconcile.refunds, when synced
    estimates: pd.DataFrame | None = None  # reconcile.estimates, when synced

    @property
    def has_discrepancies(self) -> bool:
        """True when any category has at least one row."""
        return bool(self.summary["count"].sum() > 0)

    def discrepancies(self, scope: str = "invoices") -> pd.DataFrame:
        """The rows of ``scope`` (invoices, payments, expenses, ...) with one."""
        frame = self.invoices if scope == "invoices" else self.payments
        if scope in OPTIONAL_SCOPES:
            extra = getattr(self, scope)
            frame = extra if extra is not None else frame[:0]
        return frame[frame["discrepancy"] != ""]


def tolerance_cents(tolerance: Decimal | str | int | float) -> int:
    """Whole cents a difference may reach and still agree (``|diff| > tol`` differs)."""
    value = Decimal(str(tolerance)) if isinstance(tolerance, float) else tolerance
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise ValueError(f"tolerance must be a non-negative amount, not {tolerance!r}")
    return int((value * 100).to_integral_value(rounding=ROUND_FLOOR))


def _in_window(
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> np.ndarray:
    """Rows whose date on either side lies in [date_from, date_to]."""
    keep = np.zeros(len(frame), bool)
    lo = np.datetime64(date_from, "us") if date_from is not None else None
    hi = np.datetime64(date_to, "us") if date_to is not None else None
    for col in columns:
        days = frame[col].to_numpy(dtype="datetime64[us]")
        ok = ~np.isnat(days)
        if lo is not None:
            ok &= days >= lo
        if hi is not None:
            ok &= days <= hi
        keep |= ok
    return keep


def _apply_checks(frame: pd.DataFrame, result: CheckResult) -> pd.DataFrame:
    """Write the discrepancy and money-at-stake columns of the checked rows."""
    frame["discrepancy"] = describe(result)
    frame["money_at_stake_cents"] = result.row_money()
    return frame


def _window(
    frame: pd.DataFrame, date_from: dt.date | None, date_to: dt.date | None
) -> pd.DataFrame:
    """Rows of an input frame dated within the window."""
    if date_from is None and date_to is None:
        return frame
    return frame[_in_window(frame, ("date",), date_from, date_to)]


def _check_key(frame: pd.DataFrame, schema: FrameSchema, codes: np.ndarray) -> None:
    """Raise FrameError when the frame's text key repeats (codes of the key)."""
    if codes_unique(codes):
        return
    key = frame[schema.key]
    dup = key[key.duplicated()].head(5).tolist()
    raise FrameError(f"{schema.name}.{schema.key}: duplicate ids {dup}")


def reconcile(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex_payments: pd.DataFrame | None = None,
    xero_payments: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    tolerance: Decimal | str | int = Decimal(0),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    credits_synced: bool = True,
) -> ReconciliationReport:
    """Compare Perfex against Xero and build the report.

    Matching runs over everything given; the date window then keeps the rows dated
    (on either side) within ``[date_from, date_to]``, and the totals count the
    invoices dated within it.  ``credits_synced=False`` (the credit-notes entity is
    off): credits applied in Perfex are not expected in Xero (``credit_not_synced``).
    """
    tol = tolerance_cents(tolerance)
    with ThreadPoolExecutor(1, "pxflask-totals") as pool:
        return _reconcile(
            pool,
            perfex_invoices,
            xero_invoices,
            perfex_payments,
            xero_payments,
            links,
            tolerance,
            tol,
            date_from,
            date_to,
            credits_synced,
        )


def _reconcile(
    pool: ThreadPoolExecutor,
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex_payments: pd.DataFrame | None,
    xero_payments: pd.DataFrame | None,
    links: pd.DataFrame | None,
    tolerance: Decimal | str | int,
    tol: int,
    date_from: dt.date | None,
    date_to: dt.date | None,
    credits_synced: bool = True,
) -> ReconciliationReport:
    """The body of ``reconcile``; totals and payment rows are made on ``pool``."""
    p_inv = validate_frame(perfex_invoices, PERFEX_INVOICES)
    x_inv = validate_frame(xero_invoices, XERO_INVOICES, check_key=False)
    p_pay = validate_frame(
        empty_frame(PERFEX_PAYMENTS) if perfex_payments is None else perfex_payments,
        PERFEX_PAYMENTS,
    )
    x_pay = validate_frame(
        empty_frame(XERO_PAYMENTS) if xero_payments is None else xero_payments,
        XERO_PAYMENTS,
        check_key=False,
    )
    lk = None if links is None else validate_frame(links, LINKS)
    # numpy and Arrow release the GIL in their kernels: the totals overlap the match
    totals = pool.submit(
        side_totals,
        _window(p_inv, date_from, date_to),
        _window(x_inv, date_from, date_to),
    )
    ids = xero_ids(x_inv, x_pay, lk)
    _check_key(x_inv, XERO_INVOICES, ids.invoice)
    _check_key(x_pay, XERO_PAYMENTS, ids.payment)

    im = match_invoices(p_inv, x_inv, lk, ids)
    # the payment rows are matched and gathered on the pool (after the totals)
    # while this thread gathers the invoice rows
    payment_job = pool.submit(payment_frame, p_inv, x_inv, im, p_pay, x_pay, lk, ids)
    invoices = invoice_frame(
        p_inv, x_inv, im.perfex_pos, im.xero_pos, im.method, im.extra, lk
    )
    payments = payment_job.result()

    if date_from is not None or date_to is not None:
        window = ("perfex_date", "xero_date")
        invoices = invoices[_in_window(invoices, window, date_from, date_to)]
        payments = payments[_in_window(payments, window, date_from, date_to)]
        invoices = invoices.reset_index(drop=True)
        payments = payments.reset_index(drop=True)

    inv_result = check_invoices(invoices, tol, credits_synced)
    pay_result = check_payments(payments, tol)
    invoices = _apply_checks(invoices, inv_result)
    payments = _apply_checks(payments, pay_result)
    payments["counted_on_invoice"] = counted_on_invoice(invoices, inv_result, payments)

    rows = category_rows("invoices", invoices, inv_result)
    rows += category_rows("payments", payments, pay_result)
    summary_by_currency = summary_frame([r for r in rows if r[3]])
    summary = summary_frame(rows + total_rows([invoices, payments]))

    by_month, by_currency, by_customer = totals.result()
    return ReconciliationReport(
        invoices=invoices,
        payments=payments,
        summary=summary,
        summary_by_currency=summary_by_currency,
        by_month=by_month,
        by_currency=by_currency,
        by_customer=by_customer,
        tolerance=Decimal(str(tolerance))
        if not isinstance(tolerance, Decimal)
        else tolerance,
        date_from=date_from,
        date_to=date_to,
        credits_synced=credits_synced,
    )
