"""Behind a reverse proxy: trusted X-Forwarded-* headers, a path prefix, cookie scope.

With PXFLASK_TRUSTED_PROXIES = n (> 0), Werkzeug's ProxyFix takes the client
address, scheme, host and path prefix from the last n values of X-Forwarded-For,
-Proto, -Host, -Port and -Prefix; with 0 (the default) those headers are ignored,
so nobody can choose the address the sign-in throttle counts them under. The
session cookie is scoped to the prefix (Path=/xero), not to the whole Perfex site.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

INSECURE_SETTING = "PXFLASK_INSECURE_COOKIES"
PROXIES_SETTING = "PXFLASK_TRUSTED_PROXIES"
FORWARDED = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Prefix")
WARNED_KEY = "pxflask.untrusted_proxy_warned"

log = logging.getLogger(__name__)


class PrefixedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie's Path set to the path prefix."""

    def get_cookie_path(self, app: Flask) -> str:
        """SESSION_COOKIE_PATH when set, else the prefix the panel is served under."""
        configured = app.config.get("SESSION_COOKIE_PATH")
        if configured:
            return configured
        root = request.script_root if request else ""
        return root or app.config.get("APPLICATION_ROOT") or "/"


def secure_cookies(settings: dict) -> bool:
    """Cookies go over HTTPS only, except in the demo, the tests or on request."""
    return not (
        settings.get("PXFLASK_DEMO")
        or settings.get("TESTING")
        or settings.get(INSECURE_SETTING)
    )


def cookie_needs_https() -> bool:
    """True when this plain-HTTP request cannot keep a session: its cookie is Secure."""
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    return secure and not request.is_secure


def untrusted_proxy() -> bool:
    """True when a proxy sent X-Forwarded-* headers that no setting lets us believe."""
    trusted = int(current_app.config.get(PROXIES_SETTING) or 0)
    return not trusted and any(name in request.headers for name in FORWARDED)


def warn_untrusted_proxy() -> None:
    """Log once per process that forwarded headers arrive but none are trusted."""
    if current_app.extensions.get(WARNED_KEY) or not untrusted_proxy():
        return
    current_app.extensions[WARNED_KEY] = True
    log.warning(
        "requests carry X-Forwarded-* headers but %s is 0: every visitor shares the "
        "proxy's address for the sign-in throttle, and the scheme and path prefix "
        "are not seen; behind one reverse proxy set %s=1",
        PROXIES_SETTING,
        PROXIES_SETTING,
    )


def init_proxying(app: Flask) -> None:
    """Trust the configured number of proxies; scope the cookie to the prefix."""
    count = int(app.config.get(PROXIES_SETTING) or 0)
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=count,
            x_proto=count,
            x_host=count,
            x_port=count,
            x_prefix=count,
        )
    app.session_interface = PrefixedSessionInterface()
    app.before_request(warn_untrusted_proxy)
    app.context_processor(
        lambda: {
            "cookie_needs_https": cookie_needs_https,
            "untrusted_proxy": untrusted_proxy,
        }
    )
