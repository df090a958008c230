"""What both queue backends share: queue names, limits, the unavailable error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

SYNC_QUEUE = "sync"
DEFAULT_QUEUE = "default"
QUEUE_NAMES = (SYNC_QUEUE, DEFAULT_QUEUE)
JOB_TIMEOUT = 6 * 3600
RESULT_TTL = 24 * 3600
FAILURE_TTL = 7 * 24 * 3600


class QueueUnavailable(RuntimeError):
    """The queue cannot take the job (Redis unreachable, queue shut down)."""


def utc_naive(when: datetime) -> datetime:
    """A datetime as naive UTC (aware values are converted)."""
    if when.tzinfo is not None:
        return when.astimezone(UTC).replace(tzinfo=None)
    return when


def func_name(func: Callable[..., Any]) -> str:
    """The importable name of a job function (for logs)."""
    return f"{func.__module__}.{getattr(func, '__qualname__', repr(func))}"
