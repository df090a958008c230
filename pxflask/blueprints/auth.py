"""Sign-in with a Perfex admin account (and its authenticator code), sign-out."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from pxflask.extensions import db, login_manager
from pxflask.models import utcnow
from pxflask.panel import admin_sessions
from pxflask.panel.signin import (
    SecondFactorNeeded,
    SignInRefused,
    authenticate,
    is_admin,
    verify_second_factor,
)
from pxflask.perfex.reads import get_staff
from pxflask.web.runtime import perfex_db
from pxflask.web.sessions import SESSION_TOKEN, AdminUser, open_session, safe_next

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "auth.login_code", "health.healthz", "static"}
PUBLIC_BLUEPRINTS = {"hooks", "webhooks", "sso"}
PENDING = "pxf_pending_2fa"
PENDING_SECONDS = 300


class LoginForm(FlaskForm):
    """Email and password of a Perfex staff account."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    """The six-digit code of the admin's authenticator app."""

    code = StringField("Code", validators=[DataRequired(), Length(max=20)])


@login_manager.user_loader
def load_user(user_id: str) -> AdminUser | None:
    """Reload the admin on each request: demoted staff and ended sessions are out."""
    if not user_id.isdigit() or len(user_id) > 12:
        return None
    staff = get_staff(perfex_db(), int(user_id))
    if staff is None or not is_admin(staff):
        return None
    live = admin_sessions.is_valid(
        db.session,
        session.get(SESSION_TOKEN),
        staff,
        utcnow(),
        current_app.permanent_session_lifetime,
    )
    return AdminUser(staff) if live else None


@bp.before_app_request
def require_admin():
    """Every page but the public ones needs a signed-in admin."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    if not endpoint:
        return None  # unknown URL: let Flask answer 404
    if current_user.is_authenticated:
        return None
    if request.method != "GET":
        abort(401)
    here = request.script_root + request.full_path.rstrip("?")
    return redirect(url_for("auth.login", next=here))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign the admin in, or ask for the authenticator code."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        target = safe_next(request.args.get("next"))
        try:
            staff = authenticate(
                db.session,
                perfex_db(),
                form.email.data or "",
                form.password.data or "",
                request.remote_addr,
            )
        except SecondFactorNeeded as needed:
            session.pop(SESSION_TOKEN, None)
            session[PENDING] = {
                "staff": needed.staff.id,
                "until": time.time() + PENDING_SECONDS,
                "next": target,
            }
            return redirect(url_for("auth.login_code"))
        except SignInRefused as refused:
            flash(refused.message, "error")
            return render_template("auth/login.html", form=form), 401
        return open_session(staff, target)
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step for staff with Google Authenticator in Perfex."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    pending = _pending()
    if pending is None:
        session.pop(PENDING, None)
        flash("Sign in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            staff = verify_second_factor(
                db.session,
                perfex_db(),
                pending["staff"],
                form.code.data or "",
                request.remote_addr,
            )
        except SignInRefused as refused:
            flash(refused.message, "error")
            return render_template("auth/code.html", form=form), 401
        return open_session(staff, pending["next"])
    return render_template("auth/code.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out (POST with CSRF token only): the session ends on the server too."""
    admin_sessions.revoke(db.session, session.get(SESSION_TOKEN), utcnow())
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


def _pending() -> dict | None:
    """The password step's record in the session while it is fresh, else None."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    staff_id, until = pending.get("staff"), pending.get("until")
    if not isinstance(staff_id, int) or not isinstance(until, int | float):
        return None
    if until <= time.time():
        return None
    target = pending.get("next")
    return {
        "staff": staff_id,
        "next": safe_next(target if isinstance(target, str) else None),
    }
