"""Liveness endpoint for load balancers and the demo."""

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process serves requests; no login, no I/O."""
    return jsonify(status="ok")
