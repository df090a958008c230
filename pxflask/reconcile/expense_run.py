"""Add the expense reconciliation to a run when the ``expenses`` entity is enabled.

Also says whether the ``credit-notes`` entity is on (the comparison of credits).
"""

from __future__ import annotations

import os
from typing import Any

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.expense_sources import (
    bill_links,
    expense_links,
    load_xero_expenses,
    perfex_expenses,
    pulled_from_bills,
    read_bills,
    read_expense_snapshot,
)
from pxflask.reconcile.expenses import Bills, reconcile_expenses, with_expenses
from pxflask.reconcile.perfex_side import Unreadable
from pxflask.reconcile.report import ReconciliationReport, tolerance_cents
from pxflask.sync.settings import enabled_entities, load_settings

__all__ = ["add_expenses", "credits_synced", "expenses_enabled"]


def expenses_enabled(session: SessionLike) -> bool:
    """True when the settings' ``entities`` include ``expenses``."""
    return "expenses" in enabled_entities(load_settings(session))


def credits_synced(session: SessionLike) -> bool:
    """True when the ``credit-notes`` entity is on (Perfex credits reach Xero)."""
    return "credit-notes" in enabled_entities(load_settings(session))


def add_expenses(
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
    """The report with expenses, the Xero calls it cost and the input counts.

    With a gateway the SPEND snapshot is refreshed; without, it is read as stored.
    Damaged expenses go to ``unreadable`` (see ``perfex_side``); expenses pulled
    from Xero bills are compared with those bills, kept by the invoice snapshot
    (refreshed before this, in the same invoice pages: no call here).
    """
    if gateway is not None:
        xero = load_xero_expenses(gateway, instance_path, tenant_id, full=full)
    else:
        xero = read_expense_snapshot(instance_path, tenant_id)
    p_exp = perfex_expenses(perfex, unreadable)
    links = expense_links(session)  # one read: the links and which were pulled
    from_bills = pulled_from_bills(links)  # compared with ACCPAY bills, not SPEND
    is_bill = p_exp["perfex_expense_id"].isin(from_bills).to_numpy(bool)
    bills = Bills(
        p_exp[is_bill].reset_index(drop=True),
        read_bills(instance_path, tenant_id),
        bill_links(session, from_bills),
    )
    rows, result = reconcile_expenses(
        p_exp[~is_bill].reset_index(drop=True),
        xero.transactions,
        links,
        tolerance_cents(report.tolerance),
        report.date_from,
        report.date_to,
        bills,
    )
    counts = {
        "perfex_expenses": len(p_exp),
        "xero_spend_transactions": len(xero.transactions),
        "xero_bills": len(bills.xero),
    }
    return with_expenses(report, rows, result), xero.calls, counts
