"""A Xero delivery sent again (same events) is answered 200 and handled once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from pxflask.extensions import db
from pxflask.models import SyncLog
from pxflask.queueing import DEFAULT_QUEUE, close_queue, get_queue
from pxflask.sandbox.webhooks import payload, sign
from tests.fixtures.webapp import make_test_app
from tests.jobs.conftest import REDIS_URL, redis_prefix
from tests.security.conftest import SECRETS, WEBHOOK_KEY

__all__ = ["redis_prefix"]

EVENTS = [
    {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/inv-{n}",
        "resourceId": f"inv-{n}",
        "eventDateUtc": "2026-11-25T10:00:00.000",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": "tenant-1",
        "tenantType": "ORGANISATION",
    }
    for n in (1, 2)
]


def _deliver(client, body: bytes) -> int:
    """POST a signed delivery; the status."""
    headers = {
        "x-xero-signature": sign(body, WEBHOOK_KEY),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/xero", data=body, headers=headers).status_code


@pytest.fixture
def rq_webhook_app(tmp_path, perfex_copy_url, redis_prefix) -> Iterator[Flask]:
    """The panel on real Redis + RQ (unique queue prefix), webhook key set."""
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        REDIS_URL=REDIS_URL,
        PXFLASK_QUEUE_PREFIX=redis_prefix,
        **SECRETS,
    )
    yield app
    close_queue(app)
    with app.app_context():
        db.engine.dispose()


def test_the_same_signed_delivery_twice_queues_one_job(rq_webhook_app):
    """Same body twice on RQ: both 200, one job on the queue."""
    client = rq_webhook_app.test_client()
    body = payload(EVENTS, 1, 2)
    assert _deliver(client, body) == 200
    assert _deliver(client, body) == 200
    rq_queue = get_queue(rq_webhook_app).rq_queue(DEFAULT_QUEUE)
    assert rq_queue.count == 1
    assert rq_queue.jobs[0].args == (EVENTS,)


def test_a_redelivery_with_new_entropy_queues_only_new_events(rq_webhook_app):
    """Re-signed with other entropy: seen events are dropped, a new one is queued."""
    client = rq_webhook_app.test_client()
    assert _deliver(client, payload(EVENTS[:1], 1, 1)) == 200
    assert _deliver(client, payload(EVENTS, 1, 2)) == 200
    assert _deliver(client, payload(EVENTS, 1, 2)) == 200
    jobs = get_queue(rq_webhook_app).rq_queue(DEFAULT_QUEUE).jobs
    assert [job.args for job in jobs] == [(EVENTS[:1],), (EVENTS[1:],)]


def test_the_embedded_queue_handles_a_repeated_delivery_once(app):
    """No Redis: the same delivery twice records each event once."""
    client = app.test_client()
    body = payload(EVENTS, 1, 2)
    assert _deliver(client, body) == 200
    assert _deliver(client, body) == 200
    close_queue(app)  # waits for the jobs that were queued
    with app.app_context():
        received = select(func.count()).where(SyncLog.action == "webhook")
        assert db.session.scalar(received) == len(EVENTS)
