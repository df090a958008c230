"""A sync through the queue queues the online-links job, which reads the URLs."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.jobs import request_sync
from pxflask.models import SyncRun, XeroDocumentLink
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import close_queue, get_queue
from pxflask.sync.settings import set_setting
from pxflask.sync.xero_documents import READ, WANTED
from pxflask.web.runtime import xero_gateway
from tests.fixtures.webapp import make_test_app
from tests.sync.conftest import SETTINGS

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
ONLINE = "GET /Invoices/{InvoiceID}/OnlineInvoice"


def _states(app) -> dict[str, str | None]:
    """Online URL state per invoice row."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(XeroDocumentLink.xero_id, XeroDocumentLink.online_state)
        ).all()
    return dict(rows)


def test_a_queued_sync_is_followed_by_the_online_links_job(tmp_path, xero_sandbox):
    """After the run, the job reads every wanted URL; the run itself read none."""
    perfex_file = tmp_path / "perfex.db"
    seed_demo(f"sqlite:///{perfex_file}", customers=3, invoices=8, seed=5)
    app = make_test_app(
        tmp_path,
        f"sqlite:///{perfex_file}",
        XERO_GRANT="client_credentials",
        **xero_sandbox.config,
    )
    try:
        xero_gateway(app).connect_client_credentials()
        with app.app_context():
            for key, value in SETTINGS.items():
                set_setting(db.session, key, value)
        run = request_sync(app, None, "manual").run
        with app.app_context():
            job_id = db.session.get(SyncRun, run.id).job_id
        get_queue(app).wait(job_id, timeout=120)
        deadline = time.monotonic() + 60
        while WANTED in _states(app).values() or not _states(app):
            assert time.monotonic() < deadline, _states(app)
            time.sleep(0.1)
        states = _states(app)
        assert READ in states.values()
        calls = xero_sandbox.counters.snapshot()["calls"]
        assert calls[ONLINE] == list(states.values()).count(READ)
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_a_backfill_reads_a_few_urls_a_minute(tmp_path, xero_sandbox):
    """More wanted URLs than a job reads: it reads its share, queues the next later."""
    from pxflask.jobs import online_links_job
    from pxflask.models import utcnow
    from pxflask.sync.entities.invoices.online_urls import ONLINE_PER_RUN
    from pxflask.sync.xero_documents import mark

    app = make_test_app(
        tmp_path,
        f"sqlite:///{tmp_path / 'perfex.db'}",
        XERO_GRANT="client_credentials",
        **xero_sandbox.config,
    )
    seed_demo(f"sqlite:///{tmp_path / 'perfex.db'}", customers=1, invoices=1, seed=5)
    try:
        xero_gateway(app).connect_client_credentials()
        with app.app_context():
            for key, value in SETTINGS.items():
                set_setting(db.session, key, value)
        contact = xero_sandbox.inject.contact("Backfill Ltd")["ContactID"]
        made = [
            xero_sandbox.inject.invoice(contact)["InvoiceID"]
            for _ in range(ONLINE_PER_RUN + 5)
        ]
        with app.app_context():
            mark(db.session, made, WANTED)
            before = xero_sandbox.counters.snapshot()["calls"].get(ONLINE, 0)
            result = online_links_job()
            later = get_queue(app).scheduled_for(result["next_job"])
        calls = xero_sandbox.counters.snapshot()["calls"][ONLINE] - before
        assert calls == result["read"] == ONLINE_PER_RUN
        assert list(_states(app).values()).count(WANTED) == 5
        assert later is not None
        assert 50 <= (later - utcnow()).total_seconds() <= 61
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
