"""Charts of the report as inline SVG, drawn without pyplot (no global backend)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pxflask.reconcile.frames import from_cents

__all__ = ["category_chart", "figure_svg", "monthly_chart"]

_PERFEX_COLOUR = "#3b6fb6"
_XERO_COLOUR = "#13b5ea"
_FLAG_COLOUR = "#d9534f"
_MAX_CURRENCIES = 3


def figure_svg(fig: Figure) -> str:
    """Render a figure as an ``<svg>`` element, deterministic and self-contained."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "pxflask", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _units(cents: pd.Series) -> list[float]:
    """Cents as currency units for plotting only (display, not arithmetic)."""
    return [float(from_cents(int(c))) for c in cents]


def monthly_chart(by_month: pd.DataFrame) -> str:
    """Perfex and Xero invoice totals per month, side by side, per currency."""
    if by_month.empty:
        fig = Figure(figsize=(7, 1.2))
        fig.text(0.5, 0.5, "No posted invoices in the period", ha="center")
        return figure_svg(fig)
    volume = by_month.groupby("currency")["perfex_total_cents"].sum()
    currencies = volume.sort_values(ascending=False).index[:_MAX_CURRENCIES].tolist()
    fig = Figure(figsize=(9, 2.8 * len(currencies)))
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
    fig.tight_layout()
    return figure_svg(fig)


def category_chart(summary: pd.DataFrame) -> str:
    """Mismatch counts by category, invoices and payments."""
    labels = (summary["scope"] + ": " + summary["category"]).tolist()
    counts = summary["count"].astype(int).tolist()
    fig = Figure(figsize=(9, 0.35 * len(labels) + 1))
    ax = fig.subplots()
    y = np.arange(len(labels))
    colours = [_FLAG_COLOUR if c else "#bbbbbb" for c in counts]
    ax.barh(y, counts, color=colours)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("rows")
    ax.set_title("Discrepancies by category", loc="left")
    for yi, count in zip(y, counts, strict=True):
        ax.text(count, yi, f" {count:,}", va="center", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return figure_svg(fig)
