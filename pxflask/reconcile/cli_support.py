"""The body of ``pxflask reconcile`` (no Flask: the CLI hands in the sources)."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import click
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB, PerfexError
from pxflask.reconcile.export import write_outputs
from pxflask.reconcile.frames import FrameError
from pxflask.reconcile.history import cover_of, record_run
from pxflask.reconcile.loaders import SnapshotMissing
from pxflask.reconcile.month_end import refresh_month_end
from pxflask.reconcile.service import run_reconciliation, summary_table

__all__ = [
    "EXIT_DISCREPANCIES",
    "EXIT_ERROR",
    "EXIT_OK",
    "cli_user",
    "run_reconcile_command",
]

EXIT_OK, EXIT_DISCREPANCIES, EXIT_ERROR = 0, 1, 2
MAX_TOLERANCE = Decimal(1_000_000_000)
"""Larger tolerances are no amount (1e999999 overflowed the cents)."""


def parse_tolerance(text: str) -> Decimal:
    """A non-negative amount; raise ValueError otherwise."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValueError(
            f"tolerance must be an amount such as 0.01, not {text!r}"
        ) from exc
    if not value.is_finite() or not 0 <= value <= MAX_TOLERANCE:
        raise ValueError(
            f"tolerance must be an amount from 0 to {MAX_TOLERANCE:,}, not {text!r}"
        )
    return value


def cli_user() -> str:
    """``cli:<user>``: who ran the command, as the history records it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = os.environ.get("USER") or "unknown"
    return f"cli:{user}"


def _fail(message: str) -> int:
    """Print one error line and return the error status."""
    click.echo(f"error: {message}", err=True)
    return EXIT_ERROR


def run_reconcile_command(
    perfex: Callable[[], PerfexDB],
    session: SessionLike,
    gateway: Callable[[], Any],
    instance_path: str | os.PathLike[str],
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    tolerance: str = "0",
    full: bool = False,
    generated_by: str = "cli",
    organisation: str | None = None,
    perfex_url: str | None = None,
) -> int:
    """Build, print, cache and optionally write the report; return the exit status.

    0: Perfex and Xero agree; 1: discrepancies found or Perfex records that could
    not be read (damaged rows, listed); 2: an error (not connected,
    Perfex unreachable or not Perfex, bad options, unwritable output folder).
    Xero errors propagate (the CLI's ``clear_errors`` turns them into status 2).
    """
    try:
        tol = parse_tolerance(tolerance)
    except ValueError as exc:
        return _fail(str(exc))
    if date_from and date_to and date_from > date_to:
        return _fail(f"--from {date_from} is after --to {date_to}")
    try:
        run = run_reconciliation(
            perfex(),
            session,
            gateway(),
            instance_path,
            tolerance=tol,
            date_from=date_from,
            date_to=date_to,
            full=full,
            perfex_url=perfex_url,
        )
        refresh_month_end(gateway(), instance_path)  # the month-end views' lines
    except (PerfexError, FrameError, SnapshotMissing, sa.exc.SQLAlchemyError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    report = run.report
    click.echo(summary_table(report))
    if run.unreadable:
        click.echo(
            f"could not read {len(run.unreadable):,} Perfex record(s); left out "
            "of the comparison (fix them in Perfex):"
        )
        for u in run.unreadable:
            click.echo(f"  {u.kind} {u.label} (id {u.perfex_id}): {u.reason}")
    click.echo(
        f"xero: {run.xero_mode} load, {run.xero_calls} call(s); "
        f"perfex: {run.counts['perfex_invoices']:,} invoice(s), "
        f"{run.counts['perfex_payments']:,} payment(s)"
    )
    cover = None
    try:
        entry, _ = record_run(
            session,
            run,
            instance_path,
            generated_by=generated_by,
            trigger="cli",
            organisation=organisation,
        )
        cover = cover_of(entry, {})
        click.echo(f"kept as report #{entry.id} in the panel's history")
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        click.echo(f"warning: the report was not kept in the history: {exc}", err=True)
    if out_dir is not None:
        try:
            paths = write_outputs(report, out_dir, cover)
        except OSError as exc:
            return _fail(f"cannot write the report files to {out_dir}: {exc}")
        click.echo(f"wrote {', '.join(sorted(paths))} to {out_dir}")
    if report.has_discrepancies or run.unreadable:
        return EXIT_DISCREPANCIES
    return EXIT_OK
