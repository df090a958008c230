"""The sync dashboard, run requests with live progress, the log and retries."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from pxflask.config import ConfigError
from pxflask.extensions import db
from pxflask.jobs import (
    InvalidSyncRequest,
    SyncRequest,
    next_due,
    request_sync,
    retry_failed,
    retry_log_entry,
    retry_record,
)
from pxflask.models import SyncRun
from pxflask.panel import dashboard_queries as queries
from pxflask.panel import xero_links
from pxflask.panel.log_filter import InvalidFilter, LogFilter, parse_log_filter
from pxflask.panel.log_search import perfex_keys
from pxflask.panel.provenance import provenance
from pxflask.perfex.db import PerfexError
from pxflask.queueing import QueueUnavailable, get_queue
from pxflask.sync.advice import setting_keys
from pxflask.sync.settings import ENTITY_NAMES, enabled_entities, load_settings
from pxflask.web.ids import ID, MAX_ID
from pxflask.web.runtime import perfex_db
from pxflask.web.taxes import entity_labels, tax_questions

bp = Blueprint("sync", __name__, url_prefix="/sync")
RETURN_PAGES = {"settings": "settings.index"}
"""Pages a run request may come back to (`back` field); anything else: the dashboard."""


def fix_links(message: str | None) -> list[tuple[str, str]]:
    """(settings key, link to its field) for every setting a message names."""
    page = url_for("settings.index")
    return [(key, f"{page}#{key}") for key in setting_keys(message)]


def _wants_json() -> bool:
    """True when the caller asked for JSON (the dashboard's fetch calls)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def _back(**params: Any) -> str:
    """Where a run request returns: the page it came from when known, else here."""
    page = RETURN_PAGES.get(request.form.get("back", ""))
    return url_for(page) if page else url_for(".index", **params)


def _answer(result: SyncRequest | None, what: str):
    """Redirect (or JSON) after a run request, saying what happened."""
    if result is None:
        message = f"Nothing to {what}."
        if _wants_json():
            return jsonify(run_id=None, message=message), 200
        flash(message, "info")
        return redirect(_back())
    run = result.run
    if result.created:
        message = f"Run #{run.id} queued ({run.scope})."
    else:
        message = (
            f"Run #{run.id} for {run.scope} is already {run.status}; following it."
        )
    if _wants_json():
        return jsonify(
            run_id=run.id,
            created=result.created,
            message=message,
            progress_url=url_for(".run_json", run_id=run.id),
        ), 202
    flash(message, "success" if result.created else "info")
    return redirect(_back(run=run.id))


def _refused(message: str, status: int = 400):
    """Report a refused request as a flash (or JSON error)."""
    if _wants_json():
        return jsonify(error=message), status
    flash(message, "error")
    return redirect(_back())


@bp.get("/")
def index():
    """Per-entity counts, runs, quota, set-up steps and the sync buttons."""
    session = db.session
    settings = load_settings(session)
    steps = queries.setup_steps(session)
    try:
        due = next_due()
        queue_error = None
    except QueueUnavailable as exc:
        due, queue_error = {}, str(exc)
    return render_template(
        "sync/index.html",
        stats=queries.entity_stats(session, entity_labels()),
        enabled=set(enabled_entities(settings)),
        settings=settings,
        steps=steps,
        step_links={
            step.endpoint: url_for(step.endpoint)
            for step in steps
            if step.endpoint in current_app.view_functions
        },
        setup_done=all(step.done for step in steps),
        taxes=tax_questions(settings),
        quota=queries.quota(session),
        last_run=queries.last_finished_run(session),
        active=queries.active_runs(session),
        runs=queries.latest_runs(session),
        failed_total=queries.failed_link_count(session),
        next_sync=due.get("scheduled-sync"),
        next_watch=due.get("watch"),
        queue_mode=get_queue().mode,
        queue_error=queue_error,
    )


@bp.post("/run")
def run():
    """Queue a sync of one entity or all enabled entities."""
    entity = (request.form.get("entity") or "").strip()
    entities = [entity] if entity else None
    try:
        result = request_sync(
            db.session,
            entities,
            "manual",
            full=request.form.get("full") == "1",
            since=(request.form.get("since") or "").strip() or None,
            dry_run=request.form.get("dry_run") == "1",
        )
    except InvalidSyncRequest as exc:
        return _refused(str(exc))
    except QueueUnavailable as exc:
        return _refused(f"The job queue is not available: {exc}", 503)
    return _answer(result, "sync")


@bp.get(f"/runs/<{ID}:run_id>.json")
def run_json(run_id: int):
    """A run's progress, polled by the dashboard."""
    run = db.session.get(SyncRun, run_id)
    if run is None:
        abort(404)
    meta: dict = {}
    if run.job_id and run.status in ("queued", "running"):
        try:
            with get_queue().guarded():
                meta = get_queue().job_meta(run.job_id)
        except QueueUnavailable:
            meta = {}
    return jsonify(queries.run_progress(run, meta))


@bp.get("/log")
def log():
    """The sync log with filters and pagination."""
    status = 200
    try:
        filters = parse_log_filter(request.args.to_dict())
    except InvalidFilter as exc:
        flash(str(exc), "error")
        filters, status = LogFilter(), 400
    page = queries.search_log(db.session, filters, perfex_keys=_named(filters.text))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "sync/log.html",
        page=page,
        filters=filters,
        args=args,
        entities=sorted(set(queries.log_entities(db.session)) | set(ENTITY_NAMES)),
        outcomes=queries.OUTCOMES,
        actions=queries.log_actions(db.session),
        fix_links=fix_links,
        xero_links=xero_links.for_log(db.session, page.rows),
    ), status


def _named(text: str) -> dict[str, Any] | None:
    """The Perfex records a log search names (number, customer); None without."""
    if not text:
        return None
    try:
        return perfex_keys(perfex_db(), text)
    except (ConfigError, PerfexError):
        return None  # the log still answers on what it stores itself


@bp.get(f"/log/<{ID}:log_id>")
def log_entry(log_id: int):
    """One log row: the Perfex record, the payload sent, Xero's answer, the error."""
    entry = queries.log_entry(db.session, log_id)
    if entry is None:
        abort(404)
    link = queries.record_link(db.session, entry.entity, entry.perfex_key)
    xero_id = (link.xero_id if link else None) or entry.xero_id
    return render_template(
        "sync/entry.html",
        entry=entry,
        summary=queries.perfex_summary(perfex_db(), entry.entity, entry.perfex_key),
        link=link,
        made_in_xero=provenance(db.session, link),
        xero=xero_links.for_record(db.session, entry.entity, xero_id),
        history=queries.record_history(db.session, entry.entity, entry.perfex_key),
        retryable=bool(entry.perfex_key) and entry.entity in ENTITY_NAMES,
        fix_links=fix_links,
    )


@bp.post(f"/retry/<{ID}:log_id>")
def retry(log_id: int):
    """Queue a targeted sync of the record of one log row."""
    try:
        result = retry_log_entry(db.session, log_id)
    except LookupError:
        abort(404)
    except InvalidSyncRequest as exc:
        return _refused(str(exc))
    except QueueUnavailable as exc:
        return _refused(f"The job queue is not available: {exc}", 503)
    return _answer(result, "retry")


@bp.post("/retry/<entity>/<key>")
def retry_key(entity: str, key: str):
    """Queue a targeted sync of one record by entity and Perfex key."""
    if entity not in ENTITY_NAMES or not _is_key(key):
        abort(404)
    try:
        result = retry_record(db.session, entity, key)
    except InvalidSyncRequest as exc:
        return _refused(str(exc))
    except QueueUnavailable as exc:
        return _refused(f"The job queue is not available: {exc}", 503)
    return _answer(result, "retry")


def _is_key(key: str) -> bool:
    """True for a Perfex record key: an id of 1 to MAX_ID in ASCII digits."""
    return key.isascii() and key.isdigit() and len(key) <= 10 and 0 < int(key) <= MAX_ID


@bp.post("/retry-failed")
def retry_all_failed():
    """Queue one targeted sync of every failed record."""
    try:
        result = retry_failed(db.session)
    except QueueUnavailable as exc:
        return _refused(f"The job queue is not available: {exc}", 503)
    return _answer(result, "retry: no record is in the failed state")
