"""The sync dashboard, run requests, progress JSON, the log and retries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from pxflask.extensions import db
from pxflask.models import Link, SyncLog, SyncRun, XeroConnection
from pxflask.queueing import SYNC_QUEUE, get_queue
from pxflask.xero.errors import NotConnected
from tests.fixtures.gate import workers_held
from tests.fixtures.webapp import csrf_token


def _add_log(app, count: int, **fields) -> list[int]:
    """Insert log rows; return their ids."""
    with app.app_context():
        rows = [
            SyncLog(
                **{"entity": "invoices", "action": "create", "outcome": "ok", **fields}
            )
            for _ in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def test_new_admin_is_led_through_set_up_in_order(admin):
    """Nothing done yet: connect Xero, map a sales account, run a first sync."""
    page = admin.get("/sync/").get_data(as_text=True)
    first = page.index("Connect Xero first")
    assert first < page.index("Map a sales account") < page.index("Run a first sync")
    assert 'href="/connection/"' in page and 'href="/settings/"' in page
    assert "Nothing synced yet" in page


def test_dashboard_counts_links_per_entity_and_shows_quota(app, admin):
    """Synced, pending, failed and skipped come from link states; quota too."""
    with app.app_context():
        db.session.add_all(
            [
                Link(entity="invoices", perfex_key=str(i), state="synced")
                for i in range(3)
            ]
            + [
                Link(entity="invoices", perfex_key="f1", state="failed"),
                Link(entity="customers", perfex_key="c1", state="pending"),
                XeroConnection(
                    tenant_id="t-1",
                    tenant_name="Demo Company (UK)",
                    minute_remaining=58,
                    day_remaining=4321,
                ),
            ]
        )
        db.session.commit()
    page = admin.get("/sync/").get_data(as_text=True)
    assert "4321" in page and "58 this minute" in page
    assert "Demo Company (UK)" in page
    assert "Retry all failed" in page
    assert "/sync/log?entity=invoices&amp;outcome=failed" in page


def test_sync_now_queues_a_run_and_the_json_shows_its_progress(app, admin):
    """POST /sync/run with CSRF queues a run; its JSON is polled by the page."""
    queue = get_queue(app)
    with workers_held(queue, SYNC_QUEUE):
        token = csrf_token(admin, "/sync/")
        response = admin.post(
            "/sync/run", data={"csrf_token": token, "entity": "items"}
        )
        assert response.status_code == 302
        with app.app_context():
            run = db.session.scalar(select(SyncRun))
            assert (run.scope, run.trigger, run.status) == ("items", "manual", "queued")
        again = admin.post(
            "/sync/run",
            data={"csrf_token": token, "entity": "items"},
            headers={"Accept": "application/json"},
        )
        assert again.status_code == 202
        assert again.get_json()["run_id"] == run.id
        assert again.get_json()["created"] is False
        dashboard = admin.get(f"/sync/?run={run.id}").get_data(as_text=True)
        assert f'data-url="/sync/runs/{run.id}.json"' in dashboard
        progress = admin.get(f"/sync/runs/{run.id}.json").get_json()
        assert progress["status"] == "queued" and progress["finished"] is False
    with pytest.raises(NotConnected):
        queue.wait(run.job_id)
    progress = admin.get(f"/sync/runs/{run.id}.json").get_json()
    assert progress["finished"] is True and progress["status"] == "failed"
    assert progress["error"].startswith("NotConnected:")
    assert admin.get("/sync/runs/999.json").status_code == 404


def test_sync_run_refuses_unknown_entities(admin):
    """An unknown entity is a flash error, not a queued run."""
    token = csrf_token(admin, "/sync/")
    response = admin.post(
        "/sync/run", data={"csrf_token": token, "entity": "nope"}, follow_redirects=True
    )
    assert "unknown entity nope" in response.get_data(as_text=True)


def test_log_filters_and_pagination(app, admin):
    """Filter by entity, outcome, dates and text; 50 rows per page."""
    old = datetime(2025, 1, 10, 12, 0)
    _add_log(app, 120, outcome="ok")
    _add_log(
        app,
        3,
        outcome="failed",
        message="Account code 999 is not valid",
        perfex_key="42",
    )
    _add_log(app, 2, entity="payments", outcome="failed", created_at=old)
    page = admin.get("/sync/log").get_data(as_text=True)
    assert "125 entries · page 1 of 3" in page
    assert "Older →" in page
    last = admin.get("/sync/log?page=3").get_data(as_text=True)
    assert "page 3 of 3" in last and last.count('<td><a href="/sync/log/') == 25
    failed = admin.get("/sync/log?outcome=failed").get_data(as_text=True)
    assert "5 entries" in failed
    both = admin.get("/sync/log?outcome=failed&entity=invoices")
    assert "3 entries" in both.get_data(as_text=True)
    text = admin.get("/sync/log?q=code+999").get_data(as_text=True)
    assert "3 entries" in text
    dated = admin.get("/sync/log?from=2025-01-01&to=2025-01-10")
    assert "2 entries" in dated.get_data(as_text=True)
    bad = admin.get("/sync/log?from=yesterday").get_data(as_text=True)
    assert "is not a date like 2025-01-31" in bad
    assert "No entry matches" in admin.get("/sync/log?q=zzz").get_data(as_text=True)


def test_log_record_page_and_retry_of_one_record(app, admin):
    """The record page shows Perfex, payload, answer, error; retry queues it."""
    [log_id] = _add_log(
        app,
        1,
        outcome="failed",
        perfex_key="1",
        payload='{"InvoiceNumber": "INV-000001"}',
        response='{"ValidationErrors": ["bad account"]}',
        message="Account code '999' is not a valid code",
    )
    page = admin.get(f"/sync/log/{log_id}").get_data(as_text=True)
    assert "INV-000001" in page and "bad account" in page
    assert "is not a valid code" in page
    assert "Perfex record" in page and "customer_id" in page
    token = csrf_token(admin, f"/sync/log/{log_id}")
    response = admin.post(f"/sync/retry/{log_id}", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        run = db.session.scalar(select(SyncRun))
        assert (run.scope, run.trigger) == ("invoices#invoices:1", "retry")
    assert admin.get("/sync/log/99999").status_code == 404
    assert (
        admin.post("/sync/retry/99999", data={"csrf_token": token}).status_code == 404
    )


def test_retry_all_failed_queues_one_targeted_run(app, admin):
    """Every failed link goes into one run, keyed per entity."""
    with app.app_context():
        db.session.add_all(
            [
                Link(entity="invoices", perfex_key="5", state="failed"),
                Link(entity="invoices", perfex_key="17", state="failed"),
                Link(entity="customers", perfex_key="3", state="failed"),
                Link(entity="customers", perfex_key="4", state="synced"),
            ]
        )
        db.session.commit()
    token = csrf_token(admin, "/sync/")
    assert (
        admin.post("/sync/retry-failed", data={"csrf_token": token}).status_code == 302
    )
    with app.app_context():
        run = db.session.scalar(select(SyncRun))
        assert run.scope == "customers,invoices#customers:3;invoices:5,17"


def test_retry_failed_with_nothing_failed_says_so(admin):
    """No failed record: an info message, no run."""
    token = csrf_token(admin, "/sync/")
    page = admin.post(
        "/sync/retry-failed", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "no record is in the failed state" in page


def test_recent_runs_and_last_run_are_listed(app, admin):
    """Finished runs show with their counts and error."""
    with app.app_context():
        now = datetime(2026, 1, 2, 3, 4)
        db.session.add(
            SyncRun(
                scope="all",
                trigger="schedule",
                status="partial",
                ok_count=7,
                failed_count=2,
                started_at=now,
                finished_at=now + timedelta(minutes=1),
                error=None,
            )
        )
        db.session.commit()
    page = admin.get("/sync/").get_data(as_text=True)
    assert "7 ok, 2 failed" in page
    assert "schedule" in page


def test_failed_credit_allocations_are_retried_by_a_credit_notes_run(app, admin):
    """Links kept by another unit's step (allocations) rerun that unit's step."""
    with app.app_context():
        failed = Link(entity="credit-allocations", perfex_key="9", state="failed")
        db.session.add(failed)
        db.session.add(
            SyncLog(entity="credit-allocations", perfex_key="9", action="allocate",
                    outcome="failed", message="Xero refused it")
        )  # fmt: skip
        db.session.commit()
        log_id = db.session.scalar(select(SyncLog.id))
    token = csrf_token(admin, "/sync/")
    assert (
        admin.post("/sync/retry-failed", data={"csrf_token": token}).status_code == 302
    )
    with app.app_context():
        runs = db.session.scalars(select(SyncRun)).all()
        assert [(r.scope, r.trigger) for r in runs] == [("credit-notes", "retry")]
    retried = admin.post(f"/sync/retry/{log_id}", data={"csrf_token": token})
    assert retried.status_code == 302  # joins the queued credit-notes run
