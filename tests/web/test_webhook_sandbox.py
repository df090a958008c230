"""Xero's webhooks end to end: the sandbox signs and posts to the running panel."""

from __future__ import annotations

import time

from sqlalchemy import select

from pxflask.extensions import db
from pxflask.models import Link, SyncLog
from pxflask.sandbox.webhooks import deliver_pending, send_intent_to_receive
from tests.fixtures.webapp import serving_webhooks


def test_sandbox_webhooks_are_verified_queued_and_pulled(
    tmp_path, perfex_copy_url, xero_sandbox
):
    """Intent-to-receive passes; a voided invoice is pulled and its link frozen."""
    key = xero_sandbox.sandbox.options.webhook_key
    with serving_webhooks(tmp_path, perfex_copy_url, xero_sandbox) as (app, url):
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
