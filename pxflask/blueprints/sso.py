"""/sso: the Perfex module's signed single-use token signs its admin in.

The module POSTs the token in an auto-submitting form, so it never sits in a URL
(access logs, history, Referer); GET /sso?token=... still works for links made by
hand. The POST carries no CSRF token: the signed, single-use, 60-second token is
its authentication. A `next` path is followed only through web.sessions.safe_next.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from pxflask.extensions import csrf, db
from pxflask.panel.signin import SignInRefused
from pxflask.panel.sso import SsoRefused, sign_in
from pxflask.web.runtime import perfex_db
from pxflask.web.sessions import open_session, safe_next

bp = Blueprint("sso", __name__)
csrf.exempt(bp)

NOT_CONFIGURED = (
    "Sign-in from Perfex is not set up: set PXFLASK_SSO_SECRET on the panel to the "
    "shared secret of the Perfex module's settings."
)


def _refused(message: str, status: int) -> tuple[str, int]:
    """The page that says why the token did not sign anyone in."""
    return render_template("sso/refused.html", message=message), status


def _field(name: str) -> str:
    """A field of the posted form, else of the query string ('' when absent)."""
    source = request.form if request.method == "POST" else request.args
    value = source.get(name, "")
    return value if isinstance(value, str) else ""


@bp.route("/sso", methods=["GET", "POST"])
def sso() -> Response | tuple[str, int]:
    """Verify the token and sign its admin in; a clear page on any failure."""
    secret = current_app.config.get("PXFLASK_SSO_SECRET") or ""
    if not secret:
        return _refused(NOT_CONFIGURED, 404)
    token = _field("token")
    try:
        staff = sign_in(db.session, perfex_db(), secret, token, request.remote_addr)
    except SsoRefused as refused:
        return _refused(refused.message, 403)
    except SignInRefused as refused:  # throttled
        return _refused(refused.message, 429)
    response = open_session(staff, safe_next(_field("next") or None))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
