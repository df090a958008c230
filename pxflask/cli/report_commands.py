"""CLI commands that compare Perfex with Xero: reconcile and month-end."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import with_appcontext

from pxflask.cli.errors import clear_errors


@click.command("reconcile")
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First invoice/payment date to report (YYYY-MM-DD).",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last invoice/payment date to report (YYYY-MM-DD).",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, writable=True),
    help="Write summary.csv, invoices.csv, payments.csv, report.xlsx "
    "and report.html into this folder.",
)
@click.option(
    "--tolerance",
    default="0",
    show_default=True,
    help="Amounts differing by at most this much agree (0: exact).",
)
@click.option(
    "--full", is_flag=True, help="Reload every Xero record, not only what changed."
)
@with_appcontext
@clear_errors
def reconcile_command(
    date_from: Any, date_to: Any, out_dir: str | None, tolerance: str, full: bool
) -> None:
    """Reconcile Perfex against Xero; exit 0 agree, 1 discrepancies, 2 error."""
    from flask import current_app

    from pxflask.extensions import db
    from pxflask.panel.dashboard_queries import organisation_name
    from pxflask.reconcile.cli_support import cli_user, run_reconcile_command
    from pxflask.web.runtime import perfex_db, xero_gateway

    code = run_reconcile_command(
        perfex_db,
        db.session,
        xero_gateway,
        current_app.instance_path,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
        out_dir=out_dir,
        tolerance=tolerance,
        full=full,
        generated_by=cli_user(),
        organisation=organisation_name(db.session),
        perfex_url=current_app.config.get("PERFEX_URL"),
    )
    sys.exit(code)


@click.command("month-end")
@click.option(
    "--as-at",
    "as_at",
    default=None,
    metavar="YYYY-MM-DD",
    help="The date of the views (default: the end of last month).",
)
@click.option(
    "--from",
    "date_from",
    default=None,
    metavar="YYYY-MM-DD",
    help="First day of the period (default: the 1st of the as-at month).",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, writable=True),
    help="Write month_end_<view>.csv files into this folder.",
)
@click.option("--no-refresh", is_flag=True, help="Use the stored Xero data as it is.")
@with_appcontext
@clear_errors
def month_end_command(
    as_at: str | None, date_from: str | None, out_dir: str | None, no_refresh: bool
) -> None:
    """Month-end views (collections, as at, aging, tax); exit 0, 1 differ, 2 error."""
    from flask import current_app

    from pxflask.extensions import db
    from pxflask.reconcile.month_end_cli import run_month_end_command
    from pxflask.web.runtime import perfex_db, xero_gateway

    sys.exit(
        run_month_end_command(
            perfex_db,
            db.session,
            xero_gateway,
            current_app.instance_path,
            as_at=as_at,
            date_from=date_from,
            out_dir=out_dir,
            refresh=not no_refresh,
        )
    )
