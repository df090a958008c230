"""Charts of the report as inline SVG, drawn without pyplot (no global backend).

Text stays SVG ``<text>`` (``svg.fonttype: none``) rather than glyph paths, and the
layout is fixed rather than measured: both keep a chart at tens of milliseconds.
matplotlib is imported on first use, so importing the package stays cheap.
"""

from __future__ import annotations

import io
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.stake import category_totals

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["accessible_svg", "category_chart", "figure_svg", "monthly_chart"]

_PERFEX_COLOUR = "#3b6fb6"
_XERO_COLOUR = "#13b5ea"
_FLAG_COLOUR = "#d9534f"
_MAX_CURRENCIES = 3
MONTHLY_TITLE = "Posted invoice totals per month, Perfex and Xero"
CATEGORY_TITLE = "Discrepancies by category"


def _figure(**kwargs: Any) -> Figure:
    """A new matplotlib Figure (imported lazily)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def figure_svg(fig: Figure) -> str:
    """Render a figure as an ``<svg>`` element, deterministic and self-contained."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "pxflask", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def accessible_svg(svg: str, key: str, title: str, summary: str) -> str:
    """The SVG as an image with a ``<title>`` and a ``<desc>`` summary, for readers."""
    start = svg.index("<svg")
    head_end = svg.index(">", start)
    ids = f"{key}-title {key}-desc"
    return (
        svg[:head_end]
        + f' role="img" aria-labelledby="{ids}">'
        + f'<title id="{key}-title">{escape(title)}</title>'
        + f'<desc id="{key}-desc">{escape(summary)}</desc>'
        + svg[head_end + 1 :]
    )


def _money(cents: Any) -> str:
    """Cents as a grouped amount with two decimals (Decimal, never float)."""
    return f"{from_cents(int(cents)):,.2f}"


def _gap(cents: int) -> str:
    """How far the two totals are apart, in words (nothing when they agree)."""
    return f" (differs by {_money(abs(cents))})" if cents else ""


def _monthly_summary(by_month: pd.DataFrame, currencies: list[str]) -> str:
    """The monthly chart in words: each month's Perfex and Xero totals."""
    parts = []
    for currency in currencies:
        part = by_month[by_month["currency"] == currency].sort_values("month")
        months = "; ".join(
            f"{row.month}: Perfex {_money(row.perfex_total_cents)},"
            f" Xero {_money(row.xero_total_cents)}"
            + _gap(int(row.perfex_total_cents) - int(row.xero_total_cents))
            for row in part.itertuples()
        )
        parts.append(f"{currency}: {months}.")
    left = by_month["currency"].nunique() - len(currencies)
    if left > 0:
        parts.append(
            f"{left} smaller currenc{'y' if left == 1 else 'ies'} not charted."
        )
    return "Posted invoice totals per month, Perfex against Xero. " + " ".join(parts)


def _units(cents: pd.Series) -> list[float]:
    """Cents as currency units for plotting only (display, not arithmetic)."""
    return [float(from_cents(int(c))) for c in cents]


def monthly_chart(by_month: pd.DataFrame) -> str:
    """Perfex and Xero invoice totals per month, side by side, per currency."""
    if by_month.empty:
        fig = _figure(figsize=(7, 1.2))
        fig.text(0.5, 0.5, "No posted invoices in the period", ha="center")
        return accessible_svg(
            figure_svg(fig),
            "chart-monthly",
            MONTHLY_TITLE,
            "No posted invoices in the period.",
        )
    volume = by_month.groupby("currency")["perfex_total_cents"].sum()
    currencies = volume.sort_values(ascending=False).index[:_MAX_CURRENCIES].tolist()
    height = 2.8 * len(currencies)
    fig = _figure(figsize=(9, height))
    axes = np.atleast_1d(fig.subplots(len(currencies), 1, squeeze=False)[:, 0])
    for ax, currency in zip(axes, currencies, strict=True):
        part = by_month[by_month["currency"] == currency].sort_values("month")
        x = np.arange(len(part))
        width = 0.4
        ax.bar(
            x - width / 2,
            _units(part["perfex_total_cents"]),
            width,
            label="Perfex",
            color=_PERFEX_COLOUR,
        )
        ax.bar(
            x + width / 2,
            _units(part["xero_total_cents"]),
            width,
            label="Xero",
            color=_XERO_COLOUR,
        )
        ax.set_xticks(x, part["month"].tolist(), rotation=45, ha="right")
        ax.set_ylabel(currency)
        ax.set_title(f"Posted invoice totals per month ({currency})", loc="left")
        ax.legend(frameon=False)
        ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(
        left=0.1, right=0.98, bottom=0.75 / height, top=1 - 0.35 / height, hspace=0.55
    )
    return accessible_svg(
        figure_svg(fig),
        "chart-monthly",
        MONTHLY_TITLE,
        _monthly_summary(by_month, currencies),
    )


def category_chart(summary: pd.DataFrame) -> str:
    """Mismatch counts by category, invoices and payments (all currencies)."""
    summary = category_totals(summary)
    labels = (summary["scope"] + ": " + summary["category"]).tolist()
    counts = summary["count"].astype(int).tolist()
    height = 0.35 * len(labels) + 1
    fig = _figure(figsize=(9, height))
    ax = fig.subplots()
    y = np.arange(len(labels))
    colours = [_FLAG_COLOUR if c else "#bbbbbb" for c in counts]
    ax.barh(y, counts, color=colours)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("rows")
    ax.set_title("Discrepancies by category", loc="left")
    for yi, count in zip(y, counts, strict=True):
        ax.text(count, float(yi), f" {count:,}", va="center", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.subplots_adjust(
        left=0.3, right=0.95, bottom=0.55 / height, top=1 - 0.4 / height
    )
    flagged = [
        f"{label}: {count:,} rows" for label, count in zip(labels, counts, strict=True)
    ]
    summary = "; ".join(flagged) + "." if flagged else "No categories."
    return accessible_svg(
        figure_svg(fig),
        "chart-categories",
        CATEGORY_TITLE,
        f"{CATEGORY_TITLE}: {summary}",
    )
