"""Glue between the Flask app and the core: the Perfex database, start-up checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import sessionmaker

from pxflask.config import ConfigError, require_secrets
from pxflask.extensions import db
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.module_api import PerfexModule, module_from_settings
from pxflask.xero import XeroConfigError, XeroGateway
from pxflask.xero.crypto import load_cipher

PERFEX_KEY = "pxflask.perfex"
GATEWAY_KEY = "pxflask.gateway"


def perfex_db(app: Flask | None = None) -> PerfexDB:
    """The app's Perfex database, connected and checked once per process."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get(PERFEX_KEY)
    if cached is None:
        url = app.config.get("PERFEX_DATABASE_URL")
        if not url:
            raise ConfigError(
                "PERFEX_DATABASE_URL is not set: point it at the Perfex CRM database, "
                "e.g. mysql+pymysql://user:password@host/perfex"
            )
        cached = PerfexDB.connect(url, app.config.get("PERFEX_TABLE_PREFIX") or "tbl")
        cached.module = _module(app)
        app.extensions[PERFEX_KEY] = cached
    return cached


def _module(app: Flask) -> PerfexModule | None:
    """The Perfex module's API from PERFEX_MODULE_URL and PXFLASK_HOOK_TOKEN."""
    try:
        return module_from_settings(
            app.config.get("PERFEX_MODULE_URL"), app.config.get("PXFLASK_HOOK_TOKEN")
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def check_startup(app: Flask) -> None:
    """Fail fast before serving: secrets present and usable, the Perfex schema too."""
    require_secrets(app.config)
    perfex_db(app)
    if app.config.get("PXFLASK_ENCRYPTION_KEY"):
        check_encryption_key(app.config)


def check_encryption_key(settings: Mapping[str, Any]) -> None:
    """Raise ConfigError (naming the setting) for a malformed PXFLASK_ENCRYPTION_KEY."""
    try:
        load_cipher(dict(settings))
    except XeroConfigError as exc:
        raise ConfigError(str(exc)) from exc


def xero_gateway(app: Flask | None = None) -> XeroGateway:
    """The app's one Xero gateway (thread-safe), built on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get(GATEWAY_KEY)
    if cached is None:
        with app.app_context():
            sessions = sessionmaker(bind=db.engine, expire_on_commit=False)
        try:
            cached = XeroGateway.from_settings(
                dict(app.config), sessions, instance_path=app.instance_path
            )
        except XeroConfigError as exc:  # e.g. a malformed encryption key
            raise ConfigError(str(exc)) from exc
        app.extensions[GATEWAY_KEY] = cached
    return cached
