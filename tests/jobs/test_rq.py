"""RQ on the real Redis with a real `pxflask worker --burst` subprocess."""

from __future__ import annotations

from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from pxflask.extensions import db
from pxflask.jobs import next_due, reconcile_periodic, request_sync
from pxflask.models import SyncLog, SyncRun, utcnow
from pxflask.queueing import RQQueue, get_queue
from pxflask.sync.settings import set_setting
from pxflask.web.runtime import xero_gateway
from tests.fixtures.webapp import make_test_app
from tests.jobs.conftest import exited_cleanly, run_worker


def test_lock_then_worker_records_the_failure_and_frees_the_scope(rq_app):
    """Same scope twice: one run; the worker fails it with its cause; scope free."""
    queue = get_queue(rq_app)
    assert isinstance(queue, RQQueue)
    with rq_app.app_context():
        first = request_sync(db.session, ["customers"], "manual")
        second = request_sync(db.session, ["customers"], "watch")
        assert first.created and not second.created
        assert second.run.id == first.run.id
        assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1
        run_id, job_id = first.run.id, first.run.job_id
    assert queue.rq_queue("sync").count == 1

    done = run_worker(rq_app)
    assert exited_cleanly(done), done.stderr[-3000:]

    assert Job.fetch(job_id, connection=queue.redis).get_status() == "failed"
    with rq_app.app_context():
        run = db.session.get(SyncRun, run_id)
        assert run.status == "failed"
        assert run.error.startswith("NotConnected:")
        entry = db.session.scalar(select(SyncLog).where(SyncLog.run_id == run_id))
        assert entry.outcome == "failed" and "Traceback" not in (entry.response or "")
        third = request_sync(db.session, ["customers"], "manual")
        assert third.created and third.run.id != run_id


def test_worker_runs_the_engine_and_mirrors_progress(
    tmp_path, perfex_copy_url, redis_prefix, xero_sandbox
):
    """Against the sandbox: the run ends done, with counts, total and job meta."""
    from tests.jobs.conftest import REDIS_URL

    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        REDIS_URL=REDIS_URL,
        PXFLASK_QUEUE_PREFIX=redis_prefix,
        XERO_GRANT="client_credentials",
        **xero_sandbox.config,
    )
    try:
        xero_gateway(app).connect_client_credentials()
        with app.app_context():
            run = request_sync(db.session, ["accounts", "customers"], "manual").run
            run_id, job_id = run.id, run.job_id
        done = run_worker(app)
        assert exited_cleanly(done), done.stderr[-3000:]
        job = Job.fetch(job_id, connection=get_queue(app).redis)
        assert job.get_status() == "finished", done.stderr[-3000:]
        assert job.meta["run_id"] == run_id
        assert job.meta["percent"] == 100
        assert job.meta["entity"] == "customers"
        assert job.meta["entity_done"] == job.meta["entity_total"] > 0
        with app.app_context():
            run = db.session.get(SyncRun, run_id)
            assert run.status == "done", run.error
            assert run.ok_count > 0 and run.failed_count == 0
            assert run.total >= job.meta["entity_total"]
            assert run.started_at and run.finished_at
    finally:
        from pxflask.queueing import close_queue

        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_periodic_jobs_are_declared_reconciled_and_not_duplicated(rq_app):
    """A cron schedule becomes one scheduled RQ job at the next cron time."""
    queue = get_queue(rq_app)
    with rq_app.app_context():
        set_setting(db.session, "sync_mode", "scheduled")
        set_setting(db.session, "schedule", "0 2 * * *")
    due = reconcile_periodic(rq_app)
    nightly = due["scheduled-sync"]
    assert (nightly.hour, nightly.minute) == (2, 0)
    assert nightly > utcnow()
    assert due["watch"] is None
    registry = ScheduledJobRegistry(queue=queue.rq_queue("default"))
    assert len(registry.get_job_ids()) == 1
    assert reconcile_periodic(rq_app)["scheduled-sync"] == nightly
    assert len(registry.get_job_ids()) == 1
    assert next_due(rq_app)["scheduled-sync"] == nightly

    with rq_app.app_context():
        set_setting(db.session, "schedule", "30")
    again = reconcile_periodic(rq_app)["scheduled-sync"]
    assert again != nightly
    assert len(registry.get_job_ids()) == 1

    with rq_app.app_context():
        set_setting(db.session, "sync_mode", "manual")
    assert reconcile_periodic(rq_app)["scheduled-sync"] is None
    assert registry.get_job_ids() == []


def test_changes_queue_one_follow_up_behind_a_running_sync(rq_app):
    """A hook joins a queued run, but not a running one that may have read past it."""
    with rq_app.app_context():
        first = request_sync(db.session, ["invoices"], "manual").run
        first.status = "running"  # as the worker marks it when it starts
        db.session.commit()
        assert request_sync(db.session, ["invoices"], "manual").run.id == first.id
        follow = request_sync(db.session, ["invoices"], "watch")
        assert follow.created and follow.run.id != first.id
        assert request_sync(db.session, ["invoices"], "hook").run.id == follow.run.id
        assert request_sync(db.session, ["invoices"], "manual").run.id == follow.run.id
        assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 2
