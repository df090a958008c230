"""Security headers on every response: framing, sniffing, referrers, CSP, HSTS.

Framing is allowed to the panel itself, and to the origins listed in
PXFLASK_FRAME_ANCESTORS (the Perfex URL, to show the panel inside Perfex); then
X-Frame-Options, which cannot name another origin, is left out.
"""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, request

from pxflask.config import ConfigError

HSTS = "max-age=31536000"
# Scripts only from our static files; inline styles stay allowed (style attributes
# in the templates, the <style> of matplotlib's SVG charts). No form-action: the
# "Connect to Xero" form redirects to Xero's sign-in page.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors {ancestors}"
)
ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


def frame_ancestors(setting: object) -> list[str]:
    """The origins allowed to frame the panel besides itself (space-separated)."""
    if isinstance(setting, list | tuple):
        setting = " ".join(str(item) for item in setting)
    origins = [origin.rstrip("/") for origin in str(setting or "").split()]
    wrong = [origin for origin in origins if not ORIGIN.fullmatch(origin)]
    if wrong:
        raise ConfigError(
            f"PXFLASK_FRAME_ANCESTORS: {wrong[0]!r} is not an origin like "
            "https://perfex.example.com (separate several with spaces)"
        )
    return origins


def add_security_headers(response: Response) -> Response:
    """Set the headers a view did not set itself."""
    extra = frame_ancestors(current_app.config.get("PXFLASK_FRAME_ANCESTORS"))
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy", CSP.format(ancestors=" ".join(["'self'", *extra]))
    )
    if not extra:
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask) -> None:
    """Check PXFLASK_FRAME_ANCESTORS; add the security headers to every response."""
    frame_ancestors(app.config.get("PXFLASK_FRAME_ANCESTORS"))
    app.after_request(add_security_headers)
