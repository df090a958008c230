"""Reset every sync link (as before switching to the live Xero organisation)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)

from pxflask.extensions import db
from pxflask.jobs import recover_stale_runs, relink_preview_job, submit
from pxflask.models import utcnow
from pxflask.panel import dashboard_queries as queries
from pxflask.panel.log_export import log_csv_chunks
from pxflask.panel.maintenance import (
    RelinkPreview,
    ResetRefused,
    apply_relink,
    confirmation_phrase,
    is_confirmed,
    reset_counts,
    reset_links,
)
from pxflask.queueing import QueueUnavailable, get_queue
from pxflask.reconcile.auditor import content_disposition

bp = Blueprint("reset", __name__, url_prefix="/reset")
PREVIEW_KEY = "relink_job"
"""Session key of the re-link preview job this admin started."""


def _render(status: int = 200):
    """The reset page: what would go, and the confirmation field."""
    organisation = queries.organisation_name(db.session)
    return render_template(
        "reset/index.html",
        counts=reset_counts(db.session),
        organisation=organisation,
        phrase=confirmation_phrase(organisation),
        active=queries.active_runs(db.session),
    ), status


@bp.get("/")
def index():
    """Explain the reset and ask for the organisation's name."""
    return _render()


@bp.get("/sync-log.csv")
def log_csv() -> Response:
    """The whole sync log as CSV, to keep before the reset wipes it."""
    stamp = utcnow().strftime("%Y-%m-%d")
    return Response(
        stream_with_context(log_csv_chunks(db.session)),
        mimetype="text/csv",
        headers={"Content-Disposition": content_disposition(f"sync-log_{stamp}.csv")},
    )


@bp.post("/")
def reset():
    """Reset once the typed name matches; refuse while a sync is active."""
    organisation = queries.organisation_name(db.session)
    if not is_confirmed(request.form.get("confirm", ""), organisation):
        flash(
            f"Type {confirmation_phrase(organisation)!r} exactly to confirm the reset.",
            "error",
        )
        return _render(400)
    try:
        with get_queue().guarded():
            recover_stale_runs(db.session, get_queue())
    except QueueUnavailable as exc:
        flash(f"The job queue is not available: {exc}", "error")
        return _render(503)
    try:
        summary = reset_links(db.session, instance_path=current_app.instance_path)
    except ResetRefused as exc:
        flash(str(exc), "error")
        return _render(409)
    flash(f"Reset done: {summary}.", "success")
    return redirect(url_for(".index"))


@bp.post("/relink")
def relink_start():
    """Queue a preview of the records already in the connected organisation."""
    if queries.organisation_name(db.session) is None:
        flash(
            "Connect Xero first: the preview reads the connected organisation.", "error"
        )
        return redirect(url_for(".index"))
    try:
        job_id = submit(get_queue(), relink_preview_job)
    except QueueUnavailable as exc:
        flash(f"The job queue is not available: {exc}", "error")
        return redirect(url_for(".index"))
    session[PREVIEW_KEY] = job_id
    return redirect(url_for(".relink", job=job_id))


def _preview(job_id: str) -> tuple[str | None, RelinkPreview | None]:
    """The preview job's status and, once finished, its result.

    Only the preview this admin started is read: another job's id (a sync, a
    report refresh) or a made-up one answers 404.
    """
    if not job_id or job_id != session.get(PREVIEW_KEY):
        abort(404)
    queue = get_queue()
    with queue.guarded():
        status = queue.job_status(job_id)
        result = queue.job_result(job_id) if status == "finished" else None
    return status, RelinkPreview.from_dict(result) if result else None


@bp.get("/relink")
def relink():
    """The re-link preview: matches found, conflicts, and the apply button."""
    job_id = request.args.get("job", "")
    try:
        status, preview = _preview(job_id) if job_id else (None, None)
    except QueueUnavailable as exc:
        flash(f"The job queue is not available: {exc}", "error")
        status, preview = None, None
    if job_id and status is None:
        flash("That preview has expired; start a new one.", "error")
        return redirect(url_for(".index"))
    return render_template(
        "reset/relink.html", job_id=job_id, status=status, preview=preview
    )


@bp.post("/relink/apply")
def relink_apply():
    """Create the links of a finished preview (only records not linked yet)."""
    job_id = request.form.get("job", "")
    try:
        status, preview = _preview(job_id)
    except QueueUnavailable as exc:
        flash(f"The job queue is not available: {exc}", "error")
        return redirect(url_for(".index"))
    if preview is None:
        flash(f"The preview is not ready ({status or 'unknown'}).", "error")
        return redirect(url_for(".relink", job=job_id) if status else url_for(".index"))
    created = apply_relink(db.session, preview)
    flash(
        f"{created} link(s) created; the next sync brings them in line with Perfex.",
        "success",
    )
    return redirect(url_for("sync.index"))
