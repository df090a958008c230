"""The sandbox's HTTP helpers: the running Sandbox, JSON answers and bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, current_app, request

from .serialize import dumps

if TYPE_CHECKING:
    from .core import Sandbox

EXTENSION_KEY = "xero_sandbox"
"""Where the Flask app keeps its Sandbox (app.extensions)."""


def current_sandbox() -> Sandbox:
    """The Sandbox of the running Flask app."""
    return current_app.extensions[EXTENSION_KEY]


def json_response(
    body: Any, status: int = 200, mimetype: str = "application/json"
) -> Response:
    """A JSON response written with the Decimal-aware encoder."""
    return Response(dumps(body), status=status, mimetype=mimetype)


def json_body() -> dict[str, Any]:
    """The request's JSON body (empty when absent)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}
