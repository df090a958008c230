"""Load Perfex expenses and Xero SPEND bank transactions for the reconciliation.

Perfex: each expense's total as Perfex computes it (net plus each tax on the net,
rounded once: the sync mapper's ``expense_total``), in integer cents.

Xero: SPEND bank transactions, paged and kept beside the invoice/payment snapshot of
the tenant (``<instance>/reconcile/xero/<tenant>/expenses.parquet`` with its own
``expenses.json`` holding the largest ``UpdatedDateUTC`` seen).  A rerun asks only for
what changed since (``If-Modified-Since``), so it costs one call when nothing did.
``clear_snapshot`` removes the tenant folder, and with it this file.  Each row keeps
the Perfex expense id named by the sync's line marker (``(Perfex expense N)``), if any.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pxflask.models import Link
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.reads import read_expenses, read_taxes
from pxflask.reconcile.frames import DATE_DTYPE, to_cents
from pxflask.reconcile.loaders import snapshot_dir
from pxflask.reconcile.perfex_side import Unreadable
from pxflask.sync.mappers.expenses import expense_reference, expense_total

__all__ = [
    "PERFEX_EXPENSE_COLUMNS",
    "XERO_EXPENSE_COLUMNS",
    "ExpenseLoad",
    "expense_links",
    "load_xero_expenses",
    "perfex_expenses",
    "read_expense_snapshot",
    "xero_expense_records",
]

KIND = "bank_transactions"
SNAPSHOT_VERSION = 1
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


def _frame(records: list[dict[str, Any]], columns: Mapping[str, str]) -> pd.DataFrame:
    """A frame with exactly these columns and dtypes."""
    data = {c: [r.get(c) for r in records] for c in columns}
    out = {}
    for col, dtype in columns.items():
        values = pd.Series(data[col], dtype=object)
        if dtype == DATE_DTYPE:
            out[col] = pd.to_datetime(values).dt.normalize().astype(DATE_DTYPE)
        else:
            out[col] = values.astype(dtype)
    return pd.DataFrame(out)


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
                expense_total(e.amount, [rates[t] for t in e.tax_ids if t in rates])
            ),
        }
        for e in expenses
        if not e.damaged
    ]
    return _frame(records, PERFEX_EXPENSE_COLUMNS)


def expense_links(session: Session) -> dict[int, str]:
    """Perfex expense id -> linked BankTransactionID (lower case), from the sync."""
    stmt = sa.select(Link.perfex_key, Link.xero_id).where(
        Link.entity == "expenses", Link.xero_id.is_not(None)
    )
    return {
        int(k): str(x).lower()
        for k, x in session.execute(stmt)
        if k and str(k).isdigit() and x
    }


def _marker_id(lines: Iterable[Mapping[str, Any]] | None) -> int | None:
    """The Perfex expense id named by a line's marker, if any."""
    for line in lines or ():
        found = _MARKER.search(str(line.get("Description") or ""))
        if found:
            return int(found.group(1))
    return None


def _stamp(value: Any) -> datetime | None:
    """A Xero timestamp as naive UTC."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def xero_expense_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Records of a page's SPEND transactions, and the page's latest update."""
    records, latest = [], None
    for tx in page:
        updated = _stamp(tx.get("UpdatedDateUTC"))
        if updated is not None and (latest is None or updated > latest):
            latest = updated
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


def _paths(instance_path: str | os.PathLike[str], tenant_id: str) -> dict[str, Path]:
    """The expense snapshot files of a tenant (beside its invoice snapshot)."""
    clean = "".join(ch for ch in tenant_id.lower() if ch.isalnum() or ch == "-")
    base = snapshot_dir(instance_path) / clean
    return {"meta": base / "expenses.json", "frame": base / "expenses.parquet"}


def _stored(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> tuple[str | None, pd.DataFrame] | None:
    """(since, frame) of the stored snapshot, or None when there is none usable."""
    paths = _paths(instance_path, tenant_id)
    try:
        meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
        frame = pd.read_parquet(paths["frame"])
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("version") != SNAPSHOT_VERSION:
        return None
    if list(frame.columns) != list(XERO_EXPENSE_COLUMNS):
        return None
    return meta.get("since"), frame.astype(XERO_EXPENSE_COLUMNS)


def read_expense_snapshot(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> ExpenseLoad:
    """The stored SPEND transactions without any call (empty when none stored)."""
    stored = _stored(instance_path, tenant_id)
    frame = stored[1] if stored else _frame([], XERO_EXPENSE_COLUMNS)
    return ExpenseLoad(frame, "snapshot", 0)


def _calls(gateway: Any) -> int:
    """The gateway's API call count so far."""
    return int(gateway.stats.snapshot().get("total", 0))


def load_xero_expenses(
    gateway: Any,
    instance_path: str | os.PathLike[str],
    tenant_id: str,
    *,
    full: bool = False,
) -> ExpenseLoad:
    """SPEND transactions: the stored snapshot refreshed with what changed."""
    stored = None if full else _stored(instance_path, tenant_id)
    since = datetime.fromisoformat(stored[0]) if stored and stored[0] else None
    start = _calls(gateway)
    records: list[dict[str, Any]] = []
    latest = since
    for page in gateway.iter_pages(KIND, modified_since=since):
        page_records, page_latest = xero_expense_records(page)
        records.extend(page_records)
        if page_latest is not None and (latest is None or page_latest > latest):
            latest = page_latest
    new = _frame(records, XERO_EXPENSE_COLUMNS)
    old = stored[1] if stored else _frame([], XERO_EXPENSE_COLUMNS)
    frame = (
        pd.concat([old, new], ignore_index=True)
        .drop_duplicates("xero_id", keep="last")
        .reset_index(drop=True)
        if len(new)
        else old
    )
    paths = _paths(instance_path, tenant_id)
    paths["frame"].parent.mkdir(parents=True, exist_ok=True)
    tmp = paths["frame"].with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, paths["frame"])
    meta = {
        "version": SNAPSHOT_VERSION,
        "since": latest.isoformat() if latest else None,
    }
    tmp = paths["meta"].with_suffix(".jtmp")
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, paths["meta"])
    mode = "incremental" if stored else "full"
    return ExpenseLoad(frame, mode, _calls(gateway) - start)
