"""The task registry: jobs are registered by decorator and passed as functions."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest

from pxflask.jobs import TASKS, queue_of, submit, sync_job, watch_job
from pxflask.queueing import DEFAULT_QUEUE, SYNC_QUEUE, JobQueue, get_queue

PACKAGE = Path(__file__).resolve().parents[2] / "pxflask"
DOTTED_JOB = re.compile(r"""["']pxflask(\.\w+)+["']""")


def test_every_task_is_importable_where_rq_looks_for_it():
    """RQ stores module.name: each registered task resolves back to itself."""
    assert {"sync_job", "hook_job", "watch_job", "xero_webhook_job"} <= set(TASKS)
    assert {"relink_preview_job", "periodic_job", "reconcile_refresh_job"} <= set(TASKS)
    for name, registered in TASKS.items():
        module = import_module(registered.func.__module__)
        assert getattr(module, registered.func.__qualname__) is registered.func, name


def test_syncs_run_on_the_sync_queue_and_the_rest_on_the_default_one():
    """One sync worker serialises syncs; small jobs never wait behind a sync."""
    assert queue_of(sync_job) == SYNC_QUEUE
    assert {queue_of(t.func) for n, t in TASKS.items() if n != "sync_job"} == {
        DEFAULT_QUEUE
    }


def test_an_unregistered_function_is_refused(embedded_app):
    """submit() takes registered tasks only, so a typo cannot queue a lost job."""

    def not_a_task() -> None:
        """Not registered."""

    with pytest.raises(LookupError, match="not a registered task"):
        submit(get_queue(embedded_app), not_a_task)
    job_id = submit(get_queue(embedded_app), watch_job)
    assert get_queue(embedded_app).wait(job_id) == {
        "skipped": "sync mode is not realtime"
    }


def test_both_backends_satisfy_the_queue_protocol(embedded_app):
    """The queue interface is a Protocol, not a base class of stubs."""
    assert isinstance(get_queue(embedded_app), JobQueue)
    assert JobQueue not in type(get_queue(embedded_app)).__mro__


def test_no_job_is_named_by_a_dotted_string():
    """Jobs are passed as functions: no 'pxflask.x.y' job path in the package."""
    found = [
        f"{path.relative_to(PACKAGE)}: {match.group(0)}"
        for path in PACKAGE.rglob("*.py")
        for match in DOTTED_JOB.finditer(path.read_text(encoding="utf-8"))
        if match.group(0).strip("\"'").rsplit(".", 1)[-1].endswith(("_job", "_sync"))
    ]
    assert found == []
