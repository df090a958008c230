"""Xero's per-tenant limits: concurrent, per-window (minute) and daily calls."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Window:
    """A fixed window: when it started and how many calls it holds."""

    start: float = 0.0
    count: int = 0

    def roll(self, now: float, length: float) -> None:
        """Start a new window when the current one has ended."""
        if now >= self.start + length:
            self.start = now
            self.count = 0


@dataclass
class Decision:
    """Outcome of asking for a call slot."""

    allowed: bool
    problem: str | None = None
    retry_after: int | None = None
    headers: dict[str, str] | None = None


class RateLimiter:
    """Fixed-window counters per tenant plus an app-wide minute window."""

    def __init__(
        self,
        clock: Callable[[], float],
        calls_per_window: int = 60,
        window_s: float = 60.0,
        concurrent_limit: int = 5,
        day_limit: int = 5000,
        day_window_s: float = 86400.0,
        app_calls_per_window: int = 10000,
    ) -> None:
        """Configure the limits; clock returns sandbox seconds."""
        self.clock = clock
        self.calls_per_window = calls_per_window
        self.window_s = window_s
        self.concurrent_limit = concurrent_limit
        self.day_limit = day_limit
        self.day_window_s = day_window_s
        self.app_calls_per_window = app_calls_per_window
        self._lock = threading.Lock()
        self._minute: dict[str, _Window] = {}
        self._day: dict[str, _Window] = {}
        self._app = _Window()
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}

    def _headers(self, tenant_id: str) -> dict[str, str]:
        """Remaining-budget headers for a tenant."""
        minute = self._minute.get(tenant_id, _Window())
        day = self._day.get(tenant_id, _Window())
        return {
            "X-MinLimit-Remaining": str(max(self.calls_per_window - minute.count, 0)),
            "X-DayLimit-Remaining": str(max(self.day_limit - day.count, 0)),
            "X-AppMinLimit-Remaining": str(
                max(self.app_calls_per_window - self._app.count, 0)
            ),
        }

    def acquire(self, tenant_id: str) -> Decision:
        """Take a call slot for the tenant or say which limit is hit."""
        now = self.clock()
        with self._lock:
            minute = self._minute.setdefault(tenant_id, _Window(now))
            day = self._day.setdefault(tenant_id, _Window(now))
            minute.roll(now, self.window_s)
            day.roll(now, self.day_window_s)
            self._app.roll(now, self.window_s)
            problem, retry = None, None
            if day.count >= self.day_limit:
                problem = "day"
                retry = day.start + self.day_window_s - now
            elif minute.count >= self.calls_per_window:
                problem = "minute"
                retry = minute.start + self.window_s - now
            elif self._app.count >= self.app_calls_per_window:
                problem = "appminute"
                retry = self._app.start + self.window_s - now
            elif self.in_flight.get(tenant_id, 0) >= self.concurrent_limit:
                problem, retry = "concurrent", 1
            if problem:
                return Decision(
                    False,
                    problem,
                    max(1, math.ceil(retry or 1)),
                    self._headers(tenant_id),
                )
            minute.count += 1
            day.count += 1
            self._app.count += 1
            flying = self.in_flight.get(tenant_id, 0) + 1
            self.in_flight[tenant_id] = flying
            self.max_in_flight[tenant_id] = max(
                flying, self.max_in_flight.get(tenant_id, 0)
            )
            return Decision(True, headers=self._headers(tenant_id))

    def release(self, tenant_id: str) -> None:
        """Give back the concurrency slot taken by acquire."""
        with self._lock:
            self.in_flight[tenant_id] = max(self.in_flight.get(tenant_id, 1) - 1, 0)

    def headers(self, tenant_id: str) -> dict[str, str]:
        """Current remaining-budget headers for a tenant."""
        with self._lock:
            return self._headers(tenant_id)

    def exhaust_day(self, tenant_id: str) -> None:
        """Use up the tenant's daily budget (to test the day limit)."""
        now = self.clock()
        with self._lock:
            day = self._day.setdefault(tenant_id, _Window(now))
            day.count = self.day_limit
