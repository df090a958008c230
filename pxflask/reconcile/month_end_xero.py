"""What the month-end views need from Xero beyond the reconciliation's snapshot.

The reconciliation reads invoices with ``summaryOnly`` (no lines) and drops each
payment's bank account.  The month-end views need both: the tax of every invoice
line (TaxType, net, tax) and the account each payment went to.  They are kept in
a small snapshot of their own under ``<instance>/reconcile/month_end/<tenant>/``,
refreshed with ``If-Modified-Since`` like the main one: an unchanged organisation
costs two calls (one page of invoices with lines, one of payments).  The refresh
runs with the report's refresh (page, job or CLI), never in a page request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pxflask.reconcile.perfex_side import cents
from pxflask.reconcile.xero_records import (
    api_calls,
    latest_update,
    lower_id,
    text_or_none,
)
from pxflask.reconcile.xero_snapshot import safe_tenant

__all__ = [
    "LINE_COLUMNS",
    "ACCOUNT_COLUMNS",
    "XeroExtras",
    "read_extras",
    "refresh_extras",
]

VERSION = 1
LINE_COLUMNS = ("xero_invoice_id", "tax_type", "net_cents", "tax_cents")
ACCOUNT_COLUMNS = ("xero_payment_id", "account_id", "account_code")
_KEYS = {"lines": "xero_invoice_id", "accounts": "xero_payment_id"}
_COLUMNS = {"lines": LINE_COLUMNS, "accounts": ACCOUNT_COLUMNS}


@dataclass
class XeroExtras:
    """Invoice line taxes and payment accounts of one tenant, and what they cost."""

    lines: pd.DataFrame
    accounts: pd.DataFrame
    loaded_at: str | None = None
    calls: int = 0


def _folder(instance_path: str | os.PathLike[str], tenant_id: str) -> Path:
    """The extras folder of one tenant."""
    return Path(instance_path, "reconcile", "month_end", safe_tenant(tenant_id))


def _frame(rows: list[dict[str, Any]], kind: str) -> pd.DataFrame:
    """Records as a typed frame (money in int64 cents)."""
    columns = _COLUMNS[kind]
    frame = pd.DataFrame(rows, columns=list(columns))
    for col in columns:
        frame[col] = frame[col].astype("int64" if col.endswith("_cents") else "str")
    return frame


def line_records(page: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tax lines of a page's ACCREC invoices (net excludes the tax)."""
    rows = []
    for inv in page:
        if text_or_none(inv.get("Type")) != "ACCREC":
            continue
        inclusive = text_or_none(inv.get("LineAmountTypes")) == "Inclusive"
        for line in inv.get("LineItems") or []:
            tax = cents(line.get("TaxAmount"))
            amount = cents(line.get("LineAmount"))
            rows.append(
                {
                    "xero_invoice_id": lower_id(inv.get("InvoiceID")),
                    "tax_type": text_or_none(line.get("TaxType")) or "NONE",
                    "net_cents": amount - tax if inclusive else amount,
                    "tax_cents": tax,
                }
            )
    return rows


def account_records(page: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The bank account of each payment of a page."""
    rows = []
    for pay in page:
        account = pay.get("Account") or {}
        rows.append(
            {
                "xero_payment_id": lower_id(pay.get("PaymentID")),
                "account_id": lower_id(account.get("AccountID")) or "",
                "account_code": text_or_none(account.get("Code")) or "",
            }
        )
    return rows


def read_extras(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> XeroExtras | None:
    """The stored extras of a tenant, or None when never refreshed or unreadable."""
    folder = _folder(instance_path, tenant_id)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        frames = {k: pd.read_parquet(folder / f"{k}.parquet") for k in _KEYS}
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("version") != VERSION:
        return None
    return XeroExtras(frames["lines"], frames["accounts"], meta.get("loaded_at"))


def refresh_extras(
    gateway: Any, instance_path: str | os.PathLike[str], tenant_id: str
) -> XeroExtras:
    """Read what changed since the last refresh (all the first time); store it."""
    folder = _folder(instance_path, tenant_id)
    old = read_extras(instance_path, tenant_id)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    since = dict(meta.get("since") or {}) if old is not None else {}
    start = api_calls(gateway)
    frames: dict[str, pd.DataFrame] = {}
    readers = {
        "lines": ("invoices", line_records),
        "accounts": ("payments", account_records),
    }
    for kind, (resource, records) in readers.items():
        stamp = since.get(kind)
        latest = datetime.fromisoformat(stamp) if stamp else None
        rows: list[dict[str, Any]] = []
        ids: set[str] = set()
        for page in gateway.iter_pages(resource, modified_since=latest):
            rows.extend(records(page))
            ids.update(
                lower_id(x.get(resource[:-1].capitalize() + "ID")) or "" for x in page
            )
            latest = latest_update(page, latest)
        new = _frame(rows, kind)
        previous = getattr(old, kind) if old is not None else _frame([], kind)
        kept = previous[~previous[_KEYS[kind]].isin(ids)]
        frames[kind] = pd.concat([kept, new], ignore_index=True)
        since[kind] = latest.isoformat() if latest is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    for kind, frame in frames.items():
        tmp = folder / f"{kind}.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, folder / f"{kind}.parquet")
    loaded_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    meta = {"version": VERSION, "since": since, "loaded_at": loaded_at}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return XeroExtras(
        frames["lines"], frames["accounts"], loaded_at, api_calls(gateway) - start
    )
