"""Invoices "as at" a date and aged receivables, Perfex against Xero.

As at a date, an invoice dated after it does not exist yet and a payment dated
after it has not arrived yet, on both sides: December payments do not settle (nor
flag) November invoices in a report as at 30 November.  Applied Perfex credits
count from their date; Xero's credited amount (credit notes, overpayments), whose
allocation dates the snapshot does not hold, counts from the invoice date.
Drafts, cancelled, voided and deleted invoices are left out.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pxflask.reconcile._text import in_values

__all__ = [
    "BUCKETS",
    "NOT_POSTED_PERFEX",
    "NOT_POSTED_XERO",
    "aged_receivables",
    "as_at_invoices",
    "bucket_of",
]

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
NOT_POSTED_PERFEX = ("draft", "cancelled")
"""Perfex invoice statuses that post nothing (no receivable, no tax)."""
NOT_POSTED_XERO = ("DRAFT", "VOIDED", "DELETED")
"""Xero invoice statuses that post nothing (no receivable, no tax)."""
_SIDE_COLUMNS = [
    "invoice_number",
    "customer",
    "currency",
    "date",
    "due_date",
    "total_cents",
]


def bucket_of(days_past_due: pd.Series) -> pd.Series:
    """The aging bucket of each day count (0 or less: current)."""
    edges = [-np.inf, 0, 30, 60, 90, np.inf]
    return pd.cut(days_past_due, edges, labels=list(BUCKETS)).astype("str")


def _paid_until(payments: pd.DataFrame, key: str, as_at: dt.date) -> pd.Series:
    """Cents paid per invoice by payments dated up to ``as_at``."""
    upto = payments[payments["date"] <= pd.Timestamp(as_at)]
    return upto.groupby(key)["amount_cents"].sum()


def _state(frame: pd.DataFrame, as_at: dt.date) -> pd.DataFrame:
    """Status, amount due, days past due and bucket from total and paid."""
    due = (frame["total_cents"] - frame["paid_cents"]).clip(lower=0)
    until = frame["due_date"].fillna(frame["date"])
    days = (pd.Timestamp(as_at) - until).dt.days
    status = np.select(
        [due <= 0, frame["paid_cents"] > 0, days > 0],
        ["paid", "partially_paid", "overdue"],
        "unpaid",
    )
    return frame.assign(
        status=status,
        due_cents=due,
        days_past_due=days.where(due > 0, 0).astype("int64"),
        bucket=bucket_of(days).where(due > 0, ""),
    )


def _perfex(
    p_inv: pd.DataFrame, p_pay: pd.DataFrame, credits: pd.DataFrame, as_at: dt.date
) -> pd.DataFrame:
    """Perfex invoices issued by ``as_at`` with what was paid by then."""
    issued = p_inv["date"] <= pd.Timestamp(as_at)
    inv = p_inv[~in_values(p_inv["status"], NOT_POSTED_PERFEX) & issued]
    paid = _paid_until(p_pay, "perfex_invoice_id", as_at).add(
        _paid_until(credits, "perfex_invoice_id", as_at), fill_value=0
    )
    out = inv.rename(columns={"customer_name": "customer"})[
        ["perfex_id", *_SIDE_COLUMNS]
    ]
    out = out.assign(paid_cents=out["perfex_id"].map(paid).fillna(0).astype("int64"))
    return _state(out, as_at)


def _xero(x_inv: pd.DataFrame, x_pay: pd.DataFrame, as_at: dt.date) -> pd.DataFrame:
    """Xero invoices issued by ``as_at`` with what was paid by then."""
    issued = x_inv["date"] <= pd.Timestamp(as_at)
    inv = x_inv[~in_values(x_inv["status"], NOT_POSTED_XERO) & issued]
    live = x_pay[x_pay["status"] != "DELETED"]
    all_paid = live.groupby("xero_invoice_id")["amount_cents"].sum()
    paid = _paid_until(live, "xero_invoice_id", as_at)
    ids = inv["xero_invoice_id"]
    credited = (inv["paid_cents"] - ids.map(all_paid).fillna(0)).clip(lower=0)
    out = inv.rename(columns={"contact_name": "customer"})[
        ["xero_invoice_id", *_SIDE_COLUMNS]
    ]
    out = out.assign(paid_cents=(ids.map(paid).fillna(0) + credited).astype("int64"))
    return _state(out, as_at)


def as_at_invoices(
    p_inv: pd.DataFrame,
    p_pay: pd.DataFrame,
    credits: pd.DataFrame,
    x_inv: pd.DataFrame,
    x_pay: pd.DataFrame,
    links: pd.DataFrame,
    as_at: dt.date,
) -> pd.DataFrame:
    """Each invoice's status, paid and due as at the date on both sides, joined."""
    perfex = _perfex(p_inv, p_pay, credits, as_at)
    xero = _xero(x_inv, x_pay, as_at)
    inv_links = links[links["entity"] == "invoices"].set_index("perfex_id")["xero_id"]
    perfex["xero_invoice_id"] = perfex["perfex_id"].map(inv_links)
    linked = in_values(perfex["xero_invoice_id"], xero["xero_invoice_id"])
    by_number = perfex.loc[~linked, "invoice_number"].map(
        xero.drop_duplicates("invoice_number").set_index("invoice_number")[
            "xero_invoice_id"
        ]
    )
    perfex.loc[~linked, "xero_invoice_id"] = by_number
    state = ["status", "paid_cents", "due_cents", "bucket"]
    both = perfex.merge(
        xero[["xero_invoice_id", *_SIDE_COLUMNS, *state]],
        on="xero_invoice_id",
        how="outer",
        suffixes=("_perfex", "_xero"),
    )
    for col in ("invoice_number", "customer", "currency", "date", "due_date"):
        both[col] = both[f"{col}_perfex"].fillna(both[f"{col}_xero"])
    for col in ("paid_cents", "due_cents"):
        for side in ("perfex", "xero"):
            both[f"{col}_{side}"] = both[f"{col}_{side}"].fillna(0).astype("int64")
    both["differs"] = (
        both["status_perfex"].fillna("") != both["status_xero"].fillna("")
    ) | (both["due_cents_perfex"] != both["due_cents_xero"])
    columns = [
        "invoice_number",
        "customer",
        "currency",
        "date",
        "due_date",
        "status_perfex",
        "status_xero",
        "paid_cents_perfex",
        "paid_cents_xero",
        "due_cents_perfex",
        "due_cents_xero",
        "bucket_perfex",
        "bucket_xero",
        "differs",
    ]
    out = both[columns].copy()
    for col in ("status_perfex", "status_xero", "bucket_perfex", "bucket_xero"):
        out[col] = out[col].fillna("").astype("str")
    return out.sort_values(["currency", "invoice_number"], kind="stable").reset_index(
        drop=True
    )


def aged_receivables(as_at_frame: pd.DataFrame) -> pd.DataFrame:
    """Amount due per currency and bucket on each side, and a total per currency."""
    rows = []
    for currency, group in as_at_frame.groupby("currency", sort=True):
        for bucket in (*BUCKETS, "total"):
            sums = {}
            for side in ("perfex", "xero"):
                values = group[f"due_cents_{side}"]
                if bucket != "total":
                    values = values[group[f"bucket_{side}"] == bucket]
                sums[side] = int(values.sum())
            rows.append(
                {
                    "currency": currency,
                    "bucket": bucket,
                    "perfex_cents": sums["perfex"],
                    "xero_cents": sums["xero"],
                    "difference_cents": sums["xero"] - sums["perfex"],
                }
            )
    columns = ["currency", "bucket", "perfex_cents", "xero_cents", "difference_cents"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns[2:]:
        frame[col] = frame[col].astype("int64")
    return frame
