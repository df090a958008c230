"""Re-link preview: records already in Xero are matched by their numbers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from pxflask.extensions import db
from pxflask.jobs import request_sync
from pxflask.models import Link
from pxflask.panel.maintenance import reset_links
from pxflask.perfex.reads import read_invoices
from pxflask.queueing import get_queue
from pxflask.sync.entities.invoices.mapper import invoice_number
from pxflask.web.runtime import perfex_db
from tests.fixtures.webapp import AuthActions, csrf_token, serve_connected


@pytest.fixture
def connected_app(tmp_path, perfex_copy_url, xero_sandbox):
    """An app connected to the sandbox with a Custom Connection."""
    yield from serve_connected(tmp_path, perfex_copy_url, xero_sandbox)


def _links(app) -> int:
    """How many links exist."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Link))


def test_preview_finds_synced_records_and_apply_links_them(connected_app, xero_sandbox):
    """After a reset, customers (ContactNumber) and an invoice (number) re-link."""
    app = connected_app
    queue = get_queue(app)
    run = request_sync(app, ["customers"], "manual").run
    queue.wait(run.job_id, timeout=60)
    customers = _links(app)
    assert customers > 0
    contact = xero_sandbox.inject.all("Contacts")[0]
    with app.app_context():
        first = read_invoices(perfex_db(), [1])[0]
        xero_sandbox.inject.invoice(
            contact["ContactID"], InvoiceNumber=invoice_number(first)
        )
        reset_links(db.session)
    assert _links(app) == 0

    client = app.test_client()
    AuthActions(client).login()
    token = csrf_token(client, "/reset/")
    started = client.post("/reset/relink", data={"csrf_token": token})
    assert started.status_code == 302
    job_id = re.search(r"job=([\w-]+)", started.headers["Location"]).group(1)
    queue.wait(job_id, timeout=60)
    page = client.get(f"/reset/relink?job={job_id}").get_data(as_text=True)
    assert f"Create {customers + 1} link(s)" in page
    assert invoice_number(first) in page

    applied = client.post(
        "/reset/relink/apply", data={"csrf_token": token, "job": job_id}
    )
    assert applied.status_code == 302
    assert _links(app) == customers + 1
    with app.app_context():
        link = db.session.scalar(select(Link).where(Link.entity == "invoices"))
        assert (link.perfex_key, link.state) == ("1", "synced")


def test_preview_needs_a_connection(admin):
    """Not connected: the preview is not started."""
    token = csrf_token(admin, "/reset/")
    page = admin.post(
        "/reset/relink", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Connect Xero first" in page
