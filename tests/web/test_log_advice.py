"""The log page shows what to do next, with a link to the setting to map."""

from __future__ import annotations

from pxflask.extensions import db
from pxflask.models import SyncLog
from pxflask.sync.advice import Advisor

REFUSAL = (
    "Payments can only be made to bank accounts or accounts with payments enabled."
)


def test_log_and_record_page_link_to_the_setting_named_by_the_advice(app, admin):
    """A payment refused for its account: the log links to payment_account.stripe."""
    message = Advisor().explain(REFUSAL, {"mode": "stripe", "account": "200"})
    with app.app_context():
        row = SyncLog(
            entity="payments",
            perfex_key="7",
            action="create",
            outcome="failed",
            message=message,
        )
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    page = admin.get("/sync/log?outcome=failed").get_data(as_text=True)
    assert "pxflask settings set payment_account.stripe" in page
    link = '<a class="fix" href="/settings/#payment_account.stripe">'
    assert link + "Map payment_account.stripe</a>" in page
    record = admin.get(f"/sync/log/{row_id}").get_data(as_text=True)
    assert 'href="/settings/#payment_account.stripe"' in record
    settings = admin.get("/settings/").get_data(as_text=True)
    assert 'id="payment_account.stripe"' in settings


def test_a_message_without_a_setting_has_no_fix_link(app, admin):
    """A reason that names no setting gets no settings link."""
    with app.app_context():
        db.session.add(
            SyncLog(
                entity="invoices",
                perfex_key="3",
                action="skip",
                outcome="skipped",
                message="cancelled before it was synced",
            )
        )
        db.session.commit()
    page = admin.get("/sync/log").get_data(as_text=True)
    assert "cancelled before it was synced" in page
    assert 'class="fix"' not in page
