"""The signed-in admin: Flask-Login's user, a fresh session, where to go next."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from flask_login import UserMixin, login_user
from werkzeug.wrappers import Response

from pxflask.extensions import db
from pxflask.models import utcnow
from pxflask.panel import admin_sessions
from pxflask.perfex.records import Staff

SESSION_TOKEN = "pxf_sid"  # noqa: S105 - the session key of the token, not a secret
MAX_NEXT_LENGTH = 2000


class AdminUser(UserMixin):
    """The signed-in Perfex admin, as Flask-Login sees it."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff
        self.id = str(staff.id)
        self.name = staff.full_name or staff.email
        self.email = staff.email


def open_session(staff: Staff, target: str) -> Response:
    """Start a fresh server-side session for the admin and go to the target."""
    session.clear()
    session[SESSION_TOKEN] = admin_sessions.start(
        db.session, staff, utcnow(), current_app.permanent_session_lifetime
    )
    login_user(AdminUser(staff))
    return redirect(target)


def safe_next(target: str | None) -> str:
    """The target when it is a path under this panel's prefix, else the dashboard."""
    if target and _is_local_path(target) and _under_prefix(target):
        return target
    return url_for("dashboard.index")


def _under_prefix(target: str) -> bool:
    """True for a path under the prefix the panel is served at (all, without one)."""
    root = request.script_root
    return not root or target == root or target.startswith(root + "/")


def _is_local_path(target: str) -> bool:
    """A single '/' then a path; nothing a browser could read as another host.

    Browsers drop tabs and newlines, read backslashes as slashes and skip runs
    of slashes before a host, so those and every control character are refused.
    """
    if len(target) > MAX_NEXT_LENGTH or not target.startswith("/"):
        return False
    if target[1:2] in ("/", "\\"):
        return False
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in target):
        return False
    parts = urlsplit(target.replace("\\", "/"))
    return not parts.scheme and not parts.netloc
