"""`pxflask demo`: the whole product on embedded defaults, in one process."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from werkzeug.serving import run_simple

from pxflask.jobs import start_background
from pxflask.perfex.seed import SeedRefused, seed_demo
from pxflask.queueing import close_queue
from pxflask.sandbox.server import RunningSandbox, start_sandbox

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "demo-admin"  # noqa: S105 - printed for the newcomer on purpose
DEMO_PERFEX_FILE = "demo-perfex.db"


def demo_perfex_url(instance_path: str | Path) -> str:
    """The SQLite URL of the demo Perfex database, seeding it on first use."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / DEMO_PERFEX_FILE}"
    try:
        seed_demo(
            url,
            customers=40,
            invoices=300,
            seed=2026,
            admin_password=DEMO_ADMIN_PASSWORD,
        )
    except SeedRefused:
        pass  # seeded on an earlier start: keep the admin's data
    return url


def sandbox_settings(running: RunningSandbox) -> dict[str, str]:
    """The XERO_* settings that point pxflask at a running sandbox."""
    options = running.sandbox.options
    return {
        "XERO_API_URL": running.api_url,
        "XERO_LOGIN_URL": running.url + "/identity/connect/authorize",
        "XERO_TOKEN_URL": running.url + "/identity/connect/token",
        "XERO_REVOKE_URL": running.url + "/identity/connect/revocation",
        "XERO_CONNECTIONS_URL": running.url + "/connections",
        "XERO_CLIENT_ID": options.client_id,
        "XERO_CLIENT_SECRET": options.client_secret,
        "XERO_WEBHOOK_KEY": options.webhook_key,
    }


def build_demo_app(
    instance_path: str | Path, sandbox: RunningSandbox, port: int
) -> Flask:
    """An app wired to the demo Perfex DB and the local sandbox, tables upgraded."""
    from flask_migrate import upgrade

    from pxflask import MIGRATIONS_DIR, create_app

    config = {
        "INSTANCE_PATH": str(instance_path),
        "PXFLASK_DEMO": True,
        "PERFEX_DATABASE_URL": demo_perfex_url(instance_path),
        "REDIS_URL": None,
        "XERO_REDIRECT_URI": f"http://127.0.0.1:{port}/connection/callback",
        "SANDBOX_URL": sandbox.url,
    }
    config.update(sandbox_settings(sandbox))
    app = create_app(config)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    return app


def run_demo(instance_path: str | Path, port: int, region: str = "uk") -> None:
    """Start the sandbox (an organisation of `region`) and serve the panel."""
    sandbox = start_sandbox(host="127.0.0.1", port=0, region=region)
    try:
        app = build_demo_app(instance_path, sandbox, port)
        start_background(app)
        org = sandbox.sandbox.state.tenant().name
        click.echo(f"Xero sandbox:  {sandbox.url} ({org})")
        click.echo(f"pxflask panel: http://127.0.0.1:{port}/")
        click.echo(f"demo login:    {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}")
        try:
            run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
        finally:
            close_queue(app)
    finally:
        sandbox.shutdown()
