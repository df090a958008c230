"""The audit notebooks' month-end sections: freshness, reasons, money, trend, charts.

Small functions of plain frames so the notebooks stay thin: how old the Xero side
is, the flagged rows with their reasons and links, billed against collected per
customer and currency (never added across currencies), the month-end views,
the discrepancy trend across kept reports and a chart of differences.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from pxflask.dbtypes import SessionLike
from pxflask.models import ReconcileReport
from pxflask.reconcile.charts import figure_svg
from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.history import flagged_of, list_entries, money_of
from pxflask.reconcile.loaders import SnapshotMissing, read_snapshot
from pxflask.reconcile.month_end import MonthEnd, build_month_end, refresh_month_end
from pxflask.reconcile.reasons import REASON_COLUMNS
from pxflask.reconcile.report import (
    POSTED_PERFEX_STATUSES,
    POSTED_XERO_STATUSES,
    ReconciliationReport,
)
from pxflask.reconcile.service import load_report

__all__ = [
    "HOW_TO_REFRESH",
    "billed_vs_collected",
    "difference_chart",
    "discrepancy_trend",
    "freshness",
    "month_end_views",
    "reasons_table",
]

HOW_TO_REFRESH = (
    "To refresh: run this notebook with refresh = True while Xero is connected, "
    "press Refresh on /reconcile/ in the panel, or run `pxflask reconcile` "
    "(`pxflask month-end` also reads the month-end lines and bank accounts)."
)
BILLED_KEYS = ["customer", "currency"]
UNKNOWN_CUSTOMER = "(invoice not in the report)"
_NOT_IDS = ("customer_id",)
"""Id columns that do not name the flagged row itself."""


def _age(stamp: str | dt.datetime | None, now: dt.datetime) -> str:
    """'<stamp> UTC (N days M hours ago)', or 'never' when there is no stamp."""
    if not stamp:
        return "never"
    when = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(stamp)
    minutes = max(int((now - when).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    return f"{when:%Y-%m-%d %H:%M} UTC ({days} day(s) {rest // 60} hour(s) ago)"


def freshness(
    instance_path: str | os.PathLike[str],
    session: SessionLike,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """How old the Xero snapshot, the panel's current report and the last kept are."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        loaded = read_snapshot(instance_path).loaded_at
    except SnapshotMissing:
        loaded = None
    cached = load_report(instance_path)
    entries, _ = list_entries(session, 1, 1)
    kept = entries[0] if entries else None
    rows = [
        ("Xero snapshot (invoices and payments) loaded", _age(loaded, now)),
        (
            "Panel's current report generated",
            _age(cached.generated_at if cached else None, now),
        ),
        (
            "Last report kept in the history (pxf_reconcile_reports)",
            f"#{kept.id}, " + _age(kept.generated_at, now) if kept else "none",
        ),
    ]
    return pd.DataFrame(rows, columns=["what", "when"])


def reasons_table(
    report: ReconciliationReport, scope: str = "invoices"
) -> pd.DataFrame:
    """A scope's flagged rows: category, the row's own ids, what, why, action, links."""
    flagged = report.discrepancies(scope)
    ids = [c for c in flagged.columns if c.endswith("_id") and c not in _NOT_IDS]
    numbers = ("invoice_number", "credit_note_number", "reference")
    keys = [c for c in numbers if c in flagged] + ids
    columns = ["discrepancy", *keys, *[c for c in REASON_COLUMNS if c in flagged]]
    return flagged[columns].reset_index(drop=True)


def _customer(invoices: pd.DataFrame) -> pd.Series:
    """The Perfex customer's name, else the Xero contact's."""
    return invoices["customer_name"].fillna(invoices["contact_name"]).astype("str")


def billed_vs_collected(report: ReconciliationReport) -> pd.DataFrame:
    """Billed (posted invoices) and collected (live payments) per customer/currency.

    Each side in integer cents, with ``billed_difference_cents`` and
    ``collected_difference_cents`` (Xero minus Perfex); never summed across
    currencies. Deleted Xero payments are not collected.
    """
    inv = report.invoices.assign(customer=_customer(report.invoices))
    parts = []
    for side, posted in (
        ("perfex", POSTED_PERFEX_STATUSES),
        ("xero", POSTED_XERO_STATUSES),
    ):
        live = inv[inv[f"{side}_status"].isin(posted)]
        parts.append(
            live.groupby(BILLED_KEYS)[f"{side}_total_cents"]
            .sum()
            .rename(f"{side}_billed_cents")
        )
    pays = report.payments
    deleted = pays["xero_status"].fillna("") == "DELETED"
    for side, own in (("perfex", "perfex_id"), ("xero", "xero_invoice_id")):
        known = inv.dropna(subset=[own]).drop_duplicates(own)
        who = pd.Series(known["customer"].to_numpy(), index=known[own].astype("str"))
        mine = pays[
            pays[f"{side}_amount_cents"].notna() & ~(deleted & (side == "xero"))
        ]
        ids = mine[f"{side}_invoice_id"]
        frame = pd.DataFrame(
            {
                "customer": ids.astype("str").map(who).where(ids.notna()),
                "currency": mine["currency"],
                "cents": mine[f"{side}_amount_cents"],
            }
        ).fillna({"customer": UNKNOWN_CUSTOMER})
        parts.append(
            frame.groupby(BILLED_KEYS)["cents"].sum().rename(f"{side}_collected_cents")
        )
    out = pd.concat(parts, axis=1).fillna(0).astype("int64").reset_index()
    for what in ("billed", "collected"):
        out[f"{what}_difference_cents"] = (
            out[f"xero_{what}_cents"] - out[f"perfex_{what}_cents"]
        )
    return out.sort_values(BILLED_KEYS, kind="stable").reset_index(drop=True)


def month_end_views(
    sources: Any,
    as_at: str | dt.date | None = None,
    date_from: str | dt.date | None = None,
    refresh: bool = True,
) -> MonthEnd:
    """The month-end views (aging, tax...) as at a date (default: today)."""
    day = dt.date.fromisoformat(str(as_at)) if as_at else dt.date.today()
    start = dt.date.fromisoformat(str(date_from)) if date_from else None
    if refresh and sources.gateway is not None:
        refresh_month_end(sources.gateway, sources.instance_path)
    with sources.sessions() as session:
        return build_month_end(
            sources.perfex, session, sources.instance_path, day, start
        )


def _trend_row(entry: ReconcileReport) -> dict[str, Any]:
    """One kept report's figures: when, period, flagged and money per currency."""
    row: dict[str, Any] = {
        "report": entry.id,
        "generated_at": entry.generated_at,
        "period": f"{entry.date_from or '…'} to {entry.date_to or '…'}",
        "flagged": flagged_of(entry),
    }
    for currency, money in money_of(entry).items():
        row[f"money_at_stake_{currency or '(none)'}"] = money
    return row


def discrepancy_trend(session: SessionLike, limit: int = 100) -> pd.DataFrame:
    """One row per kept report, oldest first: flagged rows and money per currency."""
    entries, _ = list_entries(session, 1, limit)
    rows = [_trend_row(e) for e in reversed(entries)]
    frame = pd.DataFrame(rows, columns=["report", "generated_at", "period", "flagged"])
    if rows:
        frame = pd.DataFrame(rows)
        money = [c for c in frame.columns if c.startswith("money_at_stake_")]
        frame[money] = frame[money].map(lambda v: Decimal(0) if pd.isna(v) else v)
    return frame


def difference_chart(
    frame: pd.DataFrame, label: str | list[str], difference: str, title: str
) -> str:
    """Horizontal bars of one difference column (Xero minus Perfex) as SVG.

    Only the rows that differ are drawn, labelled by ``label`` (columns joined).
    """
    shown = frame[frame[difference] != 0]
    height = 1.2 + 0.3 * max(len(shown), 1)
    fig = Figure(figsize=(8, height))
    ax = fig.subplots()
    if len(shown):
        labels = shown[[label] if isinstance(label, str) else label].astype("str")
        names = [" ".join(v) for v in labels.itertuples(index=False)]
        # floats for plotting only; the tables are exact
        values = [float(from_cents(int(v))) for v in shown[difference]]
        colours = ["#c0392b" if v < 0 else "#2e86c1" for v in values]
        ax.barh(names, values, color=colours)
        ax.axvline(0, color="#444", linewidth=0.8)
        ax.invert_yaxis()
    else:
        ax.text(0.5, 0.5, "no differences", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title(f"{title} (Xero minus Perfex)", loc="left")
    fig.tight_layout()
    return figure_svg(fig)
