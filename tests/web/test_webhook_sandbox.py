"""Xero's webhooks end to end: the sandbox signs and posts to the running panel."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from werkzeug.serving import make_server

from pxflask.extensions import db
from pxflask.models import Link, SyncLog
from pxflask.queueing import close_queue
from pxflask.sandbox.webhooks import deliver_pending, send_intent_to_receive
from pxflask.web.runtime import xero_gateway
from tests.fixtures.webapp import make_test_app


def test_sandbox_webhooks_are_verified_queued_and_pulled(
    tmp_path, perfex_copy_url, xero_sandbox
):
    """Intent-to-receive passes; a voided invoice is pulled and its link frozen."""
    key = xero_sandbox.sandbox.options.webhook_key
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        XERO_GRANT="client_credentials",
        XERO_WEBHOOK_KEY=key,
        **xero_sandbox.config,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks/xero"
    try:
        xero_gateway(app).connect_client_credentials()
        assert send_intent_to_receive(url, key) == (200, 401)

        xero_sandbox.sandbox.take_events()
        contact = xero_sandbox.inject.contact("Webhook Ltd")
        invoice = xero_sandbox.inject.invoice(contact["ContactID"])
        with app.app_context():
            db.session.add(
                Link(
                    entity="invoices",
                    perfex_key="9",
                    xero_id=invoice["InvoiceID"],
                    state="synced",
                )
            )
            db.session.commit()
        xero_sandbox.inject.void_invoice(invoice["InvoiceID"])
        assert deliver_pending(xero_sandbox.sandbox, url) == 200

        deadline = time.monotonic() + 20
        with app.app_context():
            while time.monotonic() < deadline:
                pulled = db.session.scalars(
                    select(SyncLog).where(SyncLog.action == "inbound")
                ).all()
                if any(row.entity == "invoices" for row in pulled):
                    break
                db.session.rollback()
                time.sleep(0.1)
            received = db.session.scalars(
                select(SyncLog).where(SyncLog.action == "webhook")
            ).all()
            assert {row.entity for row in received} == {"customers", "invoices"}
            assert all(row.outcome == "received" for row in received)
            entry = next(row for row in pulled if row.xero_id == invoice["InvoiceID"])
            assert entry.outcome == "ok" and entry.perfex_key == "9"
            assert "VOIDED" in entry.message
            link = db.session.scalar(select(Link).where(Link.perfex_key == "9"))
            assert link.state == "voided"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
