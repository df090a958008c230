"""The reconciliation page: cards, charts, a filterable table, downloads, refresh."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from pxflask.extensions import db
from pxflask.jobs import submit
from pxflask.jobs.reports import (
    ERROR_KEY,
    JOB_KEY,
    reconcile_refresh_job,
    refresh_report,
)
from pxflask.queueing import QueueUnavailable, get_queue
from pxflask.reconcile import browse, history
from pxflask.reconcile.cli_support import parse_tolerance
from pxflask.reconcile.glossary import glossary
from pxflask.reconcile.loaders import perfex_invoice_count
from pxflask.reconcile.service import load_report
from pxflask.web.report_files import (
    DOWNLOADS,
    admin_email,
    downloads_of,
    send_report_file,
)
from pxflask.web.runtime import perfex_db, xero_gateway
from pxflask.xero.errors import NotConnected, XeroError

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")

HISTORY_PAGE = 20  # history entries per page
INLINE_MAX = 5000  # Perfex invoices up to which a refresh runs inside the request
ALIVE = ("queued", "scheduled", "started", "deferred")
LINK_LABELS = {"log_url": "log entry", "perfex_url": "Perfex", "xero_url": "Xero"}


def _running_job() -> str | None:
    """The id of a refresh job still queued or running, if any."""
    try:
        queue = get_queue()
        job_id = queue.get_value(JOB_KEY)
        if job_id and queue.job_status(job_id) in ALIVE:
            return job_id
    except QueueUnavailable:
        return None
    return None


def _last_job_error() -> str | None:
    """The error of the last refresh job, if it failed."""
    try:
        return get_queue().get_value(ERROR_KEY) or None
    except QueueUnavailable:
        return None


@bp.get("/")
def index():
    """The last report (or what to do first), with the refresh form."""
    status = xero_gateway().connection_status()
    cached = load_report(current_app.instance_path)
    context: dict[str, Any] = {
        "status": status,
        "cached": cached,
        "job": _running_job(),
        "job_error": _last_job_error(),
        "downloads": list(DOWNLOADS),
    }
    context.update(_history_context())
    if cached is not None:
        filters = browse.Filters.parse(request.args)
        if "category" not in request.args and not cached.report.has_discrepancies:
            filters = replace(filters, category="")
        rows = browse.filter_rows(cached.report, filters)
        report = cached.report
        currencies = sorted(
            {str(c) for c in report.invoices["currency"].dropna().unique()}
            | {str(c) for c in report.payments["currency"].dropna().unique()}
        )
        context.update(
            report=report,
            meta=cached.meta,
            cards=browse.cards(report),
            filters=filters,
            categories=browse.categories_of(filters.scope),
            currencies=currencies,
            table=browse.page_of(rows, filters.scope, filters.page),
            monthly_svg=cached.monthly_svg,
            category_svg=cached.category_svg,
            expenses=None if report.expenses is None else browse.expense_table(report),
            credit_notes=None
            if report.credit_notes is None
            else browse.credit_note_table(report),
            refunds=None if report.refunds is None else browse.refund_table(report),
            estimates=None
            if report.estimates is None
            else browse.estimate_table(report),
            terms={t.code: t for t in glossary()},
            link_labels=LINK_LABELS,
        )
        context["downloads"] = downloads_of(report)
    return render_template("reconcile/index.html", **context)


def _history_context() -> dict[str, Any]:
    """The history list's page (``hpage``) for the index page."""
    page = request.args.get("hpage", "1")
    number = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
    entries, total = history.list_entries(db.session, number, HISTORY_PAGE)
    pages = max(1, -(-total // HISTORY_PAGE))
    if number > pages:  # past the end: the last page
        number = pages
        entries, total = history.list_entries(db.session, number, HISTORY_PAGE)
    return {
        "history": entries,
        "history_total": total,
        "history_page": number,
        "history_pages": pages,
        "history_money": {e.id: history.money_of(e) for e in entries},
        "history_flagged": {e.id: history.flagged_of(e) for e in entries},
    }


def _date_field(name: str) -> dt.date | None:
    """A YYYY-MM-DD form field (None when empty); ValueError when malformed."""
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from exc


@bp.post("/refresh")
def refresh():
    """Refresh from Xero: inline for a small organisation, as a job otherwise."""
    try:
        date_from = _date_field("from")
        date_to = _date_field("to")
        tolerance = parse_tolerance(request.form.get("tolerance") or "0")
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    if date_from and date_to and date_from > date_to:
        flash("The start date is after the end date.", "error")
        return redirect(url_for(".index"))
    if not xero_gateway().connection_status().connected:
        flash("Connect Xero first: the report compares Perfex with Xero.", "error")
        return redirect(url_for(".index"))
    if _running_job():
        flash("A refresh is already running; this page shows it when done.", "info")
        return redirect(url_for(".index"))
    limit = int(current_app.config.get("RECONCILE_INLINE_MAX", INLINE_MAX))
    if perfex_invoice_count(perfex_db()) > limit:
        try:
            queue = get_queue()
            queue.set_value(ERROR_KEY, "")
            job_id = submit(
                queue,
                reconcile_refresh_job,
                date_from.isoformat() if date_from else None,
                date_to.isoformat() if date_to else None,
                str(tolerance),
                admin_email(),
            )
            queue.set_value(JOB_KEY, job_id)
        except QueueUnavailable as exc:
            flash(f"The job queue is not available: {exc}", "error")
            return redirect(url_for(".index"))
        flash("Refresh queued: large organisation, it runs in the background.", "info")
        return redirect(url_for(".index"))
    try:
        flash(refresh_report(date_from, date_to, tolerance, admin_email()), "success")
    except NotConnected as exc:
        flash(f"Connect Xero first: {exc}", "error")
    except XeroError as exc:
        flash(f"Xero refused the read: {exc}", "error")
    return redirect(url_for(".index"))


@bp.get("/download/<name>")
def download(name: str):
    """The current report as CSV, XLSX or HTML."""
    cached = load_report(current_app.instance_path)
    if name not in DOWNLOADS or cached is None:
        abort(404)
    report_id = cached.meta.get("report_id")
    entry = (
        history.get_entry(db.session, report_id)
        if type(report_id) is int and 0 < report_id < 2**31
        else None
    )
    return send_report_file(cached, entry, name)
