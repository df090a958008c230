"""Jobs: sync requests and locks, registered tasks, the schedule, the worker.

requests.py  validate a sync request, find the run serving its scope, or queue one
locks.py     one live run per scope; stale runs closed
registry.py  @task: job functions on named queues, passed as functions
sync_task.py the sync task: the engine with a progress callback
tasks.py     hooks, the watcher, Xero webhooks, relink preview, scheduled sync
reports.py   the reconciliation refresh task
schedule.py  periodic jobs declared as data
worker.py    `pxflask worker` (RQ) and the embedded queue's start-up
"""

from __future__ import annotations

from .locks import recover_stale_runs, sync_scope
from .online_links import online_links_job
from .registry import TASKS, queue_of, submit, task
from .reports import reconcile_refresh_job, refresh_report
from .requests import (
    InvalidSyncRequest,
    SyncRequest,
    failed_part_owners,
    failed_record_keys,
    request_sync,
    retry_failed,
    retry_log_entry,
    retry_record,
)
from .schedule import PERIODIC, Periodic, next_due, periodic_job, reconcile_periodic
from .sync_task import sync_job
from .tasks import (
    hook_job,
    relink_preview_job,
    scheduled_sync,
    watch_job,
    xero_webhook_job,
)
from .worker import run_worker, start_background

__all__ = [
    "PERIODIC",
    "TASKS",
    "InvalidSyncRequest",
    "Periodic",
    "SyncRequest",
    "failed_part_owners",
    "failed_record_keys",
    "hook_job",
    "next_due",
    "online_links_job",
    "periodic_job",
    "queue_of",
    "reconcile_periodic",
    "reconcile_refresh_job",
    "recover_stale_runs",
    "refresh_report",
    "relink_preview_job",
    "request_sync",
    "retry_failed",
    "retry_log_entry",
    "retry_record",
    "run_worker",
    "scheduled_sync",
    "start_background",
    "submit",
    "sync_job",
    "sync_scope",
    "task",
    "watch_job",
    "xero_webhook_job",
]
