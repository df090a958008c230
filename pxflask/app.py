"""The app factory: settings, extensions, blueprints, CLI (no I/O, no migrations)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask

from pxflask.config import load_settings
from pxflask.panel.timestamps import when
from pxflask.web.proxying import init_proxying, secure_cookies
from pxflask.web.request_limits import init_request_limits
from pxflask.web.security_headers import init_security_headers

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, CLI. No I/O, no migrations."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "PXFLASK_INSTANCE_PATH"
    )
    app = Flask("pxflask", instance_relative_config=True, instance_path=instance_path)
    settings = load_settings(app.instance_path, config)
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["PXFLASK_DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SECRET_KEY=settings["PXFLASK_SECRET_KEY"] or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies(settings),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure_cookies(settings),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,
    )
    if config:
        app.config.update(config)

    _init_extensions(app)
    init_proxying(app)
    init_request_limits(app)
    init_security_headers(app)
    _register_blueprints(app)
    app.context_processor(
        lambda: {
            "nav_items": lambda: _nav_items(app),
            "active_nav": lambda: _active_nav(app),
        }
    )
    app.add_template_filter(_pretty_json, "pretty_json")
    app.add_template_filter(when, "when")
    _register_error_pages(app)
    from pxflask.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    """Bind the extensions created in extensions.py to this app."""
    from pxflask.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in with your Perfex admin account."
    login_manager.session_protection = "strong"


def _register_error_pages(app: Flask) -> None:
    """Error pages: 503 for configuration and database problems (details for admins
    only), 4xx/500 pages, JSON or empty answers on machine endpoints."""
    from pxflask.web.error_pages import register_error_pages

    register_error_pages(app)


NAV = (
    ("sync.index", "Dashboard"),
    ("connection.index", "Xero"),
    ("settings.index", "Settings"),
    ("sync.log", "Log"),
    ("reconcile.index", "Reconcile"),
)
NAV_PARENTS = {"reset": "settings.index"}
"""Blueprints outside the everyday nav, shown under the entry that links to them."""


def _nav_items(app: Flask) -> list[tuple[str, str]]:
    """The navigation entries whose pages this app serves."""
    return [
        (endpoint, label) for endpoint, label in NAV if endpoint in app.view_functions
    ]


def _active_nav(app: Flask) -> str | None:
    """The nav entry of this page: the longest entry its endpoint starts with."""
    from flask import request

    endpoint = request.endpoint or ""
    items = [item for item, _ in _nav_items(app)]
    prefixed = [item for item in items if endpoint.startswith(item)]
    if prefixed:
        return max(prefixed, key=len)
    blueprint = endpoint.split(".")[0]
    parent = NAV_PARENTS.get(blueprint)
    if parent in items:
        return parent
    return next((item for item in items if item.split(".")[0] == blueprint), None)


def _pretty_json(text: str | None) -> str:
    """Indent stored JSON for reading; other text is shown as it is."""
    import json

    try:
        return json.dumps(json.loads(text or ""), indent=2, ensure_ascii=False)
    except ValueError:
        return text or ""


def _register_blueprints(app: Flask) -> None:
    """Register every blueprint named in blueprints.BLUEPRINTS."""
    from pxflask.blueprints import BLUEPRINTS

    for name in BLUEPRINTS:
        module = import_module(f"pxflask.blueprints.{name}")
        app.register_blueprint(module.bp)
