"""Every reconciliation report kept: its row, its files, comparison and sign-off.

A run is recorded as a ``ReconcileReport`` row (period, tolerance, organisation,
who, when, trigger, figures as JSON) and its files under
``<instance>/reconcile/reports/<id>-<random>/``; the newest one is the page's
current report. A signed-off report cannot be deleted nor signed off again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from pxflask.dbtypes import SessionLike, rowcount
from pxflask.models import ReconcileReport, utcnow
from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.service import (
    CachedReport,
    ReportRun,
    load_report_folder,
    report_dir,
    save_report,
)
from pxflask.reconcile.stake import stake_by_currency

__all__ = [
    "COMMENT_MAX",
    "TRIGGERS",
    "AlreadySignedOff",
    "Comparison",
    "HistoryError",
    "SignedOffReport",
    "compare",
    "cover_of",
    "delete_report",
    "figures_of",
    "flagged_of",
    "get_entry",
    "latest_entry",
    "list_entries",
    "load_entry",
    "money_of",
    "previous_of",
    "record_run",
    "sign_off",
    "tolerance_text",
]

TRIGGERS = ("panel", "cli", "job")
COMMENT_MAX = 1000
_ROOT = "reports"


class HistoryError(Exception):
    """A history action that cannot be done (the message says why)."""


class AlreadySignedOff(HistoryError):
    """The report was signed off already."""


class SignedOffReport(HistoryError):
    """A signed-off report cannot be deleted."""


def figures_of(report: ReconciliationReport) -> dict[str, Any]:
    """Counts per category and money at stake per currency, each amount once (text)."""
    counts = {
        f"{row.scope}/{row.category}": int(row.count)
        for row in report.summary.itertuples(index=False)
    }
    money = dict(stake_by_currency(report.summary))
    compared = {"invoices": len(report.invoices), "payments": len(report.payments)}
    for scope in OPTIONAL_SCOPES:
        if getattr(report, scope) is not None:
            compared[scope] = len(getattr(report, scope))
    return {
        "counts": counts,
        "money_at_stake": {c: str(from_cents(v)) for c, v in sorted(money.items())},
        "compared": compared,
        "has_discrepancies": report.has_discrepancies,
    }


def _figures(entry: ReconcileReport) -> dict[str, Any]:
    """The entry's figures (an empty set when the JSON is damaged)."""
    try:
        data = json.loads(entry.figures or "{}")
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


def money_of(entry: ReconcileReport) -> dict[str, Decimal]:
    """Money at stake per currency of an entry."""
    money = _figures(entry).get("money_at_stake") or {}
    return {str(c): Decimal(str(v)) for c, v in money.items()}


def flagged_of(entry: ReconcileReport) -> int:
    """How many rows the entry flagged, all categories together."""
    counts = _figures(entry).get("counts") or {}
    return sum(int(v) for v in counts.values())


def record_run(
    session: SessionLike,
    run: ReportRun,
    instance_path: str | os.PathLike[str],
    *,
    generated_by: str,
    trigger: str,
    organisation: str | None,
) -> tuple[ReconcileReport, CachedReport]:
    """Keep a run in the history and make it the current report."""
    report = run.report
    entry = ReconcileReport(
        date_from=report.date_from,
        date_to=report.date_to,
        tolerance=str(report.tolerance),
        organisation=organisation,
        generated_at=dt.datetime.fromisoformat(run.generated_at),
        generated_by=generated_by[:255],
        trigger=trigger if trigger in TRIGGERS else "panel",
        figures=json.dumps(figures_of(report)),
    )
    session.add(entry)
    session.flush()
    entry.path = f"{_ROOT}/{entry.id}-{uuid.uuid4().hex[:8]}"
    extra = {
        "report_id": entry.id,
        "organisation": organisation,
        "generated_by": entry.generated_by,
        "trigger": entry.trigger,
    }
    try:
        cached = save_report(run, instance_path, folder=entry.path, extra=extra)
        session.commit()
    except BaseException:
        session.rollback()
        shutil.rmtree(report_dir(instance_path).parent / entry.path, True)
        raise
    return entry, cached


def list_entries(
    session: SessionLike, page: int = 1, per_page: int = 20
) -> tuple[list[ReconcileReport], int]:
    """One page of the history, newest first, and the number of entries."""
    total = session.scalar(sa.select(sa.func.count(ReconcileReport.id))) or 0
    rows = session.scalars(
        sa.select(ReconcileReport)
        .order_by(ReconcileReport.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)


def get_entry(session: SessionLike, report_id: int) -> ReconcileReport | None:
    """The history entry with this id."""
    return session.get(ReconcileReport, report_id)


def latest_entry(session: SessionLike) -> ReconcileReport | None:
    """The newest history entry."""
    return session.scalars(
        sa.select(ReconcileReport).order_by(ReconcileReport.id.desc()).limit(1)
    ).first()


def previous_of(session: SessionLike, entry: ReconcileReport) -> ReconcileReport | None:
    """The entry made just before this one."""
    return session.scalars(
        sa.select(ReconcileReport)
        .where(ReconcileReport.id < entry.id)
        .order_by(ReconcileReport.id.desc())
        .limit(1)
    ).first()


def load_entry(
    instance_path: str | os.PathLike[str], entry: ReconcileReport
) -> CachedReport | None:
    """The stored report of an entry (None when its files are gone)."""
    root = report_dir(instance_path).parent
    parts = (entry.path or "").split("/")
    if len(parts) != 2 or parts[0] != _ROOT or parts[1].startswith("."):
        return None
    folder = root / _ROOT / parts[1]
    return load_report_folder(folder) if folder.is_dir() else None


def sign_off(
    session: SessionLike, report_id: int, who: str, comment: str = ""
) -> ReconcileReport:
    """Record who approved the report, when; refuse a second sign-off."""
    comment = comment.strip()[:COMMENT_MAX]
    done = session.execute(
        sa.update(ReconcileReport)
        .where(ReconcileReport.id == report_id, ReconcileReport.signed_off_at.is_(None))
        .values(
            signed_off_by=who[:255],
            signed_off_at=utcnow().replace(microsecond=0),
            sign_off_comment=comment or None,
        )
    )
    session.commit()
    entry = session.get(ReconcileReport, report_id)
    if entry is None:
        raise HistoryError(f"report {report_id} does not exist")
    session.refresh(entry)
    if rowcount(done) != 1:
        raise AlreadySignedOff(
            f"Report {report_id} was already signed off by {entry.signed_off_by} "
            f"on {entry.signed_off_at:%Y-%m-%d %H:%M} UTC."
        )
    return entry


def delete_report(
    session: SessionLike, report_id: int, instance_path: str | os.PathLike[str]
) -> None:
    """Delete an entry and its files; a signed-off report is refused."""
    entry = session.get(ReconcileReport, report_id)
    if entry is None:
        raise HistoryError(f"report {report_id} does not exist")
    if entry.signed_off_at is not None:
        raise SignedOffReport(
            f"Report {report_id} is signed off by {entry.signed_off_by}: it is kept."
        )
    path = entry.path
    done = session.execute(
        sa.delete(ReconcileReport).where(
            ReconcileReport.id == report_id, ReconcileReport.signed_off_at.is_(None)
        )
    )
    session.commit()
    if rowcount(done) != 1:
        raise SignedOffReport(f"Report {report_id} was signed off meanwhile: kept.")
    parts = (path or "").split("/")
    if len(parts) == 2 and parts[0] == _ROOT and not parts[1].startswith("."):
        shutil.rmtree(report_dir(instance_path).parent / _ROOT / parts[1], True)


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: counts per category and money per currency."""

    current: ReconcileReport
    previous: ReconcileReport
    counts: list[tuple[str, int, int, int]]  # category, previous, current, change
    money: list[tuple[str, Decimal, Decimal, Decimal]]  # currency, prev, cur, change

    @property
    def changed(self) -> bool:
        """True when any count or amount differs."""
        return any(c[3] for c in self.counts) or any(m[3] for m in self.money)


def compare(current: ReconcileReport, previous: ReconcileReport) -> Comparison:
    """The differences of ``current`` against ``previous``."""
    now, before = _figures(current), _figures(previous)
    now_counts = now.get("counts") or {}
    old_counts = before.get("counts") or {}
    counts = []
    for key in sorted(set(now_counts) | set(old_counts)):
        a, b = int(old_counts.get(key, 0)), int(now_counts.get(key, 0))
        counts.append((key, a, b, b - a))
    now_money, old_money = money_of(current), money_of(previous)
    money = []
    for cur in sorted(set(now_money) | set(old_money)):
        was = old_money.get(cur, Decimal("0.00"))
        is_ = now_money.get(cur, Decimal("0.00"))
        money.append((cur, was, is_, is_ - was))
    return Comparison(current, previous, counts, money)


def _period(entry: ReconcileReport) -> str:
    """The entry's period in words."""
    if entry.date_from is None and entry.date_to is None:
        return "all dates"
    return f"{entry.date_from or '…'} to {entry.date_to or '…'}"


def tolerance_text(tolerance: str | Decimal) -> str:
    """The tolerance as the cover says it."""
    value = Decimal(str(tolerance))
    if value == 0:
        return "0.00 (exact: any difference is flagged)"
    return f"{value} (amounts differing by at most {value} agree)"


def cover_of(entry: ReconcileReport | None, meta: dict[str, Any]) -> dict[str, str]:
    """The cover sheet's fields of a report (entry row, else the cached meta)."""
    if entry is None:
        period = (
            f"{meta.get('date_from') or '…'} to {meta.get('date_to') or '…'}"
            if meta.get("date_from") or meta.get("date_to")
            else "all dates"
        )
        return {
            "Organisation": str(meta.get("organisation") or "-"),
            "Period": period,
            "Tolerance": tolerance_text(meta.get("tolerance") or "0"),
            "Generated at": f"{meta.get('generated_at') or '-'} UTC",
            "Generated by": str(meta.get("generated_by") or "-"),
            "Signed off": "not signed off",
        }
    signed = "not signed off"
    if entry.signed_off_at is not None:
        signed = f"by {entry.signed_off_by} on {entry.signed_off_at:%Y-%m-%d %H:%M} UTC"
        if entry.sign_off_comment:
            signed += f": {entry.sign_off_comment}"
    return {
        "Organisation": entry.organisation or "-",
        "Period": _period(entry),
        "Tolerance": tolerance_text(entry.tolerance),
        "Generated at": f"{entry.generated_at:%Y-%m-%d %H:%M:%S} UTC",
        "Generated by": f"{entry.generated_by} ({entry.trigger})",
        "Report id": f"#{entry.id}",
        "Signed off": signed,
    }
