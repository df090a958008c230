"""Tax per rate and currency for a period (net and tax), Perfex against Xero.

Perfex: each invoice's lines grouped by their combined taxes (``month_end_perfex``),
named by the Xero TaxType the sync maps them to.  Xero: the invoice lines' TaxType,
LineAmount (net) and TaxAmount from the month-end extras.  Invoices dated in the
period count; drafts, cancelled, voided and deleted ones do not.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pxflask.reconcile._text import in_values
from pxflask.reconcile.aging import NOT_POSTED_PERFEX, NOT_POSTED_XERO
from pxflask.reconcile.month_end_perfex import key_label

__all__ = ["TAX_COLUMNS", "tax_per_rate"]

TAX_COLUMNS = [
    "currency",
    "tax_type",
    "perfex_taxes",
    "perfex_net_cents",
    "xero_net_cents",
    "net_difference_cents",
    "perfex_tax_cents",
    "xero_tax_cents",
    "tax_difference_cents",
]


def _period(
    frame: pd.DataFrame, date_from: dt.date | None, as_at: dt.date
) -> pd.DataFrame:
    """Rows dated from ``date_from`` (if any) to ``as_at``."""
    ok = frame["date"] <= pd.Timestamp(as_at)
    if date_from is not None:
        ok &= frame["date"] >= pd.Timestamp(date_from)
    return frame[ok]


def tax_per_rate(
    p_inv: pd.DataFrame,
    p_lines: pd.DataFrame,
    types: dict,
    x_inv: pd.DataFrame,
    x_lines: pd.DataFrame | None,
    *,
    as_at: dt.date,
    date_from: dt.date | None = None,
) -> pd.DataFrame:
    """Net and tax per currency and Xero TaxType on both sides, with differences."""
    inv = _period(
        p_inv[~in_values(p_inv["status"], NOT_POSTED_PERFEX)], date_from, as_at
    )
    perfex = p_lines.merge(inv[["perfex_id", "currency"]], on="perfex_id")
    keys = perfex["key"].tolist()
    labels = {k: key_label(k) for k in set(keys)}  # a few distinct tax keys
    perfex = perfex.assign(
        tax_type=[types.get(k, "") or "(not mapped)" for k in keys],
        label=[labels[k] for k in keys],
    )
    left = perfex.groupby(["currency", "tax_type"]).agg(
        perfex_taxes=("label", lambda s: "; ".join(sorted(set(s)))),
        perfex_net_cents=("net_cents", "sum"),
        perfex_tax_cents=("tax_cents", "sum"),
    )
    posted = ~in_values(x_inv["status"], NOT_POSTED_XERO)
    xinv = _period(x_inv[posted], date_from, as_at)
    lines = (
        x_lines
        if x_lines is not None
        else pd.DataFrame(
            columns=["xero_invoice_id", "tax_type", "net_cents", "tax_cents"]
        )
    )
    xero = lines.merge(xinv[["xero_invoice_id", "currency"]], on="xero_invoice_id")
    right = xero.groupby(["currency", "tax_type"]).agg(
        xero_net_cents=("net_cents", "sum"), xero_tax_cents=("tax_cents", "sum")
    )
    both = pd.concat([left, right], axis=1).reset_index()
    both["perfex_taxes"] = both["perfex_taxes"].fillna("").astype("str")
    for col in (
        "perfex_net_cents",
        "xero_net_cents",
        "perfex_tax_cents",
        "xero_tax_cents",
    ):
        both[col] = both[col].fillna(0).astype("int64")
    both["net_difference_cents"] = both["xero_net_cents"] - both["perfex_net_cents"]
    both["tax_difference_cents"] = both["xero_tax_cents"] - both["perfex_tax_cents"]
    both = both.sort_values(["currency", "tax_type"], kind="stable")
    return both[TAX_COLUMNS].reset_index(drop=True)
