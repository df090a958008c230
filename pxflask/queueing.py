"""The job queue holder: RQ on Redis when REDIS_URL is set, else an embedded queue.

Both backends share one small interface (enqueue, enqueue_at, cancel, locks, a
key-value store, job progress), so jobs.py never asks which one it runs on.
Functions are referenced by dotted path ("pxflask.jobs.sync_job") and take plain
values only. The embedded queue runs jobs in threads of the app process, each with
an app context pushed; its timer thread stands in for RQ's scheduler.
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
from importlib import import_module
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

QUEUE_KEY = "pxflask.queue"
SYNC_QUEUE = "sync"
DEFAULT_QUEUE = "default"
QUEUE_NAMES = (SYNC_QUEUE, DEFAULT_QUEUE)
JOB_TIMEOUT = 6 * 3600
RESULT_TTL = 24 * 3600
FAILURE_TTL = 7 * 24 * 3600


class QueueUnavailable(RuntimeError):
    """The queue cannot take the job (Redis unreachable, queue shut down)."""


def resolve(func_path: str) -> Callable[..., Any]:
    """Import the function named by a dotted path."""
    module_name, _, name = func_path.rpartition(".")
    return getattr(import_module(module_name), name)


def utc_naive(when: datetime) -> datetime:
    """A datetime as naive UTC (aware values are converted)."""
    if when.tzinfo is not None:
        return when.astimezone(UTC).replace(tzinfo=None)
    return when


class JobQueue:
    """What both backends offer; see RQQueue and EmbeddedQueue."""

    mode = "abstract"

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def queue_name(self, name: str) -> str:
        """The backend name of a logical queue ("sync", "default")."""
        return f"{self.prefix}{name}"

    def enqueue(
        self,
        func: str,
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Queue func(*args, **kwargs) to run now; return the job id."""
        raise NotImplementedError

    def enqueue_at(
        self,
        when: datetime,
        func: str,
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Queue func to run at `when` (naive UTC); return the job id."""
        raise NotImplementedError

    def cancel(self, job_id: str) -> None:
        """Drop a queued or scheduled job (no-op when unknown or finished)."""
        raise NotImplementedError

    def scheduled_for(self, job_id: str) -> datetime | None:
        """When a scheduled job is due (naive UTC), None if not scheduled."""
        raise NotImplementedError

    def job_status(self, job_id: str) -> str | None:
        """queued, scheduled, started, finished, failed, or None if unknown."""
        raise NotImplementedError

    def job_meta(self, job_id: str) -> dict[str, Any]:
        """The progress metadata a job published."""
        raise NotImplementedError

    def job_result(self, job_id: str) -> Any:
        """What a finished job returned (None while unfinished or unknown)."""
        raise NotImplementedError

    def acquire_lock(self, name: str, owner: str, ttl: int) -> str | None:
        """Take lock `name` for owner; return None if taken, else the holder."""
        raise NotImplementedError

    def refresh_lock(self, name: str, owner: str, ttl: int) -> None:
        """Extend the lock while owner still holds it."""
        raise NotImplementedError

    def force_lock(self, name: str, owner: str, ttl: int) -> None:
        """Take lock `name` over from a holder known to be stale."""
        raise NotImplementedError

    def release_lock(self, name: str, owner: str) -> None:
        """Release the lock if owner still holds it."""
        raise NotImplementedError

    def get_value(self, key: str) -> str | None:
        """Read a small shared value (watcher marks, periodic job ids)."""
        raise NotImplementedError

    def set_value(self, key: str, value: str) -> None:
        """Store a small shared value."""
        raise NotImplementedError

    def remember(self, key: str, ttl: int) -> bool:
        """Keep `key` for ttl seconds; False when it is kept already (seen before)."""
        raise NotImplementedError

    def forget(self, key: str) -> None:
        """Drop a remembered key (best effort)."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Stop background threads and connections held by this queue."""

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Turn backend connection errors into QueueUnavailable."""
        yield


# --------------------------------------------------------------------------- RQ


class RQQueue(JobQueue):
    """Named RQ queues on Redis; locks are SET NX with a TTL."""

    mode = "rq"
    RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('del', KEYS[1]) else return 0 end"
    )
    REFRESH = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"
    )

    def __init__(self, redis_url: str, prefix: str = "") -> None:
        super().__init__(prefix)
        from redis import Redis

        self.redis = Redis.from_url(redis_url)
        self._queues: dict[str, Any] = {}

    def rq_queue(self, name: str) -> Any:
        """The rq.Queue behind a logical queue name."""
        if name not in self._queues:
            from rq import Queue

            self._queues[name] = Queue(
                self.queue_name(name),
                connection=self.redis,
                default_timeout=JOB_TIMEOUT,
            )
        return self._queues[name]

    def all_queues(self) -> list[Any]:
        """Every named queue, sync first (a worker serves them in this order)."""
        return [self.rq_queue(name) for name in QUEUE_NAMES]

    def _key(self, key: str) -> str:
        """A Redis key of this app, namespaced by the queue prefix."""
        return f"pxflask:{self.prefix}{key}"

    def _options(self, job_id: str | None) -> dict[str, Any]:
        """RQ enqueue options shared by every job."""
        return {
            "job_id": job_id or f"{self.prefix}{uuid.uuid4().hex}",
            "result_ttl": RESULT_TTL,
            "failure_ttl": FAILURE_TTL,
        }

    def enqueue(
        self,
        func: str,
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Queue func(*args, **kwargs) on an RQ queue; return the job id."""
        from redis.exceptions import RedisError

        try:
            job = self.rq_queue(queue).enqueue_call(
                func, args=args, kwargs=kwargs, **self._options(job_id)
            )
        except RedisError as exc:
            raise QueueUnavailable(f"Redis refused the job: {exc}") from exc
        return job.id

    def enqueue_at(
        self,
        when: datetime,
        func: str,
        *args: Any,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Schedule func on an RQ queue; the worker's scheduler releases it."""
        from redis.exceptions import RedisError

        aware = utc_naive(when).replace(tzinfo=UTC)
        try:
            job = self.rq_queue(queue).enqueue_at(
                aware, func, *args, **kwargs, **self._options(job_id)
            )
        except RedisError as exc:
            raise QueueUnavailable(f"Redis refused the job: {exc}") from exc
        return job.id

    def _fetch(self, job_id: str) -> Any:
        """The rq Job, or None when Redis no longer knows it."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return None

    def cancel(self, job_id: str) -> None:
        """Cancel and delete an RQ job (queued or scheduled)."""
        job = self._fetch(job_id)
        if job is not None and job.get_status() not in ("started",):
            job.delete()

    def scheduled_for(self, job_id: str) -> datetime | None:
        """The due time of a job in a ScheduledJobRegistry."""
        from rq.registry import ScheduledJobRegistry

        job = self._fetch(job_id)
        if job is None or job.get_status() != "scheduled":
            return None
        registry = ScheduledJobRegistry(queue=self.rq_queue_by_backend_name(job.origin))
        due = registry.get_scheduled_time(job_id)
        return utc_naive(due) if due else None

    def rq_queue_by_backend_name(self, backend_name: str) -> Any:
        """The rq.Queue of a backend queue name (as stored in job.origin)."""
        for name in QUEUE_NAMES:
            if self.queue_name(name) == backend_name:
                return self.rq_queue(name)
        from rq import Queue

        return Queue(backend_name, connection=self.redis)

    def job_status(self, job_id: str) -> str | None:
        """The RQ status of a job."""
        job = self._fetch(job_id)
        if job is None:
            return None
        status = job.get_status()
        return getattr(status, "value", status)

    def job_meta(self, job_id: str) -> dict[str, Any]:
        """The job's meta (refreshed from Redis)."""
        job = self._fetch(job_id)
        return dict(job.get_meta()) if job is not None else {}

    def job_result(self, job_id: str) -> Any:
        """The RQ job's return value once finished."""
        job = self._fetch(job_id)
        if job is None or job.get_status() != "finished":
            return None
        return job.return_value()

    def acquire_lock(self, name: str, owner: str, ttl: int) -> str | None:
        """SET NX EX; on refusal return the current holder."""
        key = self._key(f"lock:{name}")
        if self.redis.set(key, owner, nx=True, ex=ttl):
            return None
        holder = self.redis.get(key)
        return holder.decode() if holder is not None else ""

    def refresh_lock(self, name: str, owner: str, ttl: int) -> None:
        """Extend the TTL if owner holds the lock."""
        self.redis.eval(self.REFRESH, 1, self._key(f"lock:{name}"), owner, ttl)

    def force_lock(self, name: str, owner: str, ttl: int) -> None:
        """Overwrite a stale lock."""
        self.redis.set(self._key(f"lock:{name}"), owner, ex=ttl)

    def release_lock(self, name: str, owner: str) -> None:
        """Compare-and-delete, so a late job never frees a newer holder's lock."""
        self.redis.eval(self.RELEASE, 1, self._key(f"lock:{name}"), owner)

    def get_value(self, key: str) -> str | None:
        """GET a namespaced key."""
        value = self.redis.get(self._key(f"kv:{key}"))
        return value.decode() if value is not None else None

    def set_value(self, key: str, value: str) -> None:
        """SET a namespaced key."""
        self.redis.set(self._key(f"kv:{key}"), value)

    def remember(self, key: str, ttl: int) -> bool:
        """SET NX EX on a namespaced key, atomic across processes."""
        with self.guarded():
            return bool(self.redis.set(self._key(f"seen:{key}"), 1, nx=True, ex=ttl))

    def forget(self, key: str) -> None:
        """DEL the namespaced key; a Redis error is logged, not raised."""
        from redis.exceptions import RedisError

        try:
            self.redis.delete(self._key(f"seen:{key}"))
        except RedisError as exc:
            log.warning("could not forget %s: %s", key, exc)

    def shutdown(self) -> None:
        """Close the Redis connection pool."""
        self.redis.close()

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Turn Redis errors into QueueUnavailable."""
        from redis.exceptions import RedisError

        try:
            yield
        except RedisError as exc:
            raise QueueUnavailable(f"Redis is not reachable: {exc}") from exc


# --------------------------------------------------------------------- embedded

_current_job: contextvars.ContextVar[EmbeddedJob | None] = contextvars.ContextVar(
    "pxflask_embedded_job", default=None
)


@dataclass
class EmbeddedJob:
    """A job of the embedded queue: what to call, its state and its meta."""

    id: str
    func: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    queue: str
    status: str = "queued"
    due: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    future: Future[Any] | None = None


class EmbeddedQueue(JobQueue):
    """Thread pools in the app process (one worker for syncs) plus a timer thread."""

    mode = "embedded"
    MAX_FINISHED = 500
    MAX_SEEN = 10_000

    def __init__(self, app: Flask, prefix: str = "", workers: int = 2) -> None:
        super().__init__(prefix)
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
        func: str,
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
                result = resolve(job.func)(*job.args, **job.kwargs)
        except BaseException as exc:
            job.status = "failed"
            job.error = f"{type(exc).__name__}: {exc}"
            log.error("embedded job %s (%s) failed", job.id, job.func, exc_info=True)
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
        func: str,
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


# ----------------------------------------------------------------- the holder

_CREATE = threading.Lock()


def get_queue(app: Flask | None = None) -> JobQueue:
    """The app's queue, created on first use (RQ if REDIS_URL is set)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions.get(QUEUE_KEY)
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
    embedded = _current_job.get()
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
    embedded = _current_job.get()
    if embedded is not None:
        return embedded.id
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None


@contextmanager
def app_queue(app: Flask) -> Iterator[JobQueue]:
    """Use the app's queue and shut it down afterwards (scripts and tests)."""
    try:
        yield get_queue(app)
    finally:
        close_queue(app)
