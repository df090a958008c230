"""The `pxflask` command line (README: Command line): a Flask CLI group."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from pxflask.cli.errors import EXIT_ERROR
from pxflask.cli.report_commands import month_end_command, reconcile_command
from pxflask.cli.runtime_commands import demo_command, worker_command
from pxflask.cli.setup_commands import (
    check_command,
    reset_command,
    seed_demo_command,
    settings_group,
)
from pxflask.cli.sync_commands import sync_command, sync_log_command
from pxflask.cli.xero_commands import xero_group
from pxflask.config import ConfigError

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


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
)
def main() -> None:
    """pxflask: the Perfex CRM <-> Xero integration."""
