"""GET /sso?token=...: the Perfex module's signed link signs its admin in."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from pxflask.blueprints.auth import _sign_in
from pxflask.extensions import db
from pxflask.runtime import perfex_db
from pxflask.signin import SignInRefused
from pxflask.sso import SsoRefused, sign_in

bp = Blueprint("sso", __name__)

NOT_CONFIGURED = (
    "Sign-in from Perfex is not set up: set PXFLASK_SSO_SECRET on the panel to the "
    "shared secret of the Perfex module's settings."
)


def _refused(message: str, status: int) -> tuple[str, int]:
    """The page that says why the link did not sign anyone in."""
    return render_template("sso/refused.html", message=message), status


@bp.get("/sso")
def sso() -> Response | tuple[str, int]:
    """Verify the token and sign its admin in; a clear page on any failure."""
    secret = current_app.config.get("PXFLASK_SSO_SECRET") or ""
    if not secret:
        return _refused(NOT_CONFIGURED, 404)
    token = request.args.get("token", "")
    try:
        staff = sign_in(db.session, perfex_db(), secret, token, request.remote_addr)
    except SsoRefused as refused:
        return _refused(refused.message, 403)
    except SignInRefused as refused:  # throttled
        return _refused(refused.message, 429)
    response = _sign_in(staff, url_for("dashboard.index"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
