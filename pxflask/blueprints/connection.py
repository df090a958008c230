"""Connect one Xero organisation: OAuth2 sign-in or a Custom Connection."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from pxflask.extensions import db
from pxflask.sync.settings import get_setting
from pxflask.web.runtime import xero_gateway
from pxflask.xero.errors import XeroError

bp = Blueprint("connection", __name__, url_prefix="/connection")

STATE_KEY = "xero_oauth_state"
VERIFIER_KEY = "xero_oauth_verifier"


@bp.get("/")
def index():
    """Connection status, tenant picker and the connect/disconnect buttons."""
    gateway = xero_gateway()
    status = gateway.connection_status()
    tenants = []
    if status.needs_tenant:
        try:
            tenants = gateway.tenants()
        except XeroError as exc:
            flash(str(exc), "error")
    return render_template(
        "connection/index.html",
        status=status,
        tenants=tenants,
        grant=current_app.config["XERO_GRANT"],
        has_credentials=bool(current_app.config.get("XERO_CLIENT_ID")),
        addresses=_addresses(),
    )


@bp.post("/connect")
def connect():
    """Start the OAuth2 sign-in at Xero, or connect a Custom Connection."""
    gateway = xero_gateway()
    try:
        if current_app.config["XERO_GRANT"] == "client_credentials":
            tenant = gateway.connect_client_credentials()
            flash(f"Connected to {tenant.name}.", "success")
            return redirect(url_for(".index"))
        request_ = gateway.start_authorization(
            redirect_uri=_redirect_uri(),
            legacy_scopes=get_setting(db.session, "legacy_scopes") == "yes",
        )
    except XeroError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    session[STATE_KEY] = request_.state
    session[VERIFIER_KEY] = request_.code_verifier
    return redirect(request_.url)


@bp.get("/callback")
def callback():
    """Finish the sign-in: check `state`, store the token, pick the tenant."""
    expected = session.pop(STATE_KEY, None)
    verifier = session.pop(VERIFIER_KEY, None)
    if request.args.get("error"):
        flash(f"Xero did not connect: {request.args['error']}", "error")
        return redirect(url_for(".index"))
    try:
        tenants = xero_gateway().complete_authorization(
            request.args.get("code", ""),
            request.args.get("state", ""),
            expected,
            redirect_uri=_redirect_uri(),
            code_verifier=verifier,
        )
    except XeroError as exc:
        flash(str(exc), "error")
        return index(), 400
    if len(tenants) == 1:
        flash(f"Connected to {tenants[0].name}.", "success")
    else:
        flash("Choose the Xero organisation to sync with.", "info")
    return redirect(url_for(".index"))


@bp.post("/tenant")
def choose_tenant():
    """Keep the organisation picked from several."""
    try:
        tenant = xero_gateway().choose_tenant(request.form.get("tenant_id", ""))
    except XeroError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Connected to {tenant.name}.", "success")
    return redirect(url_for(".index"))


@bp.post("/disconnect")
def disconnect():
    """Revoke the token at Xero and forget the connection."""
    try:
        xero_gateway().disconnect()
    except XeroError as exc:
        flash(f"Disconnected here; Xero said: {exc}", "warning")
    else:
        flash("Disconnected from Xero.", "info")
    return redirect(url_for(".index"))


@bp.app_context_processor
def xero_alert() -> dict[str, str | None]:
    """The "Xero needs reconnecting" alert of every other page, once signed in."""
    if not current_user.is_authenticated or request.blueprint == bp.name:
        return {"xero_alert": None}
    try:
        stale = xero_gateway().tokens.stale()
    except (SQLAlchemyError, XeroError):  # the page itself reports these
        db.session.rollback()
        return {"xero_alert": None}
    return {"xero_alert": stale.message if stale else None}


def _redirect_uri() -> str:
    """The configured redirect URI, else this app's callback URL."""
    return current_app.config.get("XERO_REDIRECT_URI") or url_for(
        ".callback", _external=True
    )


def _addresses() -> list[tuple[str, str, str, str]]:
    """The panel's addresses for Xero and Perfex, as the browser reached it."""
    callback = url_for(".callback", _external=True)
    redirect_note = "Xero app → Configuration → Redirect URIs."
    if _redirect_uri() != callback:
        redirect_note += f" Set by XERO_REDIRECT_URI; this panel's own is {callback}."
    return [
        ("redirect", "OAuth 2.0 redirect URI", _redirect_uri(), redirect_note),
        (
            "webhooks",
            "Webhook delivery URL",
            url_for("webhooks.xero", _external=True),
            "Xero app → Webhooks (needs XERO_WEBHOOK_KEY).",
        ),
        (
            "hooks",
            "Perfex hook URL",
            url_for("hooks.perfex", _external=True),
            "The Perfex module's settings (needs PXFLASK_HOOK_TOKEN).",
        ),
    ]
