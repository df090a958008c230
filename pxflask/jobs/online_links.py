"""The online-links job: read the online invoice URLs a sync marked wanted.

Xero allows 60 calls a minute for everything pxflask does, so the job reads a few
URLs (`ONLINE_PER_RUN`), then, while more are wanted, queues itself again a
minute later: a backfill of thousands of invoices never takes the minute's calls
from a sync or an inline reconciliation refresh that an admin is waiting for.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import current_app

from pxflask.extensions import db
from pxflask.models import utcnow
from pxflask.queueing import get_queue

from .registry import queue_of, task

ONLINE_LOCK = "online-links"
"""One online-links job at a time (two would read the same URLs)."""
PACE = timedelta(seconds=60)
"""How long the next job waits when URLs are still wanted (Xero's minute window)."""


@task()
def online_links_job() -> dict[str, Any]:
    """Read a few wanted URLs (within half the day budget); queue the rest later."""
    from pxflask.sync.entities.invoices.online_urls import (
        ONLINE_PER_RUN,
        fetch_online_urls,
        pending,
    )
    from pxflask.web.runtime import xero_gateway

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = get_queue(app)
    owner = uuid.uuid4().hex
    if queue.acquire_lock(ONLINE_LOCK, owner, 600) is not None:
        return {"skipped": "another online-links job is running"}
    try:
        found = fetch_online_urls(db.session, xero_gateway(app), ONLINE_PER_RUN)
    finally:
        queue.release_lock(ONLINE_LOCK, owner)
    result = found.as_dict()
    if found.stopped is None and pending(db.session):
        when = utcnow() + PACE
        queue_name = queue_of(online_links_job)
        result["next_job"] = queue.enqueue_at(when, online_links_job, queue=queue_name)
    return result
