"""The month-end page: collections, invoices as at a date, aged receivables, tax."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from pxflask.extensions import db
from pxflask.reconcile.loaders import SnapshotMissing
from pxflask.reconcile.month_end import (
    VIEWS,
    build_month_end,
    csv_of,
    parse_period,
    shown,
)
from pxflask.web.runtime import perfex_db

bp = Blueprint("month_end", __name__, url_prefix="/reconcile/month-end")


def _period() -> tuple:
    """(from, as at) of the query string; 400 when malformed."""
    try:
        return parse_period(request.args.get("as_at"), request.args.get("from"))
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/")
def index():
    """The four views side by side for the chosen period."""
    date_from, as_at = _period()
    try:
        month_end = build_month_end(
            perfex_db(), db.session, current_app.instance_path, as_at, date_from
        )
    except SnapshotMissing:
        month_end = None
    tables = {}
    if month_end is not None:
        tables = {name: shown(frame) for name, frame in month_end.frames.items()}
    return render_template(
        "reconcile/month_end.html",
        as_at=as_at,
        date_from=date_from,
        month_end=month_end,
        views=VIEWS,
        tables=tables,
        differences=month_end.differences() if month_end else {},
    )


@bp.get("/<view>.csv")
def download(view: str):
    """One view as CSV (text defused against formula injection)."""
    if view not in VIEWS:
        abort(404)
    date_from, as_at = _period()
    try:
        month_end = build_month_end(
            perfex_db(), db.session, current_app.instance_path, as_at, date_from
        )
    except SnapshotMissing:
        abort(404)
    name = f"month_end_{view}_{as_at.isoformat()}.csv"
    return Response(
        csv_of(month_end.frames[view]),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
