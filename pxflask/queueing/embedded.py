"""The embedded queue: thread pools in the app process and a timer thread.

Used when REDIS_URL is unset (`pxflask demo`, a single-process install). Each job
runs in a worker thread with an app context pushed; syncs have a pool of one.
Why not RQ on fakeredis: the README, "Deploying" (benchmarks/embedded_queue.py).
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from .base import DEFAULT_QUEUE, SYNC_QUEUE, QueueUnavailable, func_name, utc_naive

log = logging.getLogger(__name__)

_current_job: contextvars.ContextVar[EmbeddedJob | None] = contextvars.ContextVar(
    "pxflask_embedded_job", default=None
)


@dataclass
class EmbeddedJob:
    """A job of the embedded queue: what to call, its state and its meta."""

    id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    queue: str
    status: str = "queued"
    due: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    future: Future[Any] | None = None


class EmbeddedQueue:
    """Thread pools in the app process (one worker for syncs) plus a timer thread."""

    mode = "embedded"
    MAX_FINISHED = 500
    MAX_SEEN = 10_000

    def __init__(self, app: Flask, prefix: str = "", workers: int = 2) -> None:
        self.prefix = prefix
        self.app = app
        self._pools = {
            SYNC_QUEUE: ThreadPoolExecutor(1, thread_name_prefix="pxflask-sync"),
            DEFAULT_QUEUE: ThreadPoolExecutor(
                workers, thread_name_prefix="pxflask-jobs"
            ),
        }
        self._jobs: dict[str, EmbeddedJob] = {}
        self._values: dict[str, str] = {}
        self._seen: dict[str, float] = {}
        self._locks: dict[str, tuple[str, float]] = {}
        self._guard = threading.RLock()
        self._timer_wakeup = threading.Condition(self._guard)
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._timer: threading.Thread | None = None
        self._closed = False

    # jobs
    def enqueue(
        self,
        func: Callable[..., Any],
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Submit func to the queue's thread pool."""
        job = EmbeddedJob(
            job_id or f"{self.prefix}{uuid.uuid4().hex}", func, args, kwargs, queue
        )
        with self._guard:
            self._remember(job)
            self._submit(job)
        return job.id

    def _submit(self, job: EmbeddedJob) -> None:
        """Hand a job to its pool (guard held)."""
        if self._closed:
            raise QueueUnavailable("the embedded queue is shut down")
        pool = self._pools.get(job.queue, self._pools[DEFAULT_QUEUE])
        job.status = "queued"
        job.due = None
        job.future = pool.submit(self._run, job)

    def _run(self, job: EmbeddedJob) -> Any:
        """Run one job inside an app context; record its end state."""
        token = _current_job.set(job)
        job.status = "started"
        try:
            with self.app.app_context():
                result = job.func(*job.args, **job.kwargs)
        except BaseException as exc:
            job.status = "failed"
            job.error = f"{type(exc).__name__}: {exc}"
            log.error(
                "embedded job %s (%s) failed",
                job.id,
                func_name(job.func),
                exc_info=True,
            )
            raise
        finally:
            _current_job.reset(token)
        job.status = "finished"
        return result

    def _remember(self, job: EmbeddedJob) -> None:
        """Keep the job for status queries, forgetting the oldest finished ones."""
        self._jobs[job.id] = job
        if len(self._jobs) > self.MAX_FINISHED:
            for old_id, old in list(self._jobs.items()):
                if old.status in ("finished", "failed"):
                    del self._jobs[old_id]
                if len(self._jobs) <= self.MAX_FINISHED // 2:
                    break

    def enqueue_at(
        self,
        when: datetime,
        func: Callable[..., Any],
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Put func on the timer heap; the timer thread submits it when due."""
        job = EmbeddedJob(
            job_id or f"{self.prefix}{uuid.uuid4().hex}", func, args, kwargs, queue
        )
        job.status = "scheduled"
        job.due = utc_naive(when)
        with self._guard:
            if self._closed:
                raise QueueUnavailable("the embedded queue is shut down")
            self._remember(job)
            heapq.heappush(self._heap, (job.due, next(self._seq), job.id))
            self._ensure_timer()
            self._timer_wakeup.notify_all()
        return job.id

    def _ensure_timer(self) -> None:
        """Start the timer thread on first use (guard held)."""
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(
                target=self._timer_loop, name="pxflask-timer", daemon=True
            )
            self._timer.start()

    def _timer_loop(self) -> None:
        """Submit scheduled jobs as they fall due."""
        with self._guard:
            while not self._closed:
                now = utc_naive(datetime.now(UTC))
                while self._heap and self._heap[0][0] <= now:
                    _, _, job_id = heapq.heappop(self._heap)
                    job = self._jobs.get(job_id)
                    if job is not None and job.status == "scheduled":
                        self._submit(job)
                wait = 5.0
                if self._heap:
                    wait = min(wait, (self._heap[0][0] - now).total_seconds())
                self._timer_wakeup.wait(timeout=max(wait, 0.01))

    def cancel(self, job_id: str) -> None:
        """Cancel a scheduled or not-yet-started job."""
        with self._guard:
            job = self._jobs.get(job_id)
            if job is None:
                return
            if job.status == "scheduled":
                job.status = "canceled"
            elif job.status == "queued" and job.future and job.future.cancel():
                job.status = "canceled"

    def scheduled_for(self, job_id: str) -> datetime | None:
        """The due time of a scheduled job."""
        job = self._jobs.get(job_id)
        return job.due if job is not None and job.status == "scheduled" else None

    def job_status(self, job_id: str) -> str | None:
        """The embedded job's status."""
        job = self._jobs.get(job_id)
        return job.status if job is not None else None

    def job_meta(self, job_id: str) -> dict[str, Any]:
        """The embedded job's meta."""
        job = self._jobs.get(job_id)
        return dict(job.meta) if job is not None else {}

    def job_result(self, job_id: str) -> Any:
        """The embedded job's return value once finished."""
        job = self._jobs.get(job_id)
        if job is None or job.status != "finished" or job.future is None:
            return None
        return job.future.result()

    def wait(self, job_id: str, timeout: float = 30.0) -> Any:
        """Block until an embedded job ends; re-raise its exception (for tests)."""
        job = self._jobs[job_id]
        deadline = time.monotonic() + timeout
        while job.future is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} was not started in time")
            time.sleep(0.02)
        return job.future.result(timeout=max(deadline - time.monotonic(), 0.01))

    # locks and values
    def acquire_lock(self, name: str, owner: str, ttl: int) -> str | None:
        """In-process lock with expiry."""
        with self._guard:
            held = self._locks.get(name)
            if held is not None and held[1] > time.monotonic():
                return held[0]
            self._locks[name] = (owner, time.monotonic() + ttl)
            return None

    def refresh_lock(self, name: str, owner: str, ttl: int) -> None:
        """Extend the lock if owner holds it."""
        with self._guard:
            held = self._locks.get(name)
            if held is not None and held[0] == owner:
                self._locks[name] = (owner, time.monotonic() + ttl)

    def force_lock(self, name: str, owner: str, ttl: int) -> None:
        """Take the lock over."""
        with self._guard:
            self._locks[name] = (owner, time.monotonic() + ttl)

    def release_lock(self, name: str, owner: str) -> None:
        """Release the lock if owner holds it."""
        with self._guard:
            held = self._locks.get(name)
            if held is not None and held[0] == owner:
                del self._locks[name]

    def get_value(self, key: str) -> str | None:
        """Read an in-memory value."""
        with self._guard:
            return self._values.get(key)

    def set_value(self, key: str, value: str) -> None:
        """Store an in-memory value."""
        with self._guard:
            self._values[key] = value

    def remember(self, key: str, ttl: int) -> bool:
        """Keep the key in memory until it expires; expired keys are dropped."""
        now = time.monotonic()
        with self._guard:
            if len(self._seen) >= self.MAX_SEEN:
                self._seen = {k: end for k, end in self._seen.items() if end > now}
            if self._seen.get(key, 0.0) > now:
                return False
            self._seen[key] = now + ttl
            return True

    def forget(self, key: str) -> None:
        """Drop the key."""
        with self._guard:
            self._seen.pop(key, None)

    def shutdown(self) -> None:
        """Stop the timer thread and wait for running jobs to end."""
        with self._guard:
            self._closed = True
            self._timer_wakeup.notify_all()
        if self._timer is not None:
            self._timer.join(timeout=5)
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Nothing to guard: the embedded queue has no connection to lose."""
        yield


def current_embedded_job() -> EmbeddedJob | None:
    """The embedded job running in this thread, if any."""
    return _current_job.get()
