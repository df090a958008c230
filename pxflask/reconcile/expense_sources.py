"""Load Perfex expenses and Xero SPEND bank transactions for the reconciliation.

Perfex: each expense's total as Perfex computes it (net plus each tax on the net,
rounded once: the sync mapper's ``expense_total``), in integer cents.

Xero: SPEND bank transactions, paged and kept beside the invoice/payment snapshot of
the tenant (``<instance>/reconcile/xero/<tenant>/expenses.parquet`` with its own
``expenses.json`` holding the largest ``UpdatedDateUTC`` seen).  A rerun asks only for
what changed since (``If-Modified-Since``), so it costs one call when nothing did.
``clear_snapshot`` removes the tenant folder, and with it this file.  Each row keeps
the Perfex expense id named by the sync's line marker (``(Perfex expense N)``), if any.

Bills: the expenses pulled from Xero bills are paired with the ACCPAY bills the
invoice snapshot keeps (``loaders``: the same pages, no call of their own) by the
pull's own links (``bill:<InvoiceID>`` -> the Perfex expense id).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import Link
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.reads import read_expenses, read_taxes
from pxflask.perfex.records import present
from pxflask.reconcile.frames import (
    DATE_DTYPE,
    FrameError,
    empty_frame,
    to_cents,
    validate_frame,
)
from pxflask.reconcile.origin import Linked, linked_ids
from pxflask.reconcile.perfex_side import Unreadable
from pxflask.reconcile.scope_snapshot import ScopeSnapshot, typed_frame
from pxflask.reconcile.xero_records import latest_update
from pxflask.reconcile.xero_snapshot import SCHEMAS, snapshot_paths
from pxflask.sync.entities.expenses.mapper import expense_reference, expense_total
from pxflask.sync.entities.expenses_pull.mapper import BILL
from pxflask.sync.entities.expenses_pull.step import ENTITY as PULL_ENTITY
from pxflask.sync.entities.expenses_pull.step import link_key

__all__ = [
    "PERFEX_EXPENSE_COLUMNS",
    "XERO_EXPENSE_COLUMNS",
    "ExpenseLoad",
    "bill_links",
    "expense_links",
    "load_xero_expenses",
    "perfex_expenses",
    "pulled_from_bills",
    "read_bills",
    "read_expense_snapshot",
    "xero_expense_records",
]

KIND = "bank_transactions"
_MARKER = re.compile(r"\(Perfex expense (\d+)\)")
PERFEX_EXPENSE_COLUMNS = {
    "perfex_expense_id": "int64",
    "reference": "str",
    "date": DATE_DTYPE,
    "currency": "str",
    "total_cents": "int64",
}
XERO_EXPENSE_COLUMNS = {
    "xero_id": "str",
    "reference": "str",
    "marker_id": "Int64",
    "date": DATE_DTYPE,
    "currency": "str",
    "total_cents": "int64",
    "status": "str",
}


def perfex_expenses(
    db: PerfexDB, unreadable: list[Unreadable] | None = None
) -> pd.DataFrame:
    """Every readable Perfex expense with its total as Perfex computes it (cents).

    Damaged expenses are left out and appended to ``unreadable`` when given.
    """
    rates = {t.id: t.rate for t in read_taxes(db)}
    expenses = read_expenses(db)
    if unreadable is not None:
        unreadable.extend(
            Unreadable("expense", e.id, expense_reference(e), e.damaged)
            for e in expenses
            if e.damaged
        )
    records = [
        {
            "perfex_expense_id": e.id,
            "reference": expense_reference(e),
            "date": e.date,
            "currency": (e.currency.code or "").upper(),
            "total_cents": to_cents(
                expense_total(
                    present(e.amount), [rates[t] for t in e.tax_ids if t in rates]
                )
            ),
        }
        for e in expenses
        if not e.damaged
    ]
    return typed_frame(records, PERFEX_EXPENSE_COLUMNS)


def expense_links(session: SessionLike) -> Linked:
    """Perfex expense id -> linked BankTransactionID (lower case), and pulled ids."""
    return linked_ids(session, "expenses")


def pulled_from_bills(links: Linked) -> set[int]:
    """Perfex expenses pulled from Xero bills (ACCPAY, not spend money): their ids.

    A bill's expense is linked without a BankTransactionID (``expense_links``).
    """
    return {k for k in links.pulled if k not in links}


def bill_links(session: SessionLike, pulled: set[int]) -> Linked:
    """Perfex expense id -> its Xero bill's InvoiceID (lower case), from the pull.

    Only the expenses in ``pulled`` (``pulled_from_bills``); all of them are pulled.
    """
    prefix = link_key(BILL, "")
    stmt = sa.select(Link.perfex_key, Link.xero_number).where(
        Link.entity == PULL_ENTITY, Link.perfex_key.startswith(prefix)
    )
    items = {
        int(number): str(key)[len(prefix) :].lower()
        for key, number in session.execute(stmt)
        if number and str(number).isdigit() and int(number) in pulled
    }
    return Linked(items.items(), pulled)


def read_bills(instance_path: str | os.PathLike[str], tenant_id: str) -> pd.DataFrame:
    """The stored bills in the SPEND frame's columns (empty when none stored)."""
    try:
        raw = pd.read_parquet(snapshot_paths(instance_path, tenant_id)["bills"])
        bills = validate_frame(raw, SCHEMAS["bills"])
    except (OSError, ValueError, FrameError):
        bills = empty_frame(SCHEMAS["bills"])
    return pd.DataFrame(
        {
            "xero_id": bills["xero_bill_id"],
            "reference": bills["bill_number"],
            "marker_id": pd.array([None] * len(bills), dtype="Int64"),
            "date": bills["date"],
            "currency": bills["currency"],
            "total_cents": bills["total_cents"],
            "status": bills["status"],
        }
    ).astype(XERO_EXPENSE_COLUMNS)


def _marker_id(lines: Iterable[Mapping[str, Any]] | None) -> int | None:
    """The Perfex expense id named by a line's marker, if any."""
    for line in lines or ():
        found = _MARKER.search(str(line.get("Description") or ""))
        if found:
            return int(found.group(1))
    return None


def xero_expense_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Records of a page's SPEND transactions, and the page's latest update."""
    page = list(page)
    records: list[dict[str, Any]] = []
    latest = latest_update(page)
    for tx in page:
        if str(getattr(tx.get("Type"), "value", tx.get("Type"))) != "SPEND":
            continue
        status = tx.get("Status")
        records.append(
            {
                "xero_id": str(tx.get("BankTransactionID")).lower(),
                "reference": tx.get("Reference") or None,
                "marker_id": _marker_id(tx.get("LineItems")),
                "date": tx.get("Date"),
                "currency": str(tx.get("CurrencyCode") or "").upper(),
                "total_cents": to_cents(tx.get("Total") or 0),
                "status": str(getattr(status, "value", status) or ""),
            }
        )
    return records, latest


@dataclass
class ExpenseLoad:
    """The Xero SPEND transactions of one load and what it cost."""

    transactions: pd.DataFrame
    mode: str  # full, incremental or snapshot
    calls: int = 0


SNAPSHOT = ScopeSnapshot(
    "expenses", KIND, XERO_EXPENSE_COLUMNS, "xero_id", xero_expense_records
)


def read_expense_snapshot(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> ExpenseLoad:
    """The stored SPEND transactions without any call (empty when none stored)."""
    load = SNAPSHOT.read(instance_path, tenant_id)
    return ExpenseLoad(load.frame, load.mode, load.calls)


def load_xero_expenses(
    gateway: Any,
    instance_path: str | os.PathLike[str],
    tenant_id: str,
    *,
    full: bool = False,
) -> ExpenseLoad:
    """SPEND transactions: the stored snapshot refreshed with what changed."""
    load = SNAPSHOT.load(gateway, instance_path, tenant_id, full=full)
    return ExpenseLoad(load.frame, load.mode, load.calls)
