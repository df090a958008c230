"""The settings page's switch for credit-note refunds made in Xero (opt-in)."""

from __future__ import annotations

from pxflask.extensions import db
from pxflask.sync.settings import defaults, load_settings, validate
from tests.fixtures.webapp import csrf_token

from .test_settings_page import VALID


def test_refunds_from_xero_is_off_by_default_and_a_switch():
    """Default no; on/off words are stored as yes/no."""
    assert defaults()["refunds_from_xero"] == "no"
    assert validate("refunds_from_xero", "On") == "yes"
    assert validate("refunds_from_xero", "off") == "no"


def test_settings_page_switches_refunds_from_xero_on(app, admin):
    """The page offers the switch (off selected) and stores it when posted."""
    page = admin.get("/settings/").get_data(as_text=True)
    assert 'name="refunds_from_xero"' in page
    assert '<option value="no" selected>Leave them in Xero' in page
    data = {
        **VALID,
        "refunds_from_xero": "yes",
        "csrf_token": csrf_token(admin, "/settings/"),
    }
    assert admin.post("/settings/", data=data).status_code in (200, 302, 303)
    with app.app_context():
        assert load_settings(db.session)["refunds_from_xero"] == "yes"
