"""RQ on Redis: named queues, RQ's scheduler, locks as SET NX with a TTL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .base import (
    DEFAULT_QUEUE,
    FAILURE_TTL,
    JOB_TIMEOUT,
    QUEUE_NAMES,
    RESULT_TTL,
    QueueUnavailable,
    utc_naive,
)

log = logging.getLogger(__name__)


class RQQueue:
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
        from redis import Redis

        self.prefix = prefix

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

    def queue_name(self, name: str) -> str:
        """The Redis name of a logical queue ("sync", "default")."""
        return f"{self.prefix}{name}"

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
        func: Callable[..., Any],
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
        func: Callable[..., Any],
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
        return _text(self.redis.get(key)) or ""

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
        return _text(self.redis.get(self._key(f"kv:{key}")))

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


def _text(value: bytes | str | None) -> str | None:
    """A Redis reply as text (RQ's connection answers bytes)."""
    return value.decode() if isinstance(value, bytes) else value
