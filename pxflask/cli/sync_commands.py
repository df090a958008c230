"""CLI commands that run and list syncs: sync and sync-log."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from pxflask.cli.errors import EXIT_ERROR, EXIT_OK, clear_errors


@click.command("sync")
@click.argument("entities", nargs=-1)
@click.option("--full", is_flag=True, help="Resend everything, ignoring hashes.")
@click.option(
    "--since",
    default=None,
    metavar="YYYY-MM-DD",
    help="Only documents dated on or after this day.",
)
@click.option("--dry-run", is_flag=True, help="Print the payloads; write nothing.")
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False),
    help="With --dry-run: write the actions as JSON to this file.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Only the records whose last sync failed (of ENTITY, if named).",
)
@click.option(
    "--repost",
    is_flag=True,
    help="Re-post records already in Xero with the current mappings "
    "(payments); lists them first, asks to confirm.",
)
@click.option("--yes", is_flag=True, help="With --repost: do not ask to confirm.")
@with_appcontext
@clear_errors
def sync_command(
    entities: tuple[str, ...],
    full: bool,
    since: str | None,
    dry_run: bool,
    out: str | None,
    retry_failed: bool,
    repost: bool,
    yes: bool,
) -> None:
    """Run a sync in the foreground (no ENTITY: all enabled entities)."""
    from pxflask.extensions import db
    from pxflask.jobs import failed_part_owners, failed_record_keys
    from pxflask.sync.console import check_entities, run_foreground
    from pxflask.sync.repost_cli import run_repost
    from pxflask.sync.settings import load_settings
    from pxflask.web.runtime import perfex_db, xero_gateway

    if repost:
        settings = load_settings(db.session)
        sys.exit(
            run_repost(
                db.session,
                perfex_db(),
                xero_gateway(),
                settings,
                entities,
                dry_run=dry_run,
                yes=yes,
                sync=lambda entity, keys: run_foreground(
                    db.session,
                    perfex_db(),
                    xero_gateway(),
                    settings,
                    [entity],
                    record_keys={entity: keys},
                ),
            )
        )
    keys = None
    if retry_failed:
        keys = failed_record_keys(db.session, check_entities(entities))
        for owner in failed_part_owners(db.session):
            click.echo(
                f"retry: failed records kept by {owner} are retried by "
                f"`pxflask sync {owner}`"
            )
        if not keys:
            click.echo("retry: no record is in the failed state")
            sys.exit(EXIT_OK)
        entities = tuple(keys)
    status = run_foreground(
        db.session,
        perfex_db(),
        xero_gateway(),
        load_settings(db.session),
        entities,
        full=full,
        since=since,
        dry_run=dry_run,
        out=out,
        record_keys=keys,
    )
    sys.exit(status)


@click.command("sync-log")
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(1, 2**31 - 1),
    default=None,
    help="The run to list (default: the latest run with log rows).",
)
@click.option("--entity", default=None, help="Only this entity (e.g. invoices).")
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    type=click.Choice(["failed", "skipped", "blocked", "all"]),
    help="Only these outcomes (default: failed, skipped and blocked; "
    "all: every row of the run).",
)
@click.option(
    "--csv",
    "csv_file",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Write the whole sync log (every run) as CSV to this file "
    "(e.g. before `pxflask reset`).",
)
@with_appcontext
@clear_errors
def sync_log_command(
    run_id: int | None,
    entity: str | None,
    outcomes: tuple[str, ...],
    csv_file: str | None,
) -> None:
    """List every record a sync run did not sync, with the reason."""
    from pxflask.extensions import db

    if csv_file is not None:
        from pxflask.panel.log_export import write_log_csv

        try:
            with open(csv_file, "w", encoding="utf-8", newline="") as target:
                rows = write_log_csv(db.session, target)
        except OSError as exc:
            click.echo(f"error: cannot write {csv_file}: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
        click.echo(f"wrote {rows:,} log row(s) to {csv_file}")
        return
    from pxflask.sync.problems import log_lines
    from pxflask.web.runtime import perfex_db

    for line in log_lines(db.session, perfex_db, run_id, entity, outcomes):
        click.echo(line)
