"""The settings page's tracking card: dimension choices from Perfex, validation."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.perfex.db import PerfexDB
from pxflask.sync.settings import load_settings
from tests.fixtures.webapp import csrf_token

from .test_settings_page import VALID


def _post(admin, **changes):
    """Submit the settings form with CSRF token."""
    data = {**VALID, **changes, "csrf_token": csrf_token(admin, "/settings/")}
    return admin.post("/settings/", data=data)


def _custom_field(url: str, fieldto: str, name: str) -> None:
    """An active Perfex custom field."""
    perfex = PerfexDB.connect(url)
    try:
        with perfex.engine.begin() as conn:
            conn.execute(
                sa.insert(perfex.tables.customfields).values(
                    fieldto=fieldto, name=name, slug=name.lower(), type="input"
                )
            )
    finally:
        perfex.dispose()


def test_page_offers_the_dimensions_and_custom_fields(app, admin, perfex_copy_url):
    """none, project, sale agent and each document custom field of Perfex."""
    _custom_field(perfex_copy_url, "invoice", "Region")
    _custom_field(perfex_copy_url, "customers", "Customer only")
    page = admin.get("/settings/").get_data(as_text=True)
    assert '<option value="none" selected>No tracking</option>' in page
    assert '<option value="project" >Project</option>' in page
    assert '<option value="custom:Region" >Custom field: Region</option>' in page
    assert "Customer only" not in page
    assert 'name="tracking_category"' in page


def test_tracking_is_saved_or_explained(app, admin):
    """A valid choice is stored; a bad one is refused with the reason."""
    r = _post(admin, tracking="custom:Region", tracking_category="Area")
    assert r.status_code == 302
    with app.app_context():
        stored = load_settings(db.session)
    assert stored["tracking"] == "custom:Region"
    assert stored["tracking_category"] == "Area"
    r = _post(admin, tracking="staff", tracking_category="x" * 101)
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "is not one of: none, project, sale_agent, custom:&lt;field name&gt;" in page
    assert "at most 100 characters" in page
    with app.app_context():
        assert load_settings(db.session)["tracking"] == "custom:Region"
