"""Commands that set up and look after an install: seed-demo, settings, check, reset."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from pxflask.cli.errors import EXIT_ERROR, clear_errors
from pxflask.config import ConfigError


@click.command("seed-demo")
@click.option("--perfex-url", required=True, help="SQLAlchemy URL of the Perfex DB.")
@click.option("--prefix", default=None, help="Perfex table prefix (default: tbl).")
@click.option("--customers", default=40, show_default=True, type=click.IntRange(1))
@click.option("--invoices", default=300, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--admin-password",
    default=None,
    help="Password of the demo staff accounts (default: a random one, printed).",
)
@click.option(
    "--force", is_flag=True, help="Seed even if invoices or staff accounts exist."
)
@with_appcontext
@clear_errors
def seed_demo_command(
    perfex_url: str,
    prefix: str | None,
    customers: int,
    invoices: int,
    seed: int,
    admin_password: str | None,
    force: bool,
) -> None:
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
            "the module's tables are missing ("
            + ", ".join(missing)
            + "): run `pxflask db upgrade`"
        )
    click.echo("module database: ok")


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
        click.echo(
            "The sync log is deleted too: keep it first with "
            "`pxflask sync-log --csv FILE`."
        )
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
