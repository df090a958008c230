"""The sync log filters by action: what came from Xero (pull) apart from the rest."""

from __future__ import annotations

from pxflask.extensions import db
from pxflask.models import SyncLog


def test_the_log_filters_by_action(app, admin):
    """?action=pull lists only the pulls; the select offers each action present."""
    with app.app_context():
        db.session.add_all(
            [
                SyncLog(
                    entity="invoices",
                    perfex_key="41",
                    action="pull",
                    outcome="synced",
                    message="Invoice INV-000041 created in Perfex from Xero INV-0042",
                ),
                SyncLog(
                    entity="invoices",
                    perfex_key="7",
                    action="create",
                    outcome="synced",
                    message="Invoice INV-000007 sent to Xero",
                ),
            ]
        )
        db.session.commit()
    everything = admin.get("/sync/log").get_data(as_text=True)
    assert "INV-0042" in everything and "INV-000007 sent" in everything
    assert '<option value="pull" >pull (from Xero)</option>' in everything
    pulled = admin.get("/sync/log?action=pull").get_data(as_text=True)
    assert "INV-0042" in pulled and "INV-000007 sent" not in pulled
    assert '<option value="pull" selected>pull (from Xero)</option>' in pulled
    created = admin.get("/sync/log?action=create").get_data(as_text=True)
    assert "INV-0042" not in created and "INV-000007 sent" in created
    bad = admin.get("/sync/log?action=%01")
    assert bad.status_code == 400
