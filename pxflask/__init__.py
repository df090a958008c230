"""pxflask: the Perfex CRM <-> Xero integration, as a Flask admin panel."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pxflask.app import MIGRATIONS_DIR, create_app

__all__ = ["MIGRATIONS_DIR", "create_app"]


def __getattr__(name: str) -> Any:
    """Load the Flask app factory on first use, so the core packages stay Flask-free."""
    if name in __all__:
        return getattr(import_module("pxflask.app"), name)
    raise AttributeError(f"module 'pxflask' has no attribute {name!r}")
