"""One reconciliation run from the sources, its text summary and the report cache.

``run_reconciliation`` is what the CLI, the web page, the job and the notebooks call:
load both sides (``loaders``), ``reconcile`` them and say what the load cost.  The
last report is cached under ``<instance>/reconcile/report/`` as Parquet frames, the
two charts as SVG and a JSON file, so the page shows it without recomputing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.charts import category_chart, monthly_chart
from pxflask.reconcile.credit_run import (
    add_credit_notes,
    credit_notes_note,
    credit_notes_off,
)
from pxflask.reconcile.estimates import add_estimates, estimates_enabled
from pxflask.reconcile.expense_run import (
    add_expenses,
    credits_synced,
    expenses_enabled,
)
from pxflask.reconcile.export import format_cents
from pxflask.reconcile.loaders import load_inputs
from pxflask.reconcile.perfex_side import Unreadable
from pxflask.reconcile.reasons import annotate
from pxflask.reconcile.refunds import add_refunds, refunds_enabled
from pxflask.reconcile.report import (
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    ReconciliationReport,
    reconcile,
)
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.stake import (
    CREDITS_OFF,
    DEFINITION,
    SUMMARY_COLUMNS,
    TOTAL_CATEGORY,
    TOTAL_SCOPE,
)

__all__ = [
    "REPORT_FRAMES",
    "CachedReport",
    "ReportRun",
    "clear_all",
    "clear_report",
    "load_report",
    "load_report_folder",
    "report_dir",
    "run_reconciliation",
    "save_report",
    "summary_table",
    "write_report_files",
]

REPORT_FRAMES = (
    "invoices",
    "payments",
    "summary",
    "summary_by_currency",
    "by_month",
    "by_currency",
    "by_customer",
)
OPTIONAL_FRAMES = OPTIONAL_SCOPES  # cached when compared
_POINTER = "current.json"
_CACHE_LOCK = threading.Lock()
_CACHE: dict[str, CachedReport] = {}


@dataclass
class ReportRun:
    """A report and where its Xero side came from."""

    report: ReconciliationReport
    tenant_id: str
    xero_mode: str  # full, incremental or snapshot
    xero_calls: int
    generated_at: str = field(
        default_factory=lambda: (
            dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        )
    )
    counts: dict[str, int] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    """Damaged Perfex records the report could not read (fix them in Perfex)."""


def run_reconciliation(
    perfex: PerfexDB,
    session: SessionLike,
    gateway: Any | None,
    instance_path: str | os.PathLike[str],
    *,
    tolerance: Decimal | str = Decimal(0),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    refresh: bool = True,
    full: bool = False,
    perfex_url: str | None = None,
) -> ReportRun:
    """Load Perfex, Xero (snapshot refreshed unless ``refresh=False``) and reconcile.

    Flagged rows get their reasons and links (``reasons.annotate``); ``perfex_url``
    (the PERFEX_URL setting) makes the links to Perfex's admin pages.
    """
    inputs = load_inputs(
        perfex, session, gateway, instance_path, refresh=refresh, full=full
    )
    report = reconcile(
        *inputs.args(),
        tolerance=Decimal(str(tolerance)),
        date_from=date_from,
        date_to=date_to,
        credits_synced=credits_synced(session),
    )
    counts = {
        "perfex_invoices": len(inputs.perfex_invoices),
        "xero_invoices": len(inputs.xero_invoices),
        "perfex_payments": len(inputs.perfex_payments),
        "xero_payments": len(inputs.xero_payments),
        "links": len(inputs.links),
    }
    calls = inputs.xero.calls
    unreadable = list(inputs.unreadable)
    scopes = (
        (expenses_enabled(session), add_expenses),
        (report.credits_synced, add_credit_notes),
        (refunds_enabled(session), add_refunds),
        (estimates_enabled(session), add_estimates),
    )
    for enabled, add_scope in scopes:
        if enabled:
            report, extra, scope_counts = add_scope(
                report,
                perfex,
                session,
                gateway if refresh else None,
                instance_path,
                inputs.xero.tenant_id,
                full=full,
                unreadable=unreadable,
            )
            calls += extra
            counts.update(scope_counts)
    if not report.credits_synced:
        report = credit_notes_off(report)
    report = annotate(report, session, perfex_url)
    return ReportRun(
        report=report,
        tenant_id=inputs.xero.tenant_id,
        xero_mode=inputs.xero.mode,
        xero_calls=calls,
        counts=counts,
        unreadable=unreadable,
    )


def _period(report: ReconciliationReport) -> str:
    """The report's date window in words."""
    if report.date_from is None and report.date_to is None:
        return "all dates"
    return f"{report.date_from or '…'} to {report.date_to or '…'}"


def summary_table(report: ReconciliationReport) -> str:
    """The summary as a plain-text table (per category and currency) with a verdict."""
    summary = report.summary
    money = format_cents(summary["money_at_stake_cents"]).fillna("0.00")
    rows = [("scope", "category", "currency", "count", "at stake")]
    for i, row in enumerate(summary.itertuples(index=False)):
        rows.append(
            (row.scope, row.category, row.currency, f"{row.count:,}", money.iloc[i])
        )
    widths = [max(len(str(r[c])) for r in rows) for c in range(5)]
    right = {3, 4}
    lines = [
        f"Perfex <-> Xero reconciliation · {_period(report)} · "
        f"tolerance {report.tolerance}",
    ]
    for n, r in enumerate(rows):
        cells = [
            str(v).rjust(widths[c]) if c in right else str(v).ljust(widths[c])
            for c, v in enumerate(r)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"{TOTAL_SCOPE} {TOTAL_CATEGORY}: {DEFINITION}")
    if not report.credits_synced:
        lines.append(CREDITS_OFF)
    inv_bad = int((report.invoices["discrepancy"] != "").sum())
    pay_bad = int((report.payments["discrepancy"] != "").sum())
    lines.append(
        f"invoices compared: {len(report.invoices):,} ({inv_bad:,} with "
        f"discrepancies); payments compared: {len(report.payments):,} "
        f"({pay_bad:,} with discrepancies)"
    )
    if report.expenses is not None:
        exp_bad = int((report.expenses["discrepancy"] != "").sum())
        lines.append(
            f"expenses compared: {len(report.expenses):,} ({exp_bad:,} with "
            "discrepancies)"
        )
    if report.credit_notes is not None:
        cn_bad = int((report.credit_notes["discrepancy"] != "").sum())
        lines.append(
            f"credit notes compared: {len(report.credit_notes):,} ({cn_bad:,} with "
            "discrepancies)"
        )
    elif credit_notes_note(report):
        lines.append(credit_notes_note(report))
    lines.append(
        "result: discrepancies found"
        if report.has_discrepancies
        else "result: no discrepancy"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------ report cache


def report_dir(instance_path: str | os.PathLike[str]) -> Path:
    """The folder of the cached report inside the instance folder."""
    return Path(instance_path) / "reconcile" / "report"


@dataclass(frozen=True)
class CachedReport:
    """The last report as cached: the report, its meta data and its two charts."""

    report: ReconciliationReport
    meta: dict[str, Any]
    monthly_svg: str
    category_svg: str

    @property
    def generated_at(self) -> str:
        """When the report was made (UTC, ISO)."""
        return str(self.meta.get("generated_at") or "")

    @property
    def unreadable(self) -> list[dict[str, Any]]:
        """The Perfex records the report could not read (kind, id, label, reason)."""
        rows = self.meta.get("unreadable")
        return [r for r in rows if isinstance(r, dict)] if type(rows) is list else []


def _iso(value: dt.date | None) -> str | None:
    """A date as ISO text (None stays None)."""
    return value.isoformat() if value is not None else None


def write_report_files(
    run: ReportRun, target: Path, extra: dict[str, Any] | None = None
) -> CachedReport:
    """Write a run's frames, charts and meta into ``target`` (created)."""
    target.mkdir(parents=True, exist_ok=True)
    report = run.report
    for frame_name in REPORT_FRAMES:
        getattr(report, frame_name).to_parquet(
            target / f"{frame_name}.parquet", index=False
        )
    for name in OPTIONAL_FRAMES:
        if getattr(report, name) is not None:
            getattr(report, name).to_parquet(target / f"{name}.parquet", index=False)
    monthly = monthly_chart(report.by_month)
    categories = category_chart(report.summary)
    (target / "monthly.svg").write_text(monthly, encoding="utf-8")
    (target / "categories.svg").write_text(categories, encoding="utf-8")
    meta = {
        "tolerance": str(report.tolerance),
        "date_from": _iso(report.date_from),
        "date_to": _iso(report.date_to),
        "generated_at": run.generated_at,
        "tenant_id": run.tenant_id,
        "xero_mode": run.xero_mode,
        "xero_calls": run.xero_calls,
        "counts": run.counts,
        "has_discrepancies": report.has_discrepancies,
        "credits_synced": report.credits_synced,
        "unreadable": [u.to_dict() for u in run.unreadable],
        **(extra or {}),
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    cached = CachedReport(report, meta, monthly, categories)
    with _CACHE_LOCK:
        _CACHE.clear()
        _CACHE[str(target)] = cached
    return cached


def save_report(
    run: ReportRun,
    instance_path: str | os.PathLike[str],
    *,
    folder: str | None = None,
    extra: dict[str, Any] | None = None,
) -> CachedReport:
    """Make a run's report the current one shown by the page.

    ``folder`` (relative to ``<instance>/reconcile``, e.g. ``reports/7-ab12``) is
    where a history entry keeps its files: they stay when the next report comes.
    Without it the report replaces the previous cached one under ``report/``.
    """
    base = report_dir(instance_path)
    base.mkdir(parents=True, exist_ok=True)
    if folder is None:
        name = f"r-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        target, pointer_value = base / name, {"current": name}
    else:
        name = ""
        target, pointer_value = base.parent / folder, {"folder": folder}
    cached = write_report_files(run, target, extra)
    pointer = base / _POINTER
    tmp = base / f"{_POINTER}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(pointer_value), encoding="utf-8")
    os.replace(tmp, pointer)
    for old in base.iterdir():
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return cached


def _safe_folder(root: Path, relative: object) -> Path | None:
    """``root / relative`` when it is a plain relative folder inside ``root``."""
    if not isinstance(relative, str) or not relative:
        return None
    parts = relative.split("/")
    if any(not p or p.startswith(".") or "\\" in p for p in parts):
        return None
    folder = root.joinpath(*parts)
    return folder if folder.is_dir() else None


def _current(instance_path: str | os.PathLike[str]) -> Path | None:
    """The folder of the current report, if any."""
    base = report_dir(instance_path)
    try:
        pointer = json.loads((base / _POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(pointer, dict):
        return None
    if "folder" in pointer:
        return _safe_folder(base.parent, pointer["folder"])
    name = pointer.get("current")
    if not isinstance(name, str) or "/" in name:
        return None
    return _safe_folder(base, name)


def _date(text: str | None) -> dt.date | None:
    """An ISO date (None stays None)."""
    return dt.date.fromisoformat(text) if text else None


def load_report(instance_path: str | os.PathLike[str]) -> CachedReport | None:
    """The current report, or None when none was made yet (kept in memory once read)."""
    folder = _current(instance_path)
    return None if folder is None else load_report_folder(folder)


def load_report_folder(folder: Path) -> CachedReport | None:
    """The report stored in ``folder``, or None when missing or damaged."""
    key = str(folder)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        frames = {
            name: pd.read_parquet(folder / f"{name}.parquet") for name in REPORT_FRAMES
        }
        for name in OPTIONAL_FRAMES:
            if (folder / f"{name}.parquet").is_file():
                frames[name] = pd.read_parquet(folder / f"{name}.parquet")
        monthly = (folder / "monthly.svg").read_text(encoding="utf-8")
        categories = (folder / "categories.svg").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    if not _current_columns(frames):
        return None  # cached by an older version: the page asks for a refresh
    report = ReconciliationReport(
        **frames,
        tolerance=Decimal(meta.get("tolerance") or "0"),
        date_from=_date(meta.get("date_from")),
        date_to=_date(meta.get("date_to")),
        credits_synced=meta.get("credits_synced") is not False,
    )
    cached = CachedReport(report, meta, monthly, categories)
    with _CACHE_LOCK:
        _CACHE.clear()
        _CACHE[key] = cached
    return cached


def _current_columns(frames: dict[str, pd.DataFrame]) -> bool:
    """True when the cached frames have every column this version reads."""
    needed = {
        "invoices": INVOICE_COLUMNS,
        "payments": PAYMENT_COLUMNS,
        "summary": SUMMARY_COLUMNS,
    }
    return all(set(cols) <= set(frames[name].columns) for name, cols in needed.items())


def clear_report(instance_path: str | os.PathLike[str]) -> bool:
    """Forget the current report (the history's files stay); True when there was one."""
    base = report_dir(instance_path)
    if not base.exists():
        return False
    shutil.rmtree(base, ignore_errors=True)
    with _CACHE_LOCK:
        _CACHE.clear()
    return True


def clear_all(instance_path: str | os.PathLike[str]) -> None:
    """Forget the Xero snapshots and the cached report (e.g. after a reset)."""
    from pxflask.reconcile.loaders import clear_snapshot

    clear_snapshot(instance_path)
    clear_report(instance_path)
