"""The online-links job: read the online invoice URLs a sync marked wanted."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from pxflask.extensions import db
from pxflask.queueing import get_queue

from .registry import task

ONLINE_LOCK = "online-links"
"""One online-links job at a time (two would read the same URLs)."""


@task()
def online_links_job() -> dict[str, Any]:
    """Read the wanted URLs (capped per job, within half the day budget)."""
    from pxflask.sync.entities.invoices.online_urls import fetch_online_urls
    from pxflask.web.runtime import xero_gateway

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = get_queue(app)
    owner = uuid.uuid4().hex
    if queue.acquire_lock(ONLINE_LOCK, owner, 600) is not None:
        return {"skipped": "another online-links job is running"}
    try:
        return fetch_online_urls(db.session, xero_gateway(app)).as_dict()
    finally:
        queue.release_lock(ONLINE_LOCK, owner)
