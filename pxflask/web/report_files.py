"""A reconciliation report's files as downloads, and who signs a report off."""

from __future__ import annotations

import io

from flask import Response, abort
from flask_login import current_user

from pxflask.models import ReconcileReport
from pxflask.reconcile import history
from pxflask.reconcile.auditor import content_disposition, download_name
from pxflask.reconcile.export import csv_text, render_html, write_xlsx
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.service import CachedReport

DOWNLOADS = {
    "summary.csv": "text/csv",
    "invoices.csv": "text/csv",
    "payments.csv": "text/csv",
    "expenses.csv": "text/csv",
    "credit_notes.csv": "text/csv",
    "by_month.csv": "text/csv",
    "by_customer.csv": "text/csv",
    "report.xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "report.html": "text/html",
}


def downloads_of(report: ReconciliationReport) -> list[str]:
    """The files of a report: the optional scopes' CSV only when compared."""
    absent = {
        f"{scope}.csv" for scope in OPTIONAL_SCOPES if getattr(report, scope) is None
    }
    return [d for d in DOWNLOADS if d not in absent]


def admin_email() -> str:
    """The signed-in admin's email (what the history records)."""
    return str(getattr(current_user, "email", "") or "admin")


def send_report_file(
    cached: CachedReport, entry: ReconcileReport | None, name: str
) -> Response:
    """One file of a report, named after the organisation and the period."""
    if name not in DOWNLOADS:
        abort(404)
    report = cached.report
    organisation = (
        entry.organisation if entry is not None else cached.meta.get("organisation")
    )
    filename = download_name(organisation, report.date_from, report.date_to, name)
    headers = {"Content-Disposition": content_disposition(filename)}
    if name == "report.xlsx":
        buf = io.BytesIO()
        write_xlsx(report, buf, history.cover_of(entry, cached.meta))
        return Response(buf.getvalue(), mimetype=DOWNLOADS[name], headers=headers)
    if name == "report.html":
        body = render_html(report)
    else:
        frame = getattr(report, name.removesuffix(".csv"))
        if frame is None:
            abort(404)
        body = csv_text(frame)  # text defused against formula injection
    return Response(body, mimetype=DOWNLOADS[name], headers=headers)
