"""The settings page's switch for bills and spend money made in Xero."""

from __future__ import annotations

from pxflask.extensions import db
from pxflask.sync.settings import load_settings
from tests.fixtures.webapp import csrf_token

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
