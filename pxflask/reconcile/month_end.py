"""The month-end views: collections, invoices as at a date, aged receivables, tax.

``build_month_end`` computes them from the data the reconciliation already has: the
Perfex database, the stored Xero snapshot and the month-end extras (no Xero call;
``refresh_month_end`` reads Xero, in the report's refresh).  Every money column is
integer cents; ``csv_of`` formats them and defuses text for spreadsheets.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile import month_end_perfex as px
from pxflask.reconcile.aging import aged_receivables, as_at_invoices
from pxflask.reconcile.collections import collections
from pxflask.reconcile.export import BOM, format_cents
from pxflask.reconcile.loaders import load_inputs, load_xero
from pxflask.reconcile.month_end_xero import read_extras, refresh_extras
from pxflask.reconcile.spreadsheet import write_csv
from pxflask.reconcile.tax_period import tax_per_rate
from pxflask.reconcile.xero_records import connected_tenant
from pxflask.sync.settings import load_settings

__all__ = [
    "VIEWS",
    "MonthEnd",
    "build_month_end",
    "csv_of",
    "parse_period",
    "refresh_month_end",
    "write_month_end",
]

VIEWS = {
    "collections": "Collections",
    "as_at": "Invoices as at the date",
    "aging": "Aged receivables",
    "tax": "Tax per rate",
}
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
"""Dates the views accept (pandas timestamps end in 2262)."""


@dataclass
class MonthEnd:
    """The four views of one period, and how fresh their Xero side is."""

    as_at: dt.date
    date_from: dt.date | None
    frames: dict[str, pd.DataFrame]
    xero_loaded_at: str | None = None
    extras_loaded_at: str | None = None
    notes: list[str] = field(default_factory=list)

    def differences(self) -> dict[str, int]:
        """How many rows of each view differ between Perfex and Xero."""
        out = {}
        for name, frame in self.frames.items():
            if "differs" in frame:
                out[name] = int(frame["differs"].sum())
            else:
                diff = [c for c in frame.columns if "difference" in c]
                out[name] = int((frame[diff] != 0).any(axis=1).sum())
        return out


def _day(text: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD date or None when empty; ValueError naming the field."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text) if len(text) == 10 else _bad(name, text)
    except ValueError:
        return _bad(name, text)
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"{name}: {day} is not between {MIN_DATE} and {MAX_DATE}")
    return day


def _bad(name: str, text: str) -> dt.date:
    """Raise the error of a malformed date."""
    raise ValueError(f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD)")


def parse_period(
    as_at: str | None, date_from: str | None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """(from, as at): by default last month's end and the 1st of the as-at month."""
    today = today or dt.date.today()
    end = _day(as_at, "as_at") or today.replace(day=1) - dt.timedelta(days=1)
    start = _day(date_from, "from") or end.replace(day=1)
    if start > end:
        raise ValueError(f"from {start} is after as_at {end}")
    return start, end


def refresh_month_end(gateway: Any, instance_path: str | os.PathLike[str]) -> int:
    """Read the month-end extras of the connected tenant; return the Xero calls."""
    return refresh_extras(gateway, instance_path, connected_tenant(gateway)).calls


def build_month_end(
    perfex: PerfexDB,
    session: SessionLike,
    instance_path: str | os.PathLike[str],
    as_at: dt.date,
    date_from: dt.date | None = None,
) -> MonthEnd:
    """Compute the views from Perfex and the stored Xero data (no Xero call)."""
    inputs = load_inputs(perfex, session, None, instance_path, refresh=False)
    extras = read_extras(instance_path, inputs.xero.tenant_id)
    settings = load_settings(session)
    modes = px.mode_names(perfex)
    p_inv, p_pay = inputs.perfex_invoices, inputs.perfex_payments
    x_inv, x_pay = inputs.xero_invoices, inputs.xero_payments
    mode_ids = set(p_pay["mode"].dropna().astype(str))
    frames: dict[str, pd.DataFrame] = {}
    frames["collections"] = collections(
        p_inv,
        p_pay,
        x_inv,
        x_pay,
        inputs.links,
        modes=modes,
        mode_account={m: px.mode_account(settings, m) for m in mode_ids},
        accounts=px.account_names(session),
        x_accounts=extras.accounts if extras else None,
        as_at=as_at,
        date_from=date_from,
    )
    frames["as_at"] = as_at_invoices(
        p_inv, p_pay, px.credits(perfex), x_inv, x_pay, inputs.links, as_at
    )
    frames["aging"] = aged_receivables(frames["as_at"])
    lines = px.tax_lines(perfex, p_inv)
    types = px.tax_types(session, perfex, set(lines["key"]))
    frames["tax"] = tax_per_rate(
        p_inv,
        lines,
        types,
        x_inv,
        extras.lines if extras else None,
        as_at=as_at,
        date_from=date_from,
    )
    notes = []
    if extras is None:
        notes.append(
            "Xero's invoice lines and payment accounts were not read yet: refresh "
            "the report (the tax view's Xero side and the bank accounts are empty)."
        )
    elif (extras.loaded_at or "") < (inputs.xero.loaded_at or ""):
        notes.append(
            "Xero's invoice lines and payment accounts are older than its invoices "
            "and payments: refresh the report (or run pxflask month-end)."
        )
    return MonthEnd(
        as_at,
        date_from,
        frames,
        xero_loaded_at=inputs.xero.loaded_at,
        extras_loaded_at=extras.loaded_at if extras else None,
        notes=notes,
    )


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame for people: cents as amounts, dates as days, 'differs' as yes."""
    out = {}
    for col in frame.columns:
        series = frame[col]
        if col.endswith("_cents") or "_cents_" in col:
            out[col.replace("_cents", "")] = format_cents(series)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").fillna("")
        elif col == "differs":
            out[col] = series.map({True: "yes", False: ""})
        else:
            out[col] = series
    return pd.DataFrame(out)


def csv_of(frame: pd.DataFrame) -> str:
    """One view as CSV text (UTF-8 BOM first, text cells defused)."""
    buf = io.StringIO()
    buf.write(BOM)
    write_csv(shown(frame), buf, "%Y-%m-%d")
    return buf.getvalue()


def write_month_end(month_end: MonthEnd, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write month_end_<view>.csv for each view; return the paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in month_end.frames.items():
        path = folder / f"month_end_{name}.csv"
        path.write_text(csv_of(frame), encoding="utf-8", newline="")
        paths.append(path)
    return paths


def refresh_xero(gateway: Any, instance_path: str | os.PathLike[str]) -> int:
    """Refresh the reconciliation snapshot and the extras; return the calls."""
    return load_xero(gateway, instance_path).calls + refresh_month_end(
        gateway, instance_path
    )
