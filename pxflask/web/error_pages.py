"""Error pages: a clear status for every error, never a traceback or a secret.

Pages answer HTML (extending base.html); the machine endpoints answer JSON (paths
ending in .json and /hooks/) or an empty body (/webhooks/, as Xero expects).
Configuration and database problems answer 503: the detail is shown only to a
signed-in admin and always written to the server log, with passwords masked.
Unexpected exceptions are logged with their traceback by Flask (passwords masked)
and shown as a plain 500 page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from pxflask.logfile import mask_logger, mask_passwords

JSON_PREFIXES = ("/hooks/",)
EMPTY_PREFIXES = ("/webhooks/",)
TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Request too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Not available",
}
MESSAGES = {
    400: "The request could not be used: check the address or the form, then "
    "try again.",
    401: "Sign in with your Perfex admin account first.",
    403: "This request is not allowed.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The request is larger than pxflask accepts.",
    429: "Too many requests: wait a moment, then try again.",
    500: "pxflask hit an unexpected error. The details are in the server log.",
}
CSRF_HEADING = "The form expired"
CSRF_COOKIE = (
    "Your browser did not send pxflask's session cookie with the form: the session "
    "ended (signed out, timed out, or the server restarted with a new key), or the "
    "browser blocked the cookie. Nothing was changed."
)
CSRF_STALE = (
    "The form belongs to an older session (signed in or out since, perhaps in "
    "another tab), so pxflask did not act on it. Nothing was changed."
)
UNAVAILABLE = (
    "pxflask cannot serve this page right now. The details are in the server log."
)
FALLBACK = (
    "<!doctype html><html lang='en'><meta charset='utf-8'><title>{title}</title>"
    "<h1>{title}</h1><p>{message}</p></html>"
)
DATABASE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
"""A database that went away or timed out: 503, not 500."""


def machine_path() -> str | None:
    """'json' or 'empty' when this request is to a machine endpoint, else None."""
    path = request.path
    if path.startswith(EMPTY_PREFIXES):
        return "empty"
    if path.endswith(".json") or path.startswith(JSON_PREFIXES):
        return "json"
    return None


def signed_in() -> bool:
    """True when a signed-in admin makes this request; False when none can be
    loaded (the Perfex database is down: nobody is signed in)."""
    try:
        return bool(current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - the user loader's database failed
        # Flask-Login's own reset of the request's user (as logout_user does),
        # so base.html does not try to load the user again.
        current_app.login_manager._update_request_context_with_user()  # type: ignore[attr-defined]
        return False


def answer(status: int, template: str, headers: Any = None, **context: Any) -> Any:
    """The error response of this request: JSON, empty, or the page."""
    kind = machine_path()
    title = context.get("heading") or TITLES.get(status, "Error")
    if kind == "empty":
        return "", status, headers or []
    if kind == "json":
        return jsonify(error=title.lower()), status, headers or []
    signed_in()
    try:
        body = render_template(template, status=status, **context)
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        current_app.logger.exception("the %s error page could not be rendered", status)
        message = context.get("message") or MESSAGES.get(status, "")
        body = FALLBACK.format(title=escape(title), message=escape(message))
    return body, status, headers or []


def http_error(exc: HTTPException) -> Any:
    """4xx and 500 pages: the status's title and a plain message."""
    status = exc.code or 500
    message = MESSAGES.get(status, "")
    if status < 500 and exc.description != type(exc).description:
        message = str(exc.description)  # a view's own reason (abort(400, ...))
    headers = [
        (key, value)
        for key, value in exc.get_headers()
        if key.lower() != "content-type"
    ]
    return answer(
        status,
        "errors/error.html",
        headers,
        heading=TITLES.get(status),
        message=message,
    )


def unavailable(exc: Exception) -> Any:
    """503: configuration or database trouble; the detail for admins and the log."""
    from pxflask.perfex.db import PerfexError

    text = str(exc).strip()
    detail = mask_passwords(text.splitlines()[0] if text else type(exc).__name__)
    current_app.logger.error("service unavailable: %s", detail)
    if isinstance(exc, PerfexError):
        heading = "The Perfex database is not usable"
    elif isinstance(exc, DATABASE_ERRORS):
        heading = "A database is not reachable"
    else:
        heading = "pxflask is not configured"
    admin = machine_path() is None and signed_in()
    return answer(
        503,
        "errors/unavailable.html",
        heading=heading,
        message=detail if admin else UNAVAILABLE,
    )


def csrf_failed(exc: CSRFError) -> Any:
    """400 for a form without a matching CSRF token: what happened and what to do."""
    reason = str(exc.description or "")
    cookie_missing = "session token is missing" in reason
    return answer(
        400,
        "errors/csrf.html",
        heading=CSRF_HEADING,
        message=CSRF_COOKIE if cookie_missing else CSRF_STALE,
        reason=reason,
    )


def register_error_pages(app: Flask) -> None:
    """Register the handlers: 503 for config/database errors, pages for the rest."""
    from pxflask.config import ConfigError
    from pxflask.perfex.db import PerfexError
    from pxflask.xero.errors import XeroConfigError

    for error in (PerfexError, ConfigError, XeroConfigError, *DATABASE_ERRORS):
        app.register_error_handler(error, unavailable)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, csrf_failed)
    mask_logger(app.logger)  # Flask logs unexpected exceptions with tracebacks here
