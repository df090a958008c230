"""Alembic environment for the module's own tables (run through Flask-Migrate)."""

from __future__ import annotations

from alembic import context
from flask import current_app

from pxflask.models import Base

config = context.config
TARGET = Base.metadata


def _engine():
    """The engine of the app's module database."""
    return current_app.extensions["migrate"].db.engine


def run_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    url = _engine().url.render_as_string(hide_password=False)
    context.configure(
        url=url, target_metadata=TARGET, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Apply the migrations on a live connection."""
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=TARGET,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
