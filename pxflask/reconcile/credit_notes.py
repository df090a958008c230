"""Credit-note reconciliation: Perfex credit notes against Xero ACCRECCREDIT.

Matching: the sync's ``credit-notes`` links (Perfex id -> CreditNoteID) first, then
the Reference the mapper writes (``PX-CN-<id>``), then the credit note number;
``matched_by`` says which.  Every live Xero ACCRECCREDIT takes part: one entered in
Xero directly is ``only_in_xero`` (it moves the receivables like an invoice).

Checks (tolerance in cents as for invoices: amounts differ when ``|diff| > tol``):
``missing_in_xero`` (an open or closed Perfex credit note with no Xero one),
``only_in_xero`` (a live Xero credit note with no Perfex one), ``deleted_in_xero``
(Perfex has it, Xero voided or deleted it), ``status_differs`` (Perfex void while
Xero has it live, or Xero still DRAFT/SUBMITTED; open against closed is the
remaining credit, compared below), and on live pairs ``currency_differs``,
``total_differs``, ``tax_differs`` and ``allocated_differs`` (the credit applied to
invoices: Perfex ``tblcredits`` against Xero's Allocations; the remaining credit
differs by as much).

Money at stake: the Perfex total (missing, deleted, currency), the Xero total (only in
Xero), the total of the side that posts it (status), the absolute difference (total,
tax, allocated).  Each amount once: a credit allocation missing on one side also
shows on its invoice as ``paid_differs``.  The invoice row carries that gap, so a
credit note whose only flags are ``allocated_differs``, ``missing_in_xero`` or
``deleted_in_xero`` leaves the allocation gap out when one of its invoices is
flagged with a covering category (``stake.COVERING``); when nothing is left the row
is ``counted_on_invoice`` (shown, not added again to the totals).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pxflask.reconcile.checks import CheckResult, describe, folded
from pxflask.reconcile.expenses import in_window, take_at, with_scope
from pxflask.reconcile.origin import origin_column
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.stake import COVERING

__all__ = [
    "CREDIT_NOTES_OFF",
    "CREDIT_NOTE_CATEGORIES",
    "CREDIT_NOTE_COLUMNS",
    "NOT_COMPARED",
    "SCOPE",
    "credit_notes_note",
    "check_credit_notes",
    "credit_note_rows",
    "pair_positions",
    "reconcile_credit_notes",
    "with_credit_notes",
]

SCOPE = "credit_notes"
NOT_COMPARED = "not_compared"
CREDIT_NOTES_OFF = (
    "Credit notes: not compared. The credit-notes entity is off, so Perfex credit "
    "notes are not expected in Xero and none is flagged; enable the credit-notes "
    "entity in Settings and sync to compare them."
)


def credit_notes_note(report: ReconciliationReport) -> str:
    """The sentence saying the scope is off ('' when it was compared or not asked)."""
    if report.credit_notes is None and not report.credits_synced:
        return CREDIT_NOTES_OFF
    return ""


CREDIT_NOTE_CATEGORIES = (
    "missing_in_xero",
    "only_in_xero",
    "deleted_in_xero",
    "status_differs",
    "currency_differs",
    "total_differs",
    "tax_differs",
    "allocated_differs",
)
CREDIT_NOTE_COLUMNS = (
    "credit_note_number",
    "perfex_credit_note_id",
    "xero_credit_note_id",
    "matched_by",
    "origin",
    "perfex_date",
    "xero_date",
    "perfex_status",
    "xero_status",
    "currency",
    "perfex_currency",
    "xero_currency",
    "perfex_total_cents",
    "xero_total_cents",
    "perfex_tax_cents",
    "xero_tax_cents",
    "perfex_allocated_cents",
    "xero_allocated_cents",
    "perfex_remaining_cents",
    "xero_remaining_cents",
    "perfex_invoice_ids",
    "xero_invoice_ids",
    "money_at_stake_cents",
    "counted_on_invoice",
    "discrepancy",
)
_DEAD = ("DELETED", "VOIDED")
_POSTED = ("AUTHORISED", "PAID")
_OWN_GAP = frozenset({"missing_in_xero", "deleted_in_xero", "allocated_differs"})


def _pairs(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: Mapping[int, str]
) -> tuple[list[int], list[int], list[str]]:
    """Positions of matched (perfex, xero) rows (-1 for none) and the method."""
    keys = [int(k) for k in perfex["perfex_credit_note_id"].tolist()]
    return pair_positions(keys, perfex["number"].tolist(), xero, links)


def pair_positions(
    keys: list[int],
    numbers: list[object] | None,
    xero: pd.DataFrame,
    links: Mapping[int, str],
) -> tuple[list[int], list[int], list[str]]:
    """Perfex and Xero positions of each row (-1 for none) and how they matched.

    By the sync's link (Perfex id -> ``xero_id``), then by the Perfex id the Xero
    Reference carries (``reference_id``), then, when ``numbers`` are given, by the
    Xero ``number``; each Xero row matches once, the rest stand alone.
    """
    x_pos = {x: i for i, x in enumerate(xero["xero_id"].tolist())}
    by_ref: dict[int, int] = {}
    for i, ref in enumerate(xero["reference_id"].tolist()):
        if not pd.isna(ref):
            by_ref.setdefault(int(ref), i)
    by_number: dict[object, int] = {}
    if numbers is not None:
        for i, number in enumerate(xero["number"].tolist()):
            if isinstance(number, str) and number:
                by_number.setdefault(number, i)
    used: set[int] = set()
    found: dict[int, tuple[int, str]] = {}
    named = numbers if numbers is not None else [None] * len(keys)
    for method, look in (
        ("link", lambda k, _n: x_pos.get(links.get(k, ""), -1)),
        ("reference", lambda k, _n: by_ref.get(k, -1)),
        ("number", lambda _k, n: by_number.get(n, -1)),
    ):
        for p, (key, number) in enumerate(zip(keys, named, strict=True)):
            if p in found:
                continue
            at = look(key, number)
            if at >= 0 and at not in used:
                used.add(at)
                found[p] = (at, method)
    p_at = list(range(len(keys)))
    x_at = [found.get(p, (-1, ""))[0] for p in p_at]
    methods = [found.get(p, (-1, ""))[1] for p in p_at]
    for i in range(len(xero)):
        if i not in used:
            p_at.append(-1)
            x_at.append(i)
            methods.append("")
    return p_at, x_at, methods


def credit_note_rows(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: Mapping[int, str]
) -> pd.DataFrame:
    """One side-by-side row per credit note found on either side (unchecked)."""
    p_at, x_at, method = _pairs(perfex, xero, links)
    p, x = np.asarray(p_at, np.int64), np.asarray(x_at, np.int64)
    p_cur, x_cur = take_at(perfex["currency"], p), take_at(xero["currency"], x)
    cols: dict[str, pd.Series] = {
        "credit_note_number": take_at(perfex["number"], p)
        .fillna(take_at(xero["number"], x))
        .astype("str"),
        "perfex_credit_note_id": take_at(perfex["perfex_credit_note_id"], p),
        "xero_credit_note_id": take_at(xero["xero_id"], x).astype("str"),
        "matched_by": pd.Series(method, dtype="str"),
        "origin": origin_column(
            take_at(perfex["perfex_credit_note_id"], p),
            take_at(xero["xero_id"], x),
            links,
            take_at(xero["reference_id"], x),
        ),
        "perfex_date": take_at(perfex["date"], p),
        "xero_date": take_at(xero["date"], x),
        "perfex_status": take_at(perfex["status"], p).astype("str"),
        "xero_status": take_at(xero["status"], x).astype("str"),
        "currency": p_cur.fillna(x_cur).astype("str"),
        "perfex_currency": p_cur.astype("str"),
        "xero_currency": x_cur.astype("str"),
    }
    for name in ("total", "tax", "allocated"):
        cols[f"perfex_{name}_cents"] = take_at(perfex[f"{name}_cents"], p)
        cols[f"xero_{name}_cents"] = take_at(xero[f"{name}_cents"], x)
    cols["perfex_remaining_cents"] = (
        cols["perfex_total_cents"] - cols["perfex_allocated_cents"]
    )
    cols["xero_remaining_cents"] = take_at(xero["remaining_cents"], x)
    cols["perfex_invoice_ids"] = take_at(perfex["invoice_ids"], p).astype("str")
    cols["xero_invoice_ids"] = take_at(xero["invoice_ids"], x).astype("str")
    rows = pd.DataFrame(cols)
    return rows.sort_values(
        ["perfex_credit_note_id", "xero_credit_note_id"], na_position="last"
    ).reset_index(drop=True)


def _cents(col: pd.Series) -> np.ndarray:
    """Nullable cents as int64 with 0 for missing."""
    return col.to_numpy(np.int64, na_value=0)


def check_credit_notes(rows: pd.DataFrame, tolerance_cents: int = 1) -> CheckResult:
    """Flag credit note rows (the frame of ``credit_note_rows``)."""
    has_p = rows["perfex_credit_note_id"].notna().to_numpy(bool)
    has_x = rows["xero_credit_note_id"].notna().to_numpy(bool)
    x_dead = rows["xero_status"].isin(_DEAD).to_numpy(bool)
    x_posted = rows["xero_status"].isin(_POSTED).to_numpy(bool)
    p_void = (rows["perfex_status"] == "void").to_numpy(bool, na_value=False)
    pair = has_p & has_x
    live = pair & ~x_dead & ~p_void
    p_total, x_total = (
        _cents(rows["perfex_total_cents"]),
        _cents(rows["xero_total_cents"]),
    )
    same_cur = (
        rows["perfex_currency"].str.upper() == rows["xero_currency"].str.upper()
    ).to_numpy(bool, na_value=False)
    masks = {
        "missing_in_xero": has_p & ~has_x & ~p_void,
        "only_in_xero": has_x & ~has_p & ~x_dead,
        "deleted_in_xero": pair & x_dead & ~p_void,
        "status_differs": pair & ((p_void & ~x_dead) | (live & ~x_posted)),
        "currency_differs": live & ~same_cur,
    }
    money = dict.fromkeys(CREDIT_NOTE_CATEGORIES, p_total)
    money["only_in_xero"] = x_total
    money["status_differs"] = np.where(p_void, x_total, p_total)
    for name in ("total", "tax", "allocated"):
        diff = np.abs(
            _cents(rows[f"perfex_{name}_cents"]) - _cents(rows[f"xero_{name}_cents"])
        )
        masks[f"{name}_differs"] = live & (diff > tolerance_cents)
        money[f"{name}_differs"] = diff
    return folded(CREDIT_NOTE_CATEGORIES, masks, money)


def _covered_invoices(invoices: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Perfex ids and Xero ids of invoice rows flagged with a covering category."""
    codes = invoices["discrepancy"].astype("category")
    names = codes.cat.categories.astype("str")
    covering = [any(k in COVERING for k in name.split(";")) for name in names]
    table = np.asarray([*covering, False], bool)  # code -1 (missing): not covered
    flagged = invoices[table[codes.cat.codes.to_numpy()]]
    p_ids = {str(int(v)) for v in flagged["perfex_id"].dropna().tolist()}
    x_ids = {str(v).lower() for v in flagged["xero_invoice_id"].dropna().tolist()}
    return p_ids, x_ids


def _on_invoice(
    rows: pd.DataFrame, result: CheckResult, invoices: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's own money at stake and whether its invoice carries all of it."""
    money = result.row_money()
    counted = np.zeros(len(rows), bool)
    gap = np.abs(
        _cents(rows["perfex_allocated_cents"]) - _cents(rows["xero_allocated_cents"])
    )
    other = np.zeros(len(rows), bool)
    for name in result.categories:
        if name not in _OWN_GAP:
            other |= result.flagged(name)
    candidates = np.flatnonzero((result.bits != 0) & ~other & (gap > 0))
    if not len(candidates) or not len(invoices):
        return money, counted
    p_ids, x_ids = _covered_invoices(invoices)
    mine = rows["perfex_invoice_ids"].fillna("").tolist()
    theirs = rows["xero_invoice_ids"].fillna("").tolist()
    for i in candidates:
        touched = set(mine[i].split(",")) & p_ids or set(theirs[i].split(",")) & x_ids
        if touched:
            own = max(int(money[i]) - int(gap[i]), 0)
            counted[i] = own == 0
            money[i] = money[i] if own == 0 else own
    return money, counted


def reconcile_credit_notes(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: Mapping[int, str],
    invoices: pd.DataFrame,
    tolerance_cents: int = 1,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> tuple[pd.DataFrame, CheckResult]:
    """Matched, windowed and checked credit note rows (``CREDIT_NOTE_COLUMNS``).

    ``invoices``: the report's checked invoice rows (whose flags may already carry
    a credit allocation's gap).
    """
    rows = in_window(credit_note_rows(perfex, xero, links), date_from, date_to)
    result = check_credit_notes(rows, tolerance_cents)
    rows["discrepancy"] = describe(result)
    money, counted = _on_invoice(rows, result, invoices)
    rows["money_at_stake_cents"] = money
    rows["counted_on_invoice"] = counted
    reduced = money != result.row_money()  # the allocation gap left out
    for name in result.categories:  # the summary's categories add the same
        values = result.money[name].copy()
        values[reduced] = money[reduced]
        result.money[name] = values
    return rows[list(CREDIT_NOTE_COLUMNS)], result


def with_credit_notes(
    report: ReconciliationReport, rows: pd.DataFrame, result: CheckResult
) -> ReconciliationReport:
    """The report with the credit note rows, their summary rows and the new totals."""
    return with_scope(report, SCOPE, rows, result)
