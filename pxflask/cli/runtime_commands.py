"""CLI commands that run the app: demo and worker."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pxflask.cli.errors import clear_errors


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--region",
    default="uk",
    show_default=True,
    type=click.Choice(["uk", "au", "nz", "us", "global"]),
    help="The country of the sandbox's Xero organisation.",
)
@with_appcontext
@clear_errors
def demo_command(port: int, region: str) -> None:
    """Everything embedded: demo Perfex DB, local Xero sandbox, queue, panel."""
    from flask import current_app

    from pxflask.demo import run_demo

    run_demo(current_app.instance_path, port, region)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(["sync", "default"]),
    help="Listen only on these queues (default: both; one sync worker).",
)
@click.option(
    "--queue-prefix",
    default=None,
    envvar="PXFLASK_QUEUE_PREFIX",
    help="Prefix of the queue names (separate installs on one Redis).",
)
@with_appcontext
@clear_errors
def worker_command(
    burst: bool, queues: tuple[str, ...], queue_prefix: str | None
) -> None:
    """An RQ worker (with scheduler) on the sync and default queues."""
    from flask import current_app

    from pxflask.jobs import run_worker

    if queue_prefix is not None:
        current_app.config["PXFLASK_QUEUE_PREFIX"] = queue_prefix
    run_worker(current_app, burst=burst, queues=queues or None)
