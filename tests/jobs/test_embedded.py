"""The embedded queue: background jobs in the app process, lock, failures, timer."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from pxflask.extensions import db
from pxflask.jobs import hook_job, periodic_job, request_sync
from pxflask.models import SyncLog, SyncRun, utcnow
from pxflask.queueing import SYNC_QUEUE, EmbeddedQueue, get_queue
from pxflask.xero.errors import NotConnected
from tests.fixtures.gate import workers_held


def test_without_redis_the_app_gets_the_embedded_queue(embedded_app):
    """No REDIS_URL: jobs run in the app process."""
    assert isinstance(get_queue(embedded_app), EmbeddedQueue)


def test_jobs_run_in_the_background_with_an_app_context(embedded_app):
    """A queued job runs in a worker thread and can use current_app and the DB."""
    queue = get_queue(embedded_app)
    job_id = queue.enqueue(hook_job, "taxes", "1")
    result = queue.wait(job_id)
    assert result["created"] is True
    with embedded_app.app_context():
        run = db.session.get(SyncRun, result["run_id"])
        assert run.trigger == "hook"
        assert run.scope == "taxes#taxes:1"


def test_second_request_for_the_same_scope_returns_the_queued_run(embedded_app):
    """A sync already queued for a scope is returned instead of a duplicate."""
    queue = get_queue(embedded_app)
    with workers_held(queue, SYNC_QUEUE), embedded_app.app_context():
        first = request_sync(db.session, ["customers"], "manual")
        second = request_sync(db.session, ["customers"], "hook")
        other = request_sync(db.session, ["items"], "manual")
        assert first.created and not second.created
        assert second.run.id == first.run.id
        assert other.created and other.run.id != first.run.id
        assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 2
        job_id = first.run.job_id
    with pytest.raises(NotConnected):
        queue.wait(job_id)
    with embedded_app.app_context():
        third = request_sync(db.session, ["customers"], "manual")
        assert third.created and third.run.id != first.run.id


def test_a_failing_sync_records_its_cause_and_raises(embedded_app):
    """Not connected to Xero: the run is failed, the log says why (no traceback)."""
    run = request_sync(embedded_app, ["customers"], "manual").run
    with pytest.raises(NotConnected):
        get_queue(embedded_app).wait(run.job_id)
    with embedded_app.app_context():
        stored = db.session.get(SyncRun, run.id)
        assert stored.status == "failed"
        assert stored.error.startswith("NotConnected:")
        assert stored.finished_at is not None
        entry = db.session.scalar(select(SyncLog).where(SyncLog.run_id == run.id))
        assert entry.outcome == "failed"
        assert "NotConnected" in entry.message
        assert "Traceback" not in (entry.response or "")  # it goes to the log file
    assert get_queue(embedded_app).job_status(run.job_id) == "failed"


def test_a_run_whose_job_vanished_does_not_block_its_scope(embedded_app):
    """A run left 'running' by a stopped app is closed, and a new run is queued."""
    with embedded_app.app_context():
        stale = SyncRun(
            scope="customers", trigger="manual", status="running", job_id="gone"
        )
        db.session.add(stale)
        db.session.commit()
        fresh = request_sync(db.session, ["customers"], "manual")
        assert fresh.created
        db.session.refresh(stale)
        assert stale.status == "failed"
        assert "interrupted" in stale.error


def test_unknown_entities_and_bad_dates_are_refused(embedded_app):
    """A request names known entities and an ISO date."""
    from pxflask.jobs import InvalidSyncRequest

    with embedded_app.app_context():
        with pytest.raises(InvalidSyncRequest, match="unknown entity"):
            request_sync(db.session, ["widgets"], "manual")
        with pytest.raises(InvalidSyncRequest, match="not a date"):
            request_sync(db.session, ["items"], "manual", since="31/01/2025")


def test_scheduled_jobs_fire_on_time_and_can_be_cancelled(embedded_app):
    """The timer thread releases due jobs; a cancelled one never runs."""
    queue = get_queue(embedded_app)
    due = utcnow() + timedelta(seconds=0.3)
    with queue._guard:  # the timer thread releases nothing until both are set up
        soon = queue.enqueue_at(due, time.time)
        later = queue.enqueue_at(due, time.time)
        assert queue.scheduled_for(soon) == due
        queue.cancel(later)
    ran_at = queue.wait(soon, timeout=30)
    assert ran_at >= due.replace(tzinfo=UTC).timestamp(), "ran before it was due"
    assert queue.job_status(later) == "canceled"
    assert queue.job_result(later) is None


def test_a_periodic_job_runs_then_schedules_its_next_occurrence(embedded_app):
    """The scheduled sync requests a run and puts itself back on the timer."""
    from pxflask.jobs import next_due, reconcile_periodic
    from pxflask.sync.settings import set_setting

    with embedded_app.app_context():
        set_setting(db.session, "sync_mode", "scheduled")
        set_setting(db.session, "schedule", "15")
    first = reconcile_periodic(embedded_app)["scheduled-sync"]
    assert first is not None
    assert reconcile_periodic(embedded_app)["scheduled-sync"] == first
    queue = get_queue(embedded_app)
    result = queue.wait(queue.enqueue(periodic_job, "scheduled-sync"))
    assert result["created"] is True
    following = next_due(embedded_app)["scheduled-sync"]
    assert following is not None and following >= first
    assert utcnow() + timedelta(minutes=14) < following
    with embedded_app.app_context():
        run = db.session.get(SyncRun, result["run_id"])
        assert (run.trigger, run.scope, run.full) == ("schedule", "all", False)


def test_worker_command_needs_redis(embedded_app):
    """`pxflask worker` without REDIS_URL explains that no worker is needed."""
    result = embedded_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 2
    assert "needs REDIS_URL" in result.output
