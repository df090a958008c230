"""The /reconcile/ page: empty states, refresh, cards, charts, table, downloads."""

from __future__ import annotations

import io

import openpyxl
import pytest

from pxflask.extensions import db
from pxflask.queueing import close_queue, get_queue
from pxflask.reconcile.service import load_report
from tests.fixtures.webapp import AuthActions, csrf_token


@pytest.fixture
def admin(world_app):
    """A client of the world's panel, signed in as the seeded admin."""
    client = world_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def _refresh(client, **form):
    """Post the refresh form with its CSRF token; follow the redirect."""
    token = csrf_token(client, "/reconcile/")
    return client.post(
        "/reconcile/refresh",
        data={"csrf_token": token, **form},
        follow_redirects=True,
    )


def test_page_needs_sign_in(world_app):
    """Anonymous visitors are sent to the sign-in page."""
    response = world_app.test_client().get("/reconcile/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_empty_state_then_refresh_shows_the_report(admin):
    """Before a run: 'No report yet'; after a refresh: cards, charts and table."""
    page = admin.get("/reconcile/").get_data(as_text=True)
    assert "No report yet" in page
    page = _refresh(admin).get_data(as_text=True)
    assert "Report refreshed: no discrepancy" in page
    assert "Invoices compared" in page and "Money at stake" in page
    assert 'id="chart-monthly"><svg' in page and 'id="chart-categories"><svg' in page
    assert "No discrepancy: Perfex and Xero agree." not in page  # all rows shown
    assert '<table id="rows">' in page and "INV-" in page
    all_rows = admin.get("/reconcile/?scope=payments&category=").get_data(as_text=True)
    assert '<table id="rows">' in all_rows


def test_refresh_needs_csrf(admin):
    """A refresh without the form's token is refused."""
    assert admin.post("/reconcile/refresh").status_code == 400


def test_filters_and_downloads(world, admin):
    """A voided invoice shows under its category; CSV and XLSX downloads work."""
    unpaid = next(
        i
        for i in world.xero("Invoices")
        if i["Status"] == "AUTHORISED" and not i["AmountPaid"]
    )
    world.sandbox.inject.void_invoice(unpaid["InvoiceID"])
    page = _refresh(admin).get_data(as_text=True)
    assert "discrepancies found" in page
    number = unpaid["InvoiceNumber"]
    flagged = admin.get("/reconcile/?category=status_differs").get_data(as_text=True)
    assert number in flagged and "status_differs" in flagged
    none = admin.get("/reconcile/?category=total_differs").get_data(as_text=True)
    assert "No row matches these filters." in none
    found = admin.get(f"/reconcile/?category=&q={number}").get_data(as_text=True)
    assert found.count("<tr>") == 2  # header + the one row
    cur = admin.get("/reconcile/?category=&currency=XXX").get_data(as_text=True)
    assert "No row matches" in cur

    csv = admin.get("/reconcile/download/invoices.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    lead = "discrepancy,what,why,action,log_url,perfex_url,xero_url,"
    assert text.startswith("\ufeff" + lead)
    assert "status_differs" in text
    xlsx = admin.get("/reconcile/download/report.xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert {"summary", "invoices", "payments"} <= set(book.sheetnames)
    assert admin.get("/reconcile/download/report.html").status_code == 200
    assert admin.get("/reconcile/download/secrets.txt").status_code == 404


def test_not_connected_shows_connect_first(world, tmp_path):
    """Without a Xero connection the page says to connect first."""
    app = world.app(PXFLASK_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        page = client.get("/reconcile/").get_data(as_text=True)
        assert "Connect Xero first" in page
        assert client.get("/reconcile/download/invoices.csv").status_code == 404
        page = _refresh(client).get_data(as_text=True)
        assert "Connect Xero first" in page
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_large_organisation_refreshes_in_a_job(world):
    """Above the inline limit the refresh is queued and caches the report."""
    app = world.app(RECONCILE_INLINE_MAX=0)
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        page = _refresh(client).get_data(as_text=True)
        assert "Refresh queued" in page
        with app.app_context():
            queue = get_queue()
            queue.wait(queue.get_value("reconcile:job"), timeout=60)
        assert load_report(app.instance_path) is not None
        page = client.get("/reconcile/").get_data(as_text=True)
        assert "Invoices compared" in page
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
