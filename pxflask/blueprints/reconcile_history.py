"""The reconciliation history: one report's page, downloads, compare, sign-off."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from pxflask.extensions import db
from pxflask.models import ReconcileReport
from pxflask.reconcile import browse, history
from pxflask.web.ids import ID
from pxflask.web.report_files import (
    DOWNLOADS,
    admin_email,
    downloads_of,
    send_report_file,
)

bp = Blueprint("reconcile_history", __name__, url_prefix="/reconcile/reports")


def _entry(report_id: int) -> ReconcileReport:
    """The history entry, or 404."""
    entry = history.get_entry(db.session, report_id)
    if entry is None:
        abort(404)
    return entry


@bp.get(f"/<{ID}:report_id>")
def show(report_id: int) -> tuple[str, int]:
    """One report of the history: its cover, figures, downloads and sign-off."""
    return _render(_entry(report_id))


def _render(entry: ReconcileReport, status: int = 200) -> tuple[str, int]:
    """The report's page."""
    cached = history.load_entry(current_app.instance_path, entry)
    downloads = list(DOWNLOADS) if cached is None else downloads_of(cached.report)
    return render_template(
        "reconcile/report.html",
        entry=entry,
        cover=history.cover_of(entry, {}),
        money=history.money_of(entry),
        cards=browse.cards(cached.report) if cached is not None else None,
        files=cached is not None,
        downloads=downloads,
        previous=history.previous_of(db.session, entry),
    ), status


@bp.get(f"/<{ID}:report_id>/download/<name>")
def download(report_id: int, name: str) -> Response:
    """One file of a kept report."""
    entry = _entry(report_id)
    cached = history.load_entry(current_app.instance_path, entry)
    if cached is None:
        abort(404)
    return send_report_file(cached, entry, name)


@bp.get(f"/<{ID}:report_id>/compare")
def compare(report_id: int) -> Response | str:
    """The differences with the previous report (or ``?with=<id>``)."""
    entry = _entry(report_id)
    other = request.args.get("with", "")
    if other:
        if not other.isdigit() or len(other) > 10:
            abort(404)
        previous = history.get_entry(db.session, int(other))
        if previous is None or previous.id == entry.id:
            abort(404)
    else:
        previous = history.previous_of(db.session, entry)
    if previous is None:
        flash("This is the first report: there is nothing to compare it with.", "info")
        return redirect(url_for(".show", report_id=entry.id))
    return render_template(
        "reconcile/compare.html", comparison=history.compare(entry, previous)
    )


@bp.post(f"/<{ID}:report_id>/sign-off")
def sign_off(report_id: int) -> Response | tuple[str, int]:
    """Sign the report off as the signed-in admin; refuse a second sign-off."""
    _entry(report_id)
    comment = request.form.get("comment") or ""
    if len(comment) > history.COMMENT_MAX:
        flash(f"The comment is longer than {history.COMMENT_MAX} characters.", "error")
        return redirect(url_for(".show", report_id=report_id))
    try:
        entry = history.sign_off(db.session, report_id, admin_email(), comment)
    except history.AlreadySignedOff as exc:
        flash(str(exc), "error")
        return _render(_entry(report_id), 409)
    flash(f"Report #{entry.id} signed off by {entry.signed_off_by}.", "success")
    return redirect(url_for(".show", report_id=report_id))


@bp.post(f"/<{ID}:report_id>/delete")
def delete(report_id: int) -> Response | tuple[str, int]:
    """Delete a report that is not signed off."""
    _entry(report_id)
    try:
        history.delete_report(db.session, report_id, current_app.instance_path)
    except history.SignedOffReport as exc:
        flash(str(exc), "error")
        return _render(_entry(report_id), 409)
    flash(f"Report #{report_id} deleted.", "success")
    return redirect(url_for("reconcile.index"))
