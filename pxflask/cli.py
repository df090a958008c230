"""The `pxflask` command line (README: Command line): a Flask CLI group."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from pxflask.config import ConfigError

EXIT_OK, EXIT_FAILURES, EXIT_ERROR = 0, 1, 2
log = logging.getLogger(__name__)


def known_errors() -> tuple[type[BaseException], ...]:
    """Domain errors that become one clear line and exit status 2."""
    from pxflask.perfex.db import PerfexConnectionError, PerfexSchemaError
    from pxflask.perfex.seed import SeedRefused
    from pxflask.sync.settings import InvalidSetting
    from pxflask.xero.errors import XeroError

    return (ConfigError, PerfexConnectionError, PerfexSchemaError, SeedRefused,
            InvalidSetting, XeroError)


def clear_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into `error: message` on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except known_errors() as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort):
            raise
        except Exception as exc:  # never a traceback on the console: the log has it
            unexpected(exc)

    return wrapper


def unexpected(exc: BaseException) -> None:
    """One line for an error nobody foresaw (the traceback goes to the log), exit 2."""
    from flask import current_app

    from pxflask.logfile import log_path
    from pxflask.sync.failures import describe

    log.error("%s failed", " ".join(sys.argv[1:2]) or "command", exc_info=exc)
    where = log_path(current_app.config, current_app.instance_path)
    click.echo(f"error: {describe(exc)} (details in {where})", err=True)
    sys.exit(EXIT_ERROR)


@click.command("seed-demo")
@click.option("--perfex-url", required=True, help="SQLAlchemy URL of the Perfex DB.")
@click.option("--prefix", default=None, help="Perfex table prefix (default: tbl).")
@click.option("--customers", default=40, show_default=True, type=click.IntRange(1))
@click.option("--invoices", default=300, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--admin-password", default=None,
              help="Password of the demo staff accounts (default: a random one, "
                   "printed).")
@click.option("--force", is_flag=True,
              help="Seed even if invoices or staff accounts exist.")
@with_appcontext
@clear_errors
def seed_demo_command(perfex_url: str, prefix: str | None, customers: int,
                      invoices: int, seed: int, admin_password: str | None,
                      force: bool) -> None:
    """Create the Perfex tables if absent and fill them with demo data."""
    import secrets

    from flask import current_app

    from pxflask.perfex.seed import SeedRefused, seed_demo

    admin_password = admin_password or secrets.token_urlsafe(18)
    try:
        summary = seed_demo(
            perfex_url,
            prefix=prefix or current_app.config["PERFEX_TABLE_PREFIX"],
            customers=customers,
            invoices=invoices,
            seed=seed,
            force=force,
            admin_password=admin_password,
        )
    except SeedRefused as refused:
        raise SeedRefused(f"{refused}; pass --force to seed it anyway") from None
    click.echo(
        f"seeded: {summary.customers} customers, {summary.invoices} invoices, "
        f"{summary.payments} payments, {summary.credit_notes} credit notes, "
        f"{summary.expenses} expenses"
    )
    click.echo(f"admin login: {summary.admin_email} / {summary.admin_password}")
    click.echo("(the seeded staff and inactive admin accounts share this password)")


@click.group("settings")
def settings_group() -> None:
    """Read and write module settings."""


@settings_group.command("show")
@with_appcontext
@clear_errors
def settings_show() -> None:
    """Print every setting as KEY = VALUE."""
    from pxflask.extensions import db
    from pxflask.sync.settings import load_settings

    for key, value in sorted(load_settings(db.session).items()):
        click.echo(f"{key} = {value}")


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
@with_appcontext
@clear_errors
def settings_set(key: str, value: str) -> None:
    """Validate and store one setting."""
    from pxflask.extensions import db
    from pxflask.sync.settings import chart_warning, set_setting

    clean = set_setting(db.session, key, value)
    click.echo(f"{key} = {clean}")
    unchecked = chart_warning(db.session, {key: clean})
    if unchecked:
        click.echo(f"warning: {unchecked}", err=True)


@click.command("check")
@with_appcontext
@clear_errors
def check_command() -> None:
    """Check the secrets, the module database and the Perfex schema."""
    from flask import current_app
    from sqlalchemy import inspect

    from pxflask.extensions import db
    from pxflask.perfex.db import safe_url
    from pxflask.web.runtime import check_startup, perfex_db

    check_startup(current_app)
    perfex = perfex_db()
    click.echo(f"perfex: {safe_url(perfex.engine.url)} (prefix {perfex.prefix!r}) ok")
    tables = set(inspect(db.engine).get_table_names())
    missing = sorted(set(db.metadata.tables) - tables)
    if missing:
        raise ConfigError(
            "the module's tables are missing (" + ", ".join(missing)
            + "): run `pxflask db upgrade`"
        )
    click.echo("module database: ok")


@click.group("xero")
def xero_group() -> None:
    """The Xero connection."""


@xero_group.command("connect")
@with_appcontext
@clear_errors
def xero_connect() -> None:
    """Connect a Xero Custom Connection (XERO_GRANT=client_credentials)."""
    from flask import current_app

    from pxflask.web.runtime import xero_gateway

    if current_app.config["XERO_GRANT"] != "client_credentials":
        raise ConfigError(
            "`pxflask xero connect` is for a Xero Custom Connection: set "
            "XERO_GRANT=client_credentials, or connect in the web panel at /connection/"
        )
    tenant = xero_gateway().connect_client_credentials()
    click.echo(f"connected: {tenant.name} ({tenant.tenant_id})")


@xero_group.command("status")
@with_appcontext
@clear_errors
def xero_status() -> None:
    """Print connection, tenant, token expiry and quota; exit 2 when not connected."""
    from pxflask.web.runtime import xero_gateway

    status = xero_gateway().connection_status()
    rows = [
        ("connected", _connected_text(status)),
        ("tenant", f"{status.tenant_name or '-'} ({status.tenant_id or '-'})"),
        ("grant", status.grant_type or "-"),
        ("access token expires", f"{status.access_expires_at or '-'} UTC"),
        ("refresh token expires", f"{status.refresh_expires_at or '-'} UTC"),
        ("scopes", " ".join(status.scopes) or "-"),
        ("calls left this minute", _or_dash(status.minute_remaining)),
        ("calls left today", _or_dash(status.day_remaining)),
        ("period lock date", _lock_text(status)),
    ]
    for label, value in rows:
        click.echo(f"{label:>24}: {value}")
    if status.refresh_warning:
        click.echo(f"warning: {status.refresh_warning}")
    if not status.connected:
        click.echo(f"error: {status.message}", err=True)
        sys.exit(EXIT_ERROR)


def _connected_text(status: Any) -> str:
    """yes, no, or needs reconnecting (made with other app credentials)."""
    if status.connected:
        return "yes"
    return "no: needs reconnecting" if status.needs_reconnect else "no"


def _lock_text(status: Any) -> str:
    """The lock date the last sync read, or why there is none."""
    if status.lock_seen_at is None:
        return "- (read by the next sync that sends dated documents)"
    read = f"read {status.lock_seen_at:%Y-%m-%d %H:%M} UTC"
    return f"{status.lock_date or 'none (books open)'}, {read}"


def _or_dash(value: object) -> str:
    """The value as text, or a dash when unknown."""
    return "-" if value is None else str(value)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--region", default="uk", show_default=True,
              type=click.Choice(["uk", "au", "nz", "us", "global"]),
              help="The country of the sandbox's Xero organisation.")
@with_appcontext
@clear_errors
def demo_command(port: int, region: str) -> None:
    """Everything embedded: demo Perfex DB, local Xero sandbox, queue, panel."""
    from flask import current_app

    from pxflask.demo import run_demo

    run_demo(current_app.instance_path, port, region)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option("--queue", "queues", multiple=True,
              type=click.Choice(["sync", "default"]),
              help="Listen only on these queues (default: both; one sync worker).")
@click.option("--queue-prefix", default=None, envvar="PXFLASK_QUEUE_PREFIX",
              help="Prefix of the queue names (separate installs on one Redis).")
@with_appcontext
@clear_errors
def worker_command(burst: bool, queues: tuple[str, ...],
                   queue_prefix: str | None) -> None:
    """An RQ worker (with scheduler) on the sync and default queues."""
    from flask import current_app

    from pxflask.jobs import run_worker

    if queue_prefix is not None:
        current_app.config["PXFLASK_QUEUE_PREFIX"] = queue_prefix
    run_worker(current_app, burst=burst, queues=queues or None)


@click.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
@clear_errors
def reset_command(yes: bool) -> None:
    """Clear every sync link, run, log row and the cached chart of accounts."""
    from flask import current_app

    from pxflask.extensions import db
    from pxflask.jobs import recover_stale_runs
    from pxflask.panel.maintenance import ResetRefused, reset_links
    from pxflask.queueing import QueueUnavailable, get_queue

    if not yes:
        click.echo("The sync log is deleted too: keep it first with "
                   "`pxflask sync-log --csv FILE`.")
        click.confirm("Forget every link between Perfex and Xero?", abort=True)
    queue = get_queue()
    try:
        if queue.mode == "rq":  # the embedded queue of this process knows no jobs
            with queue.guarded():
                recover_stale_runs(db.session, queue)
        summary = reset_links(db.session, instance_path=current_app.instance_path)
    except (ResetRefused, QueueUnavailable) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"reset: {summary}")


@click.command("reconcile")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First invoice/payment date to report (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last invoice/payment date to report (YYYY-MM-DD).")
@click.option("--out", "out_dir", default=None,
              type=click.Path(file_okay=False, writable=True),
              help="Write summary.csv, invoices.csv, payments.csv, report.xlsx "
                   "and report.html into this folder.")
@click.option("--tolerance", default="0", show_default=True,
              help="Amounts differing by at most this much agree (0: exact).")
@click.option("--full", is_flag=True,
              help="Reload every Xero record, not only what changed.")
@with_appcontext
@clear_errors
def reconcile_command(date_from: Any, date_to: Any, out_dir: str | None,
                      tolerance: str, full: bool) -> None:
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
@click.option("--as-at", "as_at", default=None, metavar="YYYY-MM-DD",
              help="The date of the views (default: the end of last month).")
@click.option("--from", "date_from", default=None, metavar="YYYY-MM-DD",
              help="First day of the period (default: the 1st of the as-at month).")
@click.option("--out", "out_dir", default=None,
              type=click.Path(file_okay=False, writable=True),
              help="Write month_end_<view>.csv files into this folder.")
@click.option("--no-refresh", is_flag=True, help="Use the stored Xero data as it is.")
@with_appcontext
@clear_errors
def month_end_command(as_at: str | None, date_from: str | None, out_dir: str | None,
                      no_refresh: bool) -> None:
    """Month-end views (collections, as at, aging, tax); exit 0, 1 differ, 2 error."""
    from flask import current_app

    from pxflask.extensions import db
    from pxflask.reconcile.month_end_cli import run_month_end_command
    from pxflask.web.runtime import perfex_db, xero_gateway

    sys.exit(run_month_end_command(
        perfex_db, db.session, xero_gateway, current_app.instance_path,
        as_at=as_at, date_from=date_from, out_dir=out_dir, refresh=not no_refresh,
    ))


@click.command("sync")
@click.argument("entities", nargs=-1)
@click.option("--full", is_flag=True, help="Resend everything, ignoring hashes.")
@click.option("--since", default=None, metavar="YYYY-MM-DD",
              help="Only documents dated on or after this day.")
@click.option("--dry-run", is_flag=True, help="Print the payloads; write nothing.")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="With --dry-run: write the actions as JSON to this file.")
@click.option("--retry-failed", is_flag=True,
              help="Only the records whose last sync failed (of ENTITY, if named).")
@click.option("--repost", is_flag=True,
              help="Re-post records already in Xero with the current mappings "
                   "(payments); lists them first, asks to confirm.")
@click.option("--yes", is_flag=True, help="With --repost: do not ask to confirm.")
@with_appcontext
@clear_errors
def sync_command(entities: tuple[str, ...], full: bool, since: str | None,
                 dry_run: bool, out: str | None, retry_failed: bool,
                 repost: bool, yes: bool) -> None:
    """Run a sync in the foreground (no ENTITY: all enabled entities)."""
    from pxflask.extensions import db
    from pxflask.jobs import failed_part_owners, failed_record_keys
    from pxflask.sync.console import check_entities, run_foreground
    from pxflask.sync.repost_cli import run_repost
    from pxflask.sync.settings import load_settings
    from pxflask.web.runtime import perfex_db, xero_gateway

    if repost:
        settings = load_settings(db.session)
        sys.exit(run_repost(
            db.session, perfex_db(), xero_gateway(), settings, entities,
            dry_run=dry_run, yes=yes,
            sync=lambda entity, keys: run_foreground(
                db.session, perfex_db(), xero_gateway(), settings, [entity],
                record_keys={entity: keys}),
        ))
    keys = None
    if retry_failed:
        keys = failed_record_keys(db.session, check_entities(entities))
        for owner in failed_part_owners(db.session):
            click.echo(f"retry: failed records kept by {owner} are retried by "
                       f"`pxflask sync {owner}`")
        if not keys:
            click.echo("retry: no record is in the failed state")
            sys.exit(EXIT_OK)
        entities = tuple(keys)
    status = run_foreground(
        db.session, perfex_db(), xero_gateway(), load_settings(db.session),
        entities, full=full, since=since, dry_run=dry_run, out=out,
        record_keys=keys,
    )
    sys.exit(status)


@click.command("sync-log")
@click.option("--run", "run_id", type=click.IntRange(1, 2**31 - 1), default=None,
              help="The run to list (default: the latest run with log rows).")
@click.option("--entity", default=None, help="Only this entity (e.g. invoices).")
@click.option("--outcome", "outcomes", multiple=True,
              type=click.Choice(["failed", "skipped", "blocked", "all"]),
              help="Only these outcomes (default: failed, skipped and blocked; "
                   "all: every row of the run).")
@click.option("--csv", "csv_file", default=None,
              type=click.Path(dir_okay=False, writable=True),
              help="Write the whole sync log (every run) as CSV to this file "
                   "(e.g. before `pxflask reset`).")
@with_appcontext
@clear_errors
def sync_log_command(run_id: int | None, entity: str | None,
                     outcomes: tuple[str, ...], csv_file: str | None) -> None:
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


COMMANDS: list[click.Command] = [
    seed_demo_command,
    check_command,
    settings_group,
    demo_command,
    xero_group,
    worker_command,
    reset_command,
    reconcile_command,
    month_end_command,
    sync_command,
    sync_log_command,
]


def register_cli(app: Flask) -> None:
    """Attach the pxflask commands to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    """App factory for the console script."""
    from pxflask import create_app
    from pxflask.logfile import log_path, use_log_file

    try:
        app = create_app()
    except ConfigError as exc:  # a malformed setting: one clear line, exit 2
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    use_log_file(log_path(app.config, app.instance_path))
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """pxflask: the Perfex CRM <-> Xero integration."""
