"""The body of ``pxflask month-end`` (no Flask: the CLI hands in the sources)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB, PerfexError
from pxflask.reconcile.cli_support import EXIT_DISCREPANCIES, EXIT_ERROR, EXIT_OK
from pxflask.reconcile.frames import FrameError
from pxflask.reconcile.loaders import SnapshotMissing
from pxflask.reconcile.month_end import (
    VIEWS,
    build_month_end,
    parse_period,
    refresh_xero,
    write_month_end,
)

__all__ = ["run_month_end_command"]


def run_month_end_command(
    perfex: Callable[[], PerfexDB],
    session: SessionLike,
    gateway: Callable[[], Any],
    instance_path: str | os.PathLike[str],
    *,
    as_at: str | None,
    date_from: str | None = None,
    out_dir: str | None = None,
    refresh: bool = True,
) -> int:
    """Refresh Xero (unless told not to), print the views' differences, write CSVs.

    0: both sides agree in every view; 1: a view differs; 2: an error.
    """
    try:
        start, end = parse_period(as_at, date_from)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    try:
        calls = refresh_xero(gateway(), instance_path) if refresh else 0
        month_end = build_month_end(perfex(), session, instance_path, end, start)
    except (PerfexError, FrameError, SnapshotMissing, sa.exc.SQLAlchemyError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"error: {text}", err=True)
        return EXIT_ERROR
    click.echo(f"Month end {start} to {end} (as at {end}); Xero calls: {calls}")
    differences = month_end.differences()
    for name, title in VIEWS.items():
        count = differences[name]
        verdict = f"{count} row(s) differ" if count else "both sides agree"
        click.echo(f"  {title}: {len(month_end.frames[name])} row(s), {verdict}")
    for note in month_end.notes:
        click.echo(f"note: {note}")
    if out_dir is not None:
        try:
            paths = write_month_end(month_end, out_dir)
        except OSError as exc:
            click.echo(f"error: cannot write to {out_dir}: {exc}", err=True)
            return EXIT_ERROR
        click.echo(f"wrote {', '.join(p.name for p in paths)} to {out_dir}")
    return EXIT_DISCREPANCIES if any(differences.values()) else EXIT_OK
