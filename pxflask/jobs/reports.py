"""The reconciliation refresh: inline for a small organisation, else this task."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app

from pxflask.extensions import db
from pxflask.panel.dashboard_queries import organisation_name
from pxflask.queueing import get_queue
from pxflask.reconcile import history
from pxflask.reconcile.month_end import refresh_month_end
from pxflask.reconcile.service import run_reconciliation
from pxflask.web.runtime import perfex_db, xero_gateway

from .registry import task

JOB_KEY = "reconcile:job"
"""Queue value: the id of the last refresh job."""
ERROR_KEY = "reconcile:error"
"""Queue value: the error of the last refresh job ("" when it succeeded)."""


def refresh_report(
    date_from: dt.date | None,
    date_to: dt.date | None,
    tolerance: Decimal,
    by: str,
    trigger: str = "panel",
) -> str:
    """Reconcile, keep the report in the history; a message for the flash."""
    run = run_reconciliation(
        perfex_db(),
        db.session,
        xero_gateway(),
        current_app.instance_path,
        tolerance=tolerance,
        date_from=date_from,
        date_to=date_to,
        perfex_url=current_app.config.get("PERFEX_URL"),
    )
    entry, _ = history.record_run(
        db.session,
        run,
        current_app.instance_path,
        generated_by=by,
        trigger=trigger,
        organisation=organisation_name(db.session),
    )
    run.xero_calls += refresh_month_end(xero_gateway(), current_app.instance_path)
    verdict = (
        "discrepancies found" if run.report.has_discrepancies else "no discrepancy"
    )
    unread = (
        f" {len(run.unreadable):,} Perfex record(s) could not be read: see the list."
        if run.unreadable
        else ""
    )
    return (
        f"Report refreshed: {verdict} ({run.xero_calls} Xero call(s), "
        f"{run.xero_mode} load). Kept as report #{entry.id}.{unread}"
    )


@task()
def reconcile_refresh_job(
    date_from: str | None, date_to: str | None, tolerance: str, by: str = "job"
) -> str:
    """Reconcile and keep the report; the queue keeps the last error for the page."""
    queue = get_queue()
    try:
        message = refresh_report(
            dt.date.fromisoformat(date_from) if date_from else None,
            dt.date.fromisoformat(date_to) if date_to else None,
            Decimal(tolerance),
            by,
            "job",
        )
    except Exception as exc:
        queue.set_value(ERROR_KEY, f"{type(exc).__name__}: {exc}")
        raise
    queue.set_value(ERROR_KEY, "")
    return message
