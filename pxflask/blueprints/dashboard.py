"""The landing page after sign-in: the sync dashboard."""

from flask import Blueprint, redirect, url_for

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    """Send the admin to the per-entity sync dashboard."""
    return redirect(url_for("sync.index"))
