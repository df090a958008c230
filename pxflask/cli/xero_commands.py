"""The `pxflask xero` commands: connect and status."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import with_appcontext

from pxflask.cli.errors import EXIT_ERROR, clear_errors
from pxflask.config import ConfigError


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
