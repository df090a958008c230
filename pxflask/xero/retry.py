"""The one retry policy: a time budget with jittered exponential back-off.

A failed call (429 minute limit, 500/502/503/504, a timeout or a dropped
connection) is retried while the time since its first attempt stays within
`max_total_wait_s` (the budget, 2 minutes by default): back-off doubles from
`base_delay_s` up to `max_delay_s`, each wait jittered to 50-100 % so workers do
not retry in step, and a 429's Retry-After replaces the back-off. A wait that
would end past the budget gives up at once. `max_attempts` (None: no count)
caps the attempts too, for tests that want "no retry at all" (1).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How long (and, optionally, how often) a failed call may be retried."""

    max_attempts: int | None = None
    max_total_wait_s: float = 120.0
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    jitter: bool = True

    def backoff(self, attempt: int) -> float:
        """Exponential back-off before retry number `attempt` (1-based)."""
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempt - 1))
        if self.jitter:
            delay *= 0.5 + random.random() / 2  # noqa: S311 - not security related
        return delay

    def next_wait(
        self, attempt: int, waited_s: float, retry_after: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the budget is spent.

        `waited_s` is the time since the first attempt (the gateway passes the
        elapsed time, so slow answers spend the budget too).
        """
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return None
        wait = retry_after if retry_after is not None else self.backoff(attempt)
        wait = max(0.0, wait)
        if waited_s + wait > self.max_total_wait_s:
            return None
        return wait


def gave_up_message(status: int, method: str, elapsed_s: float) -> str:
    """Why a call was given up, for the admin: what Xero said, for how long."""
    if status:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        said = f"answering {status} {phrase}"
    else:
        said = "not answering (timeouts or dropped connections)"
    return (
        f"Xero kept {said} for {duration(elapsed_s)} ({method}); "
        "the next run retries it"
    )


def duration(seconds: float) -> str:
    """A short human duration: '40 s', '2 min'."""
    if seconds < 90:
        return f"{max(0, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup on a dict, HTTPHeaderDict or None."""
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    if getter is not None:
        value = getter(name)
        if value is None:
            value = getter(name.lower())
        if value is not None:
            return str(value)
    lowered = name.lower()
    for key, value in dict(headers).items():
        if str(key).lower() == lowered:
            return str(value)
    return None


def int_header(headers: Any, name: str) -> int | None:
    """An integer header, None when absent or not a number."""
    value = header(headers, name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def retry_after_seconds(headers: Any, now: datetime | None = None) -> float | None:
    """Parse Retry-After (seconds or an HTTP date) into seconds from now."""
    value = header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def next_utc_midnight(now: datetime | None = None) -> datetime:
    """The next UTC midnight, as a naive UTC datetime."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    return datetime(now.year, now.month, now.day) + timedelta(days=1)
