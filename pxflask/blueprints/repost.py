"""Dry-run record lists and the re-post with current mappings (preview, confirm)."""

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

from pxflask.extensions import db
from pxflask.jobs import InvalidSyncRequest, request_sync
from pxflask.models import SyncRun
from pxflask.queueing import QueueUnavailable
from pxflask.sync import preview, repost
from pxflask.sync.settings import load_settings
from pxflask.web.ids import ID
from pxflask.web.runtime import perfex_db, xero_gateway
from pxflask.xero.errors import XeroError

bp = Blueprint("repost", __name__, url_prefix="/sync")
ROWS_SHOWN = 500
"""Rows shown per entity on the dry-run page (the rest are counted)."""


@bp.get(f"/dry-runs/<{ID}:run_id>")
def dry_run(run_id: int):
    """The records a dry run would create, update, delete or skip, with reasons."""
    run = db.session.get(SyncRun, run_id)
    if run is None or not run.dry_run:
        abort(404)
    rows = preview.load(current_app.instance_path, run_id)
    groups = preview.by_entity(rows or [])
    return render_template(
        "sync/dry_run.html",
        run=run,
        ready=rows is not None,
        groups=groups,
        counts={entity: preview.counts(found) for entity, found in groups.items()},
        shown=ROWS_SHOWN,
    )


@bp.get("/repost")
def repost_preview():
    """What re-posting an entity with the current mappings would change."""
    entity = request.args.get("entity", "payments")
    try:
        plan = repost.preview(
            db.session, perfex_db(), xero_gateway(), load_settings(db.session), entity
        )
    except repost.RepostRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("sync.index"))
    except XeroError as exc:
        flash(f"Could not read Xero for the preview: {exc}", "error")
        return redirect(url_for("sync.index"))
    return render_template("sync/repost.html", plan=plan)


@bp.post("/repost")
def repost_confirm():
    """Flag the confirmed records and queue a sync that re-posts them."""
    entity = request.form.get("entity", "")
    keys = request.form.getlist("key")
    try:
        flagged = repost.mark(db.session, entity, keys)
    except repost.RepostRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("sync.index"))
    if not flagged:
        flash("Nothing to re-post.", "info")
        return redirect(url_for("sync.index"))
    try:
        result = request_sync(
            db.session, [entity], "manual", record_keys={entity: flagged}
        )
    except (InvalidSyncRequest, QueueUnavailable) as exc:
        flash(f"Could not queue the re-post: {exc}", "error")
        return redirect(url_for("sync.index"))
    flash(
        f"Re-posting {len(flagged)} {entity} record(s) with the current mappings:"
        f" run #{result.run.id}.",
        "success",
    )
    return redirect(url_for("sync.index", run=result.run.id))
