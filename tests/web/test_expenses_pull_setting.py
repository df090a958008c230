"""The settings page's switch for bills and spend money made in Xero."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from pxflask.extensions import db
from pxflask.models import SyncLog, SyncRun
from pxflask.sandbox.webhooks import deliver_pending
from pxflask.sync.settings import load_settings, set_setting
from tests.fixtures.webapp import csrf_token, serving_webhooks

FORM = {
    "sales_account": "200",
    "rounding_account": "860",
    "drafts": "skip",
    "sync_mode": "manual",
    "schedule": "15",
    "watch_interval": "30",
    "entities": ["expenses", "expenses-pull"],
}


def test_switch_is_shown_off_and_saved_on(app, admin):
    """Off by default on the page; the CSRF'd form turns it on with its entity."""
    page = admin.get("/settings/").get_data(as_text=True)
    assert 'name="expenses_from_xero"' in page
    assert '<option value="no" selected>Leave them in Xero' in page
    assert 'value="expenses-pull"' in page
    data = {**FORM, "expenses_from_xero": "yes"}
    refused = admin.post("/settings/", data=data)
    assert refused.status_code == 400
    with app.app_context():
        assert load_settings(db.session)["expenses_from_xero"] == "no"
    data["csrf_token"] = csrf_token(admin, "/settings/")
    assert admin.post("/settings/", data=data).status_code == 302
    with app.app_context():
        values = load_settings(db.session)
    assert values["expenses_from_xero"] == "yes"
    assert values["entities"] == "expenses,expenses-pull"
    page = admin.get("/settings/").get_data(as_text=True)
    assert '<option value="yes" selected>Record them as Perfex expenses' in page


@pytest.mark.parametrize("switch", ["yes", "no"])
def test_a_bill_webhook_starts_the_pull_only_when_switched_on(
    tmp_path, perfex_copy_url, xero_sandbox, switch
):
    """Xero's INVOICE event for a bill queues an expenses-pull run (switch on)."""
    with serving_webhooks(tmp_path, perfex_copy_url, xero_sandbox) as (app, url):
        with app.app_context():
            set_setting(db.session, "expenses_from_xero", switch)
        contact = xero_sandbox.inject.contact("Paper Co")
        xero_sandbox.sandbox.take_events()
        line = {"Description": "Paper", "Quantity": 1, "UnitAmount": "10.00"}
        xero_sandbox.inject.invoice(
            contact["ContactID"], [line | {"AccountCode": "429"}], Type="ACCPAY"
        )
        assert [e["eventCategory"] for e in xero_sandbox.sandbox.state.events] == [
            "INVOICE"
        ]
        assert deliver_pending(xero_sandbox.sandbox, url) == 200
        deadline = time.monotonic() + 20
        with app.app_context():
            while time.monotonic() < deadline:
                handled = db.session.scalars(
                    select(SyncLog).where(
                        SyncLog.action == "inbound", SyncLog.entity == "invoices"
                    )
                ).all()
                runs = db.session.scalars(
                    select(SyncRun).where(SyncRun.trigger == "webhook")
                ).all()
                if handled and (runs or switch == "no"):
                    break
                db.session.rollback()
                time.sleep(0.1)
            assert handled
            if switch == "yes":
                assert [r.scope for r in runs] == ["expenses-pull"]
            else:
                time.sleep(0.5)
                db.session.rollback()
                assert not db.session.scalars(
                    select(SyncRun).where(SyncRun.trigger == "webhook")
                ).all()
