"""POST /webhooks/xero: Xero's signed webhooks, answered at once, handled by a job."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from pxflask.extensions import csrf
from pxflask.jobs import submit, xero_webhook_job
from pxflask.queueing import JobQueue, QueueUnavailable, get_queue
from pxflask.web.request_limits import max_body

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

MAX_BODY = 1024 * 1024
SEEN_TTL = 3 * 24 * 3600
"""How long a delivered event is remembered: a repeat within it is not handled again."""


def signature_of(body: bytes, key: str) -> str:
    """Base64 HMAC-SHA256 of the raw body with the webhook key."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _empty(status: int) -> Response:
    """An empty answer: Xero wants no body and no cookies."""
    return Response(b"", status=status)


def event_key(event: Any) -> str:
    """The name under which a delivered event is remembered: its canonical hash."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return "xero-event:" + hashlib.sha256(canonical.encode()).hexdigest()


def _queue_new(queue: JobQueue, events: list[Any]) -> None:
    """Queue the events not delivered before (a repeated delivery is handled once)."""
    claimed: list[str] = []
    new: list[Any] = []
    try:
        for event in events:
            name = event_key(event)
            if queue.remember(name, SEEN_TTL):
                claimed.append(name)
                new.append(event)
        if new:
            submit(queue, xero_webhook_job, new)
    except QueueUnavailable:
        for name in claimed:
            queue.forget(name)  # not handled: Xero's retry must get through
        raise


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    """A body over MAX_BODY (announced or chunked): 413, empty."""
    return _empty(413)


@bp.post("/xero")
@max_body(MAX_BODY)
def xero():
    """Check the signature; queue new events; 200 (valid) or 401 (invalid), empty."""
    key = current_app.config.get("XERO_WEBHOOK_KEY")
    if not key:
        return _empty(404)
    body = request.get_data(cache=False)
    given = request.headers.get("x-xero-signature", "")
    if not hmac.compare_digest(given.encode(), signature_of(body, key).encode()):
        return _empty(401)
    try:
        events = json.loads(body or b"{}").get("events") or []
    except (ValueError, AttributeError):
        return _empty(400)
    if not isinstance(events, list):
        return _empty(400)
    if not events:  # Xero's intent-to-receive check
        return _empty(200)
    try:
        _queue_new(get_queue(), events)
    except QueueUnavailable:
        return _empty(503)  # Xero retries later
    return _empty(200)
