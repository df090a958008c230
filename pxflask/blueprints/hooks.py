"""POST /hooks/perfex: a "record changed" nudge from Perfex, with a bearer token."""

from __future__ import annotations

import hmac
import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from pxflask.extensions import csrf, db
from pxflask.jobs import InvalidSyncRequest, request_sync
from pxflask.panel import xero_links
from pxflask.queueing import QueueUnavailable
from pxflask.sync.settings import ENTITY_NAMES, enabled_entities, load_settings
from pxflask.web.request_limits import max_body

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)

MAX_BODY = 4096
MAX_ID = 2**31 - 1  # Perfex's record ids are INT columns
DIGITS = re.compile(r"[0-9]{1,10}")


def _authorised() -> bool:
    """Constant-time comparison of the bearer token with PXFLASK_HOOK_TOKEN."""
    expected = current_app.config.get("PXFLASK_HOOK_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def record_id(value: Any) -> int | None:
    """A Perfex record id (a JSON number or a string of digits), None if not one."""
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> tuple[Response, int]:
    """A body over MAX_BODY, announced or chunked."""
    return jsonify(error=f"body too large (at most {MAX_BODY} bytes)"), 413


@bp.post("/perfex")
@max_body(MAX_BODY)
def perfex():
    """Queue a targeted sync of the named record; answer 202 with the run id."""
    if not current_app.config.get("PXFLASK_HOOK_TOKEN"):
        abort(404)
    if not _authorised():
        return jsonify(error="invalid or missing bearer token"), 401
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error='send JSON like {"entity": "invoices", "id": 123}'), 400
    entity = body.get("entity")
    if entity not in ENTITY_NAMES:
        known = ", ".join(ENTITY_NAMES)
        return jsonify(error=f'"entity" must be one of: {known}'), 400
    key = record_id(body.get("id"))
    if key is None:
        return jsonify(
            error=f'"id" must be a Perfex record id: a whole number from 1 to {MAX_ID}'
        ), 400
    if entity not in enabled_entities(load_settings(db.session)):
        return jsonify(error=f"entity {entity!r} is not enabled in the settings"), 422
    try:
        result = request_sync(
            db.session, [entity], "hook", record_keys={entity: [str(key)]}
        )
    except InvalidSyncRequest as exc:
        return jsonify(error=str(exc)), 422
    except QueueUnavailable as exc:
        return jsonify(error=f"queue unavailable: {exc}"), 503
    return jsonify(
        run_id=result.run.id, created=result.created, status=result.run.status
    ), 202


@bp.get("/perfex/xero-links/<entity>/<key>")
def xero_links_of(entity: str, key: str):
    """The links to Xero of one Perfex record, for the module's invoice page."""
    if not current_app.config.get("PXFLASK_HOOK_TOKEN"):
        abort(404)
    if not _authorised():
        return jsonify(error="invalid or missing bearer token"), 401
    record = record_id(key)
    if entity not in ENTITY_NAMES or record is None:
        return jsonify(error="unknown entity or record id"), 404
    found = xero_links.for_perfex_record(db.session, entity, str(record))
    body: dict[str, Any] = {"entity": entity, "id": record, "linked": found is not None}
    if found is not None:
        body.update(
            deep_link=found.deep_link,
            online_url=found.online_url,
            email_state=found.email_state,
        )
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
