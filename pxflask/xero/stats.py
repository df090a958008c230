"""Per-gateway call statistics for the panel and the benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from typing import Any


class CallStats:
    """Counts calls per SDK method, retries, 429s and the last quota headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.retries = 0
            self.rate_limited = 0
            self.errors = 0
            self.refreshes = 0
            self.elements_written = 0
            self.call_seconds = 0.0
            self.minute_remaining: int | None = None
            self.day_remaining: int | None = None
            self.quota_seen_at: datetime | None = None

    def count_call(self, method: str) -> None:
        """Record one HTTP request made through the SDK."""
        with self._lock:
            self.calls[method] += 1

    def timed(self, seconds: float) -> None:
        """Add the duration of one HTTP call."""
        with self._lock:
            self.call_seconds += seconds

    def count(self, what: str, n: int = 1) -> None:
        """Bump one of retries, rate_limited, errors, refreshes, elements_written."""
        with self._lock:
            setattr(self, what, getattr(self, what) + n)

    def quota(self, minute: int | None, day: int | None, at: datetime) -> None:
        """Remember the latest quota headers."""
        with self._lock:
            if minute is not None:
                self.minute_remaining = minute
            if day is not None:
                self.day_remaining = day
            self.quota_seen_at = at

    @property
    def total(self) -> int:
        """All calls so far."""
        with self._lock:
            return sum(self.calls.values())

    def snapshot(self) -> dict[str, Any]:
        """A plain dict copy of every figure."""
        with self._lock:
            return {
                "calls": dict(self.calls),
                "total": sum(self.calls.values()),
                "retries": self.retries,
                "rate_limited": self.rate_limited,
                "errors": self.errors,
                "refreshes": self.refreshes,
                "elements_written": self.elements_written,
                "call_seconds": round(self.call_seconds, 3),
                "minute_remaining": self.minute_remaining,
                "day_remaining": self.day_remaining,
                "quota_seen_at": self.quota_seen_at,
            }
