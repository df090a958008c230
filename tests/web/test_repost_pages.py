"""The panel's dry-run list and the re-post preview and confirmation."""

from __future__ import annotations

import re

import pytest

from pxflask.extensions import db
from pxflask.jobs import request_sync
from pxflask.models import Link
from pxflask.queueing import get_queue
from pxflask.sync.settings import set_setting
from tests.fixtures.webapp import AuthActions, csrf_token, serve_connected


@pytest.fixture
def connected_app(tmp_path, perfex_copy_url, xero_sandbox):
    """An app connected to the sandbox with a Custom Connection."""
    yield from serve_connected(tmp_path, perfex_copy_url, xero_sandbox)


@pytest.fixture
def signed_in(connected_app):
    """A client of the connected app, signed in as the seeded admin."""
    client = connected_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def _setting(app, key: str, value: str) -> None:
    """Store one module setting."""
    with app.app_context():
        set_setting(db.session, key, value)


def _synced_all(app) -> None:
    """One full sync through the queue, waited for."""
    _setting(app, "payment_account.default", "090")
    run = request_sync(app, None, "manual").run
    get_queue(app).wait(run.job_id, timeout=120)


def test_panel_dry_run_lists_the_records(connected_app, signed_in):
    """A dry run from "Sync all now" keeps its list; the dashboard links to it."""
    token = csrf_token(signed_in, "/sync/")
    queued = signed_in.post(
        "/sync/run",
        data={"csrf_token": token, "entity": "customers", "dry_run": "1"},
    )
    assert queued.status_code == 302
    run_id = int(re.search(r"run=(\d+)", queued.headers["Location"]).group(1))
    with connected_app.app_context():
        from pxflask.models import SyncRun

        job_id = db.session.get(SyncRun, run_id).job_id
    get_queue(connected_app).wait(job_id, timeout=60)
    dashboard = signed_in.get("/sync/").get_data(as_text=True)
    assert f'href="/sync/dry-runs/{run_id}"' in dashboard
    page = signed_in.get(f"/sync/dry-runs/{run_id}").get_data(as_text=True)
    assert "PX-C-1" in page and "not in Xero yet" in page
    assert re.search(r"\d+ create", page)
    assert signed_in.get("/sync/dry-runs/99999").status_code == 404


def test_repost_preview_then_confirm_moves_payments_except_reconciled(
    connected_app, signed_in, xero_sandbox
):
    """Preview lists each remapped payment; confirm (CSRF) re-posts all but one."""
    app = connected_app
    _synced_all(app)
    _setting(app, "payment_account.stripe", "091")
    page = signed_in.get("/sync/repost?entity=payments").get_data(as_text=True)
    listed = re.findall(r'name="key" value="(\d+)"', page)
    assert listed and page.count("account 090 → 091") == len(listed)
    with app.app_context():
        links = {
            link.perfex_key: link.xero_id
            for link in db.session.query(Link).filter(Link.entity == "payments")
        }
    kept = listed[0]
    xero_sandbox.inject.reconcile_payment(links[kept])
    page = signed_in.get("/sync/repost?entity=payments").get_data(as_text=True)
    assert "reconciled in Xero" in page
    assert re.findall(r'name="key" value="(\d+)"', page) == listed[1:]
    refused = signed_in.post(
        "/sync/repost", data={"entity": "payments", "key": listed[1:]}
    )
    assert refused.status_code == 400
    token = csrf_token(signed_in, "/sync/repost?entity=payments")
    done = signed_in.post(
        "/sync/repost",
        data={"csrf_token": token, "entity": "payments", "key": listed},
    )
    assert done.status_code == 302
    run_id = int(re.search(r"run=(\d+)", done.headers["Location"]).group(1))
    with app.app_context():
        from pxflask.models import SyncRun

        job_id = db.session.get(SyncRun, run_id).job_id
    get_queue(app).wait(job_id, timeout=60)
    payments = {p["PaymentID"]: p for p in xero_sandbox.inject.all("Payments")}
    with app.app_context():
        now = {
            link.perfex_key: link.xero_id
            for link in db.session.query(Link).filter(Link.entity == "payments")
        }
    assert now[kept] == links[kept]
    assert payments[now[kept]]["Account"]["Code"] == "090"
    for key in listed[1:]:
        assert now[key] != links[key]
        assert payments[now[key]]["Account"]["Code"] == "091"
        assert payments[links[key]]["Status"] == "DELETED"
    after = signed_in.get("/sync/repost?entity=payments").get_data(as_text=True)
    assert re.findall(r'name="key" value="(\d+)"', after) == []
