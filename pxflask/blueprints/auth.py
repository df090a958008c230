"""Sign-in with a Perfex admin account, sign-out, and the login requirement."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from pxflask.extensions import db, login_manager
from pxflask.perfex.reads import get_staff
from pxflask.perfex.records import Staff
from pxflask.runtime import perfex_db
from pxflask.signin import SignInRefused, authenticate, is_admin

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static"}
PUBLIC_BLUEPRINTS = {"hooks", "webhooks"}


class AdminUser(UserMixin):
    """The signed-in Perfex admin, as Flask-Login sees it."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff
        self.id = str(staff.id)
        self.name = staff.full_name or staff.email
        self.email = staff.email


class LoginForm(FlaskForm):
    """Email and password of a Perfex staff account."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def load_user(user_id: str) -> AdminUser | None:
    """Reload the admin from Perfex on each request; demoted staff are signed out."""
    if not user_id.isdigit():
        return None
    staff = get_staff(perfex_db(), int(user_id))
    return AdminUser(staff) if is_admin(staff) else None


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
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign the admin in on valid credentials."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            staff = authenticate(
                db.session, perfex_db(), form.email.data, form.password.data,
                request.remote_addr,
            )
        except SignInRefused as refused:
            flash(refused.message, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(AdminUser(staff))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out (POST with CSRF token only)."""
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only follow local redirect targets after sign-in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("dashboard.index")
