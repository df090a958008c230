"""The landing page after sign-in."""

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    """Overview of the connection and the sync, with next set-up steps."""
    return render_template("dashboard/index.html")
