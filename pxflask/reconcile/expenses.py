"""Expense reconciliation: Perfex expenses against Xero SPEND transactions and bills.

Matching: the sync's ``expenses`` links (Perfex id -> BankTransactionID) first, then
the line marker the mapper writes (``(Perfex expense N)``, next to the Reference);
``matched_by`` says which.  Only Xero transactions that look like pxflask's take part
(linked, or carrying the marker): other SPEND transactions (bank fees, card charges
entered in Xero) are not flagged ``only_in_xero``.

Bills: an expense pulled from a Xero bill (ACCPAY) is paired with that bill by the
pull's link (``Bills``); ``matched_by`` is ``bill`` and the bill's InvoiceID stands
in the Xero id column.  The same checks apply.  Bills no expense was pulled from are
no rows: Perfex expenses are not a register of bills.

Checks (tolerance in cents as for invoices: amounts differ when ``|diff| > tol``):
``missing_in_xero`` (no Xero transaction), ``only_in_xero`` (a live pxflask-looking
transaction with no Perfex expense), ``deleted_in_xero`` (matched, but DELETED or
VOIDED in Xero while Perfex still has it), and on live pairs ``total_differs``,
``date_differs``, ``currency_differs``.  Money at stake: the absolute difference for
``total_differs``, the Xero total for ``only_in_xero``, else the Perfex total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from pxflask.reconcile.checks import CheckResult, describe, folded
from pxflask.reconcile.origin import origin_column
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.stake import (
    TOTAL_SCOPE,
    category_rows,
    summary_frame,
    total_rows,
)

__all__ = [
    "BILL_MATCH",
    "EXPENSE_CATEGORIES",
    "Bills",
    "EXPENSE_COLUMNS",
    "check_expenses",
    "expense_rows",
    "in_window",
    "reconcile_expenses",
    "take_at",
    "with_bill_rows",
    "with_expenses",
    "with_scope",
]

EXPENSE_CATEGORIES = (
    "missing_in_xero",
    "only_in_xero",
    "total_differs",
    "date_differs",
    "currency_differs",
    "deleted_in_xero",
)
EXPENSE_COLUMNS = (
    "perfex_expense_id",
    "xero_bank_transaction_id",
    "matched_by",
    "origin",
    "reference",
    "perfex_date",
    "xero_date",
    "xero_status",
    "currency",
    "perfex_currency",
    "xero_currency",
    "perfex_total_cents",
    "xero_total_cents",
    "money_at_stake_cents",
    "discrepancy",
)
_DEAD = ("DELETED", "VOIDED")
_ORDER = ["perfex_expense_id", "xero_bank_transaction_id"]
BILL_MATCH = "bill"
"""``matched_by`` of an expense paired with the Xero bill it was pulled from."""


@dataclass(frozen=True)
class Bills:
    """The expenses pulled from Xero bills, the bills and the pull's links."""

    perfex: pd.DataFrame  # PERFEX_EXPENSE_COLUMNS
    xero: pd.DataFrame  # XERO_EXPENSE_COLUMNS (the InvoiceID as xero_id)
    links: Mapping[int, str]  # Perfex expense id -> InvoiceID


def _pairs(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: Mapping[int, str]
) -> tuple[list[int], list[int], list[str]]:
    """Positions of matched (perfex, xero) rows (-1 for none) and the method."""
    x_pos = {x: i for i, x in enumerate(xero["xero_id"].tolist())}
    used: set[int] = set()
    p_at, x_at, method = [], [], []
    by_marker: dict[int, int] = {}
    for i, m in enumerate(xero["marker_id"].tolist()):
        if not pd.isna(m):
            by_marker.setdefault(int(m), i)
    pending = []
    for p, key in enumerate(perfex["perfex_expense_id"].tolist()):
        at = x_pos.get(links.get(int(key), ""), -1)
        if at >= 0 and at not in used:
            used.add(at)
            p_at.append(p)
            x_at.append(at)
            method.append("link")
        else:
            pending.append((p, int(key)))
    for p, key in pending:
        at = by_marker.get(key, -1)
        ok = at >= 0 and at not in used
        if ok:
            used.add(at)
        p_at.append(p)
        x_at.append(at if ok else -1)
        method.append("marker" if ok else "")
    linked = set(links.values())
    for i, (xid, m) in enumerate(
        zip(xero["xero_id"].tolist(), xero["marker_id"].tolist(), strict=True)
    ):
        if i not in used and (xid in linked or not pd.isna(m)):
            p_at.append(-1)
            x_at.append(i)
            method.append("")
    return p_at, x_at, method


def take_at(col: pd.Series, pos: np.ndarray) -> pd.Series:
    """Values of ``col`` at ``pos``; -1 gives a missing value."""
    if len(col) == 0:  # an empty side: a missing value of the column's kind
        col = pd.Series([None], dtype="Int64" if col.dtype == np.int64 else col.dtype)
    taken = col.take(np.where(pos < 0, 0, pos)).reset_index(drop=True)
    if col.dtype == np.int64:
        taken = taken.astype("Int64")
    return taken.mask(pd.Series(pos < 0))


def expense_rows(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: Mapping[int, str]
) -> pd.DataFrame:
    """One side-by-side row per expense found on either side (unchecked)."""
    p_at, x_at, method = _pairs(perfex, xero, links)
    p, x = np.asarray(p_at, np.int64), np.asarray(x_at, np.int64)
    p_cur, x_cur = take_at(perfex["currency"], p), take_at(xero["currency"], x)
    rows = pd.DataFrame(
        {
            "perfex_expense_id": take_at(perfex["perfex_expense_id"], p),
            "xero_bank_transaction_id": take_at(xero["xero_id"], x).astype("str"),
            "matched_by": pd.Series(method, dtype="str"),
            "origin": origin_column(
                take_at(perfex["perfex_expense_id"], p),
                take_at(xero["xero_id"], x),
                links,
                take_at(xero["marker_id"], x),
            ),
            "reference": take_at(perfex["reference"], p)
            .fillna(take_at(xero["reference"], x))
            .astype("str"),
            "perfex_date": take_at(perfex["date"], p),
            "xero_date": take_at(xero["date"], x),
            "xero_status": take_at(xero["status"], x).astype("str"),
            "currency": p_cur.fillna(x_cur).astype("str"),
            "perfex_currency": p_cur.astype("str"),
            "xero_currency": x_cur.astype("str"),
            "perfex_total_cents": take_at(perfex["total_cents"], p),
            "xero_total_cents": take_at(xero["total_cents"], x),
        }
    )
    return rows.sort_values(_ORDER, na_position="last").reset_index(drop=True)


def with_bill_rows(rows: pd.DataFrame, bills: Bills) -> pd.DataFrame:
    """``rows`` and those of the expenses pulled from bills, paired with the bills."""
    more = expense_rows(bills.perfex, bills.xero, bills.links)
    more["matched_by"] = more["matched_by"].mask(
        more["matched_by"] == "link", BILL_MATCH
    )
    both = pd.concat([rows, more], ignore_index=True)
    return both.sort_values(_ORDER, na_position="last").reset_index(drop=True)


def check_expenses(rows: pd.DataFrame, tolerance_cents: int = 1) -> CheckResult:
    """Flag expense rows (the frame of ``expense_rows``)."""
    has_p = rows["perfex_expense_id"].notna().to_numpy(bool)
    has_x = rows["xero_bank_transaction_id"].notna().to_numpy(bool)
    dead = rows["xero_status"].isin(_DEAD).to_numpy(bool)
    live = has_p & has_x & ~dead
    p_total = rows["perfex_total_cents"].to_numpy(np.int64, na_value=0)
    x_total = rows["xero_total_cents"].to_numpy(np.int64, na_value=0)
    diff = np.abs(p_total - x_total)
    same_day = (rows["perfex_date"] == rows["xero_date"]).to_numpy(bool)
    same_cur = (
        rows["perfex_currency"].str.upper() == rows["xero_currency"].str.upper()
    ).to_numpy(bool, na_value=False)
    masks = {
        "missing_in_xero": has_p & ~has_x,
        "only_in_xero": has_x & ~has_p & ~dead,
        "total_differs": live & (diff > tolerance_cents),
        "date_differs": live & ~same_day,
        "currency_differs": live & ~same_cur,
        "deleted_in_xero": has_p & has_x & dead,
    }
    money = dict.fromkeys(EXPENSE_CATEGORIES, p_total)
    money["only_in_xero"] = x_total
    money["total_differs"] = diff
    return folded(EXPENSE_CATEGORIES, masks, money)


def in_window(
    rows: pd.DataFrame, date_from: dt.date | None, date_to: dt.date | None
) -> pd.DataFrame:
    """Rows dated (on either side) within the window."""
    if date_from is None and date_to is None:
        return rows
    keep = np.zeros(len(rows), bool)
    for col in ("perfex_date", "xero_date"):
        ok = rows[col].notna()
        if date_from is not None:
            ok &= rows[col] >= pd.Timestamp(date_from)
        if date_to is not None:
            ok &= rows[col] <= pd.Timestamp(date_to)
        keep |= ok.to_numpy(bool)
    return rows[keep].reset_index(drop=True)


def reconcile_expenses(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: Mapping[int, str],
    tolerance_cents: int = 1,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    bills: Bills | None = None,
) -> tuple[pd.DataFrame, CheckResult]:
    """Matched, windowed and checked expense rows (``EXPENSE_COLUMNS``).

    ``bills``: the expenses pulled from Xero bills, checked against the bills.
    """
    rows = expense_rows(perfex, xero, links)
    if bills is not None:
        rows = with_bill_rows(rows, bills)
    return checked_rows(
        rows, check_expenses, tolerance_cents, date_from, date_to, EXPENSE_COLUMNS
    )


def checked_rows(
    rows: pd.DataFrame,
    check: Callable[[pd.DataFrame, int], CheckResult],
    tolerance_cents: int,
    date_from: dt.date | None,
    date_to: dt.date | None,
    columns: tuple[str, ...],
) -> tuple[pd.DataFrame, CheckResult]:
    """A scope's side-by-side rows windowed, checked and described (``columns``)."""
    rows = in_window(rows, date_from, date_to)
    result = check(rows, tolerance_cents)
    rows["money_at_stake_cents"] = result.row_money()
    rows["discrepancy"] = describe(result)
    return rows[list(columns)], result


def with_scope(
    report: ReconciliationReport, scope: str, rows: pd.DataFrame, result: CheckResult
) -> ReconciliationReport:
    """The report with an optional scope's rows, summary rows and the new totals."""
    summary = report.summary
    categories = summary[summary["scope"].astype("str") != TOTAL_SCOPE]
    mine = category_rows(scope, rows, result)
    report = replace(report, **{scope: rows})
    totals = total_rows(
        [report.invoices, report.payments]
        + [getattr(report, name) for name in OPTIONAL_SCOPES]
    )
    return replace(
        report,
        summary=pd.concat(
            [categories, summary_frame(mine + totals)], ignore_index=True
        ),
        summary_by_currency=pd.concat(
            [report.summary_by_currency, summary_frame([r for r in mine if r[3]])],
            ignore_index=True,
        ),
    )


def with_expenses(
    report: ReconciliationReport, rows: pd.DataFrame, result: CheckResult
) -> ReconciliationReport:
    """The report with the expense rows, their summary rows and the new totals."""
    return with_scope(report, "expenses", rows, result)
