"""The one retry policy: capped attempts and wait, honouring Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a failed call may be retried."""

    max_attempts: int = 5
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
        """Seconds to wait before the next attempt, or None when the cap is hit."""
        if attempt >= self.max_attempts:
            return None
        wait = retry_after if retry_after is not None else self.backoff(attempt)
        wait = max(0.0, wait)
        if waited_s + wait > self.max_total_wait_s:
            return None
        return wait


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
