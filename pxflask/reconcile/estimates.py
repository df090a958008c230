"""Estimate reconciliation: Perfex estimates against Xero quotes, and their invoices.

Perfex and Xero sides come from ``estimate_sources`` (Xero quotes in a snapshot
beside the invoices', If-Modified-Since).  Matching: the sync's ``estimates`` links
(Perfex id -> QuoteID), then the Reference the sync writes (``PX-EST-<id>``), then
the QuoteNumber.  Checks (tolerance in cents as for the other scopes):
``missing_in_xero``, ``only_in_xero`` (a live quote no estimate matches: made in
Xero, or ours with its estimate gone), ``deleted_in_xero``, and on live pairs
``total_differs``, ``tax_differs`` and ``status_differs`` (the status the sync sends,
``quote_status``, against Xero's).  An estimate converted to invoice N is checked
instead for ``quote_not_invoiced`` (its quote is not INVOICED),
``invoice_not_in_xero`` (invoice N has no live ``invoices`` link) and
``invoiced_total_differs`` (invoice N's total is not the estimate's: informational,
Perfex lets an invoice be edited after the conversion).  Money at stake: the Perfex
total (missing, deleted, status, not invoiced), the Xero total (only in Xero), the
difference (total, tax, invoiced total); ``invoice_not_in_xero`` adds nothing, the
invoice's own row counts it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.checks import CheckResult, folded
from pxflask.reconcile.credit_notes import pair_positions
from pxflask.reconcile.estimate_sources import (
    ENTITY,
    NOUN,
    SNAPSHOT,
    estimate_links,
    perfex_estimates,
)
from pxflask.reconcile.expenses import checked_rows, take_at, with_scope
from pxflask.reconcile.perfex_side import Unreadable
from pxflask.reconcile.report import ReconciliationReport, tolerance_cents
from pxflask.reconcile.scope_snapshot import set_aside
from pxflask.sync.settings import enabled_entities, load_settings

__all__ = [
    "ESTIMATE_CATEGORIES",
    "ESTIMATE_COLUMNS",
    "ESTIMATE_PLACES",
    "SCOPE",
    "add_estimates",
    "check_estimates",
    "estimate_rows",
    "estimates_enabled",
    "reconcile_estimates",
]

SCOPE = "estimates"
INVOICED = "INVOICED"
ESTIMATE_CATEGORIES = (
    "missing_in_xero",
    "only_in_xero",
    "deleted_in_xero",
    "total_differs",
    "tax_differs",
    "status_differs",
    "quote_not_invoiced",
    "invoice_not_in_xero",
    "invoiced_total_differs",
)
ESTIMATE_COLUMNS = (
    "perfex_estimate_id",
    "xero_quote_id",
    "matched_by",
    "estimate_number",
    "xero_reference",
    "perfex_date",
    "xero_date",
    "perfex_status",  # the Xero status the sync sends for the Perfex estimate
    "xero_status",
    "currency",
    "perfex_total_cents",
    "xero_total_cents",
    "perfex_tax_cents",
    "xero_tax_cents",
    "perfex_invoice_id",
    "xero_invoice_id",
    "perfex_invoice_total_cents",
    "money_at_stake_cents",
    "discrepancy",
)
XERO_QUOTE = "https://go.xero.com/Accounts/Receivable/Quotes/View/{id}"
"""A quote's page in Xero without the organisation's ShortCode (assumed)."""
ESTIMATE_PLACES = (
    ENTITY,
    NOUN,
    "perfex_estimate_id",
    "xero_quote_id",
    "/admin/estimates/list_estimates/{id}",
    XERO_QUOTE,
    "estimate_number",
)
"""Where an estimate lives (reasons.Scope): entity, noun, keys, pages, number."""


def estimates_enabled(session: SessionLike) -> bool:
    """True when the settings' ``entities`` include ``estimates``."""
    return ENTITY in enabled_entities(load_settings(session))


def estimate_rows(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: Mapping[int, str]
) -> pd.DataFrame:
    """One side-by-side row per estimate or quote found on either side (unchecked)."""
    keys = [int(k) for k in perfex["perfex_estimate_id"].tolist()]
    numbers = perfex["number"].tolist()
    p_at, x_at, method = pair_positions(keys, numbers, xero, links)
    p, x = np.asarray(p_at, np.int64), np.asarray(x_at, np.int64)
    rows = pd.DataFrame(
        {
            "perfex_estimate_id": take_at(perfex["perfex_estimate_id"], p),
            "xero_quote_id": take_at(xero["xero_id"], x).astype("str"),
            "matched_by": pd.Series(method, dtype="str"),
            "estimate_number": take_at(perfex["number"], p)
            .fillna(take_at(xero["number"], x))
            .astype("str"),
            "xero_reference": take_at(xero["reference"], x).astype("str"),
            "perfex_date": take_at(perfex["date"], p),
            "xero_date": take_at(xero["date"], x),
            "perfex_status": take_at(perfex["status"], p).astype("str"),
            "xero_status": take_at(xero["status"], x).astype("str"),
            "currency": take_at(perfex["currency"], p)
            .fillna(take_at(xero["currency"], x))
            .astype("str"),
            "perfex_total_cents": take_at(perfex["total_cents"], p),
            "xero_total_cents": take_at(xero["total_cents"], x),
            "perfex_tax_cents": take_at(perfex["tax_cents"], p),
            "xero_tax_cents": take_at(xero["tax_cents"], x),
            "perfex_invoice_id": take_at(perfex["perfex_invoice_id"], p),
            "xero_invoice_id": take_at(perfex["xero_invoice_id"], p).astype("str"),
            "perfex_invoice_total_cents": take_at(perfex["invoice_total_cents"], p),
        }
    )
    return rows.sort_values(
        ["perfex_estimate_id", "xero_quote_id"], na_position="last"
    ).reset_index(drop=True)


def _cents(rows: pd.DataFrame, column: str) -> np.ndarray:
    """A cents column as int64 (missing: 0)."""
    return rows[column].to_numpy(np.int64, na_value=0)


def check_estimates(rows: pd.DataFrame, tolerance_cents: int = 1) -> CheckResult:
    """Flag estimate rows (the frame of ``estimate_rows``)."""
    has_p = rows["perfex_estimate_id"].notna().to_numpy(bool)
    has_x = rows["xero_quote_id"].notna().to_numpy(bool)
    dead = (rows["xero_status"] == "DELETED").to_numpy(bool, na_value=False)
    live = has_p & has_x & ~dead
    converted = rows["perfex_invoice_id"].notna().to_numpy(bool)
    p_total, x_total = (
        _cents(rows, "perfex_total_cents"),
        _cents(rows, "xero_total_cents"),
    )
    total_diff = np.abs(p_total - x_total)
    tax_diff = np.abs(_cents(rows, "perfex_tax_cents") - _cents(rows, "xero_tax_cents"))
    expected = rows["perfex_status"].fillna("").astype("str")
    status_off = (expected != "") & (expected != rows["xero_status"].fillna(""))
    invoiced = rows["perfex_invoice_total_cents"]
    invoiced_diff = np.abs(invoiced.to_numpy(np.int64, na_value=0) - p_total)
    masks = {
        "missing_in_xero": has_p & ~has_x,
        "only_in_xero": has_x & ~has_p & ~dead,
        "deleted_in_xero": has_p & has_x & dead,
        "total_differs": live & (total_diff > tolerance_cents),
        "tax_differs": live & (tax_diff > tolerance_cents),
        "status_differs": live & ~converted & status_off.to_numpy(bool),
        "quote_not_invoiced": live
        & converted
        & (rows["xero_status"] != INVOICED).to_numpy(bool, na_value=True),
        "invoice_not_in_xero": has_p
        & converted
        & rows["xero_invoice_id"].isna().to_numpy(bool),
        "invoiced_total_differs": has_p
        & converted
        & invoiced.notna().to_numpy(bool)
        & (invoiced_diff > tolerance_cents),
    }
    money = dict.fromkeys(ESTIMATE_CATEGORIES, p_total)
    money["only_in_xero"] = x_total
    money["total_differs"] = total_diff
    money["tax_differs"] = tax_diff
    money["invoice_not_in_xero"] = np.zeros(len(rows), np.int64)
    money["invoiced_total_differs"] = invoiced_diff
    return folded(ESTIMATE_CATEGORIES, masks, money)


def reconcile_estimates(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: Mapping[int, str],
    tolerance: int = 1,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> tuple[pd.DataFrame, CheckResult]:
    """Matched, windowed and checked estimate rows (``ESTIMATE_COLUMNS``)."""
    rows = estimate_rows(perfex, xero, links)
    return checked_rows(
        rows, check_estimates, tolerance, date_from, date_to, ESTIMATE_COLUMNS
    )


def add_estimates(
    report: ReconciliationReport,
    perfex: PerfexDB,
    session: SessionLike,
    gateway: Any | None,
    instance_path: str | os.PathLike[str],
    tenant_id: str,
    *,
    full: bool = False,
    unreadable: list[Unreadable] | None = None,
) -> tuple[ReconciliationReport, int, dict[str, int]]:
    """The report with estimates, the Xero calls it cost and the input counts."""
    xero = SNAPSHOT.current(gateway, instance_path, tenant_id, full=full)
    listed = unreadable if unreadable is not None else []
    p_estimates = perfex_estimates(perfex, session, listed)
    links = estimate_links(session)
    rows, result = reconcile_estimates(
        p_estimates,
        set_aside(xero.frame, links, {u.perfex_id for u in listed if u.kind == NOUN}),
        links,
        tolerance_cents(report.tolerance),
        report.date_from,
        report.date_to,
    )
    counts = {"perfex_estimates": len(p_estimates), "xero_quotes": len(xero.frame)}
    return with_scope(report, SCOPE, rows, result), xero.calls, counts
