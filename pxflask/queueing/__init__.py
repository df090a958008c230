"""The job queue: RQ on Redis when REDIS_URL is set, else the embedded queue.

Both backends satisfy one Protocol, JobQueue (enqueue, enqueue_at, cancel, locks,
a key-value store, job progress), so the jobs never ask which one they run on.
Jobs are passed as functions (never dotted strings) and take plain values only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from flask import Flask, current_app

from .base import DEFAULT_QUEUE, QUEUE_NAMES, SYNC_QUEUE, QueueUnavailable, utc_naive
from .embedded import EmbeddedQueue, current_embedded_job
from .redis_queue import RQQueue

__all__ = [
    "DEFAULT_QUEUE",
    "QUEUE_KEY",
    "QUEUE_NAMES",
    "SYNC_QUEUE",
    "EmbeddedQueue",
    "JobQueue",
    "QueueUnavailable",
    "RQQueue",
    "close_queue",
    "current_job_id",
    "get_queue",
    "publish_progress",
    "utc_naive",
]

QUEUE_KEY = "pxflask.queue"


@runtime_checkable
class JobQueue(Protocol):
    """What both backends offer (RQQueue, EmbeddedQueue)."""

    mode: str
    """"rq" or "embedded"."""
    prefix: str
    """Prefix of queue names, job ids and keys (several installs on one Redis)."""

    def enqueue(
        self,
        func: Callable[..., Any],
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Queue func(*args, **kwargs) to run now; return the job id."""
        ...

    def enqueue_at(
        self,
        when: datetime,
        func: Callable[..., Any],
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Queue func to run at `when` (naive UTC); return the job id."""
        ...

    def cancel(self, job_id: str) -> None:
        """Drop a queued or scheduled job (no-op when unknown or finished)."""
        ...

    def scheduled_for(self, job_id: str) -> datetime | None:
        """When a scheduled job is due (naive UTC), None if not scheduled."""
        ...

    def job_status(self, job_id: str) -> str | None:
        """queued, scheduled, started, finished, failed, or None if unknown."""
        ...

    def job_meta(self, job_id: str) -> dict[str, Any]:
        """The progress metadata a job published."""
        ...

    def job_result(self, job_id: str) -> Any:
        """What a finished job returned (None while unfinished or unknown)."""
        ...

    def acquire_lock(self, name: str, owner: str, ttl: int) -> str | None:
        """Take lock `name` for owner; return None if taken, else the holder."""
        ...

    def refresh_lock(self, name: str, owner: str, ttl: int) -> None:
        """Extend the lock while owner still holds it."""
        ...

    def force_lock(self, name: str, owner: str, ttl: int) -> None:
        """Take lock `name` over from a holder known to be stale."""
        ...

    def release_lock(self, name: str, owner: str) -> None:
        """Release the lock if owner still holds it."""
        ...

    def get_value(self, key: str) -> str | None:
        """Read a small shared value (watcher marks, periodic job ids)."""
        ...

    def set_value(self, key: str, value: str) -> None:
        """Store a small shared value."""
        ...

    def remember(self, key: str, ttl: int) -> bool:
        """Keep `key` for ttl seconds; False when it is kept already (seen before)."""
        ...

    def forget(self, key: str) -> None:
        """Drop a remembered key (best effort)."""
        ...

    def shutdown(self) -> None:
        """Stop background threads and connections held by this queue."""
        ...

    def guarded(self) -> AbstractContextManager[None]:
        """Turn backend connection errors into QueueUnavailable."""
        ...


_CREATE = threading.Lock()


def get_queue(app: Flask | None = None) -> JobQueue:
    """The app's queue, created on first use (RQ if REDIS_URL is set)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    queue: JobQueue | None = app.extensions.get(QUEUE_KEY)
    if queue is None:
        with _CREATE:
            queue = app.extensions.get(QUEUE_KEY)
            if queue is None:
                prefix = app.config.get("PXFLASK_QUEUE_PREFIX") or ""
                if app.config.get("REDIS_URL"):
                    queue = RQQueue(app.config["REDIS_URL"], prefix)
                else:
                    queue = EmbeddedQueue(app, prefix)
                app.extensions[QUEUE_KEY] = queue
    return queue


def close_queue(app: Flask) -> None:
    """Shut the app's queue down (tests, process exit)."""
    queue = app.extensions.pop(QUEUE_KEY, None)
    if queue is not None:
        queue.shutdown()


def publish_progress(**meta: Any) -> None:
    """Merge progress into the running job's meta (RQ job.meta or embedded)."""
    embedded = current_embedded_job()
    if embedded is not None:
        embedded.meta.update(meta)
        return
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.meta.update(meta)
        job.save_meta()


def current_job_id() -> str | None:
    """The id of the job running in this thread or work horse, if any."""
    embedded = current_embedded_job()
    if embedded is not None:
        return embedded.id
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None
