"""Call counters for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from collections import Counter

RETRY_AFTER_GRACE_S = 0.25
"""A call arriving this soon after a 429 was on its way before the client knew."""


class Counters:
    """Counts calls per endpoint, token requests per grant and calls per tenant."""

    def __init__(self) -> None:
        """Start with everything at zero."""
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.token_requests: Counter[str] = Counter()
        self.tenant_calls: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.arrivals: dict[str, list[float]] = {}
        self.retry_windows: dict[str, list[tuple[float, float]]] = {}

    def record_call(self, method: str, endpoint: str, tenant_id: str | None) -> None:
        """Count one API call (endpoint is the route pattern, e.g. /Invoices)."""
        with self._lock:
            self.calls[(method.upper(), endpoint)] += 1
            if tenant_id:
                self.tenant_calls[tenant_id] += 1

    def record_arrival(self, tenant_id: str) -> float:
        """Note when a tenant's API call arrived (monotonic seconds); that time."""
        now = time.monotonic()
        with self._lock:
            self.arrivals.setdefault(tenant_id, []).append(now)
        return now

    def record_retry_after(self, tenant_id: str, start: float, seconds: float) -> None:
        """Note a 429 answered at `start` that asked for `seconds` of quiet."""
        with self._lock:
            windows = self.retry_windows.setdefault(tenant_id, [])
            windows.append((start, start + seconds))

    def calls_inside_retry_after(
        self, grace_s: float = RETRY_AFTER_GRACE_S
    ) -> list[str]:
        """Calls that arrived while a 429's Retry-After window was open.

        A call arriving within `grace_s` of the 429 is not counted: it was sent
        before the client could have read the answer.
        """
        found: list[str] = []
        with self._lock:
            for tenant, windows in self.retry_windows.items():
                arrivals = self.arrivals.get(tenant, [])
                for start, end in windows:
                    inside = [t for t in arrivals if start + grace_s < t < end]
                    found.extend(
                        f"{tenant}: a call {t - start:.3f} s into a "
                        f"{end - start:.0f} s Retry-After window"
                        for t in inside
                    )
        return found

    def record_token(self, grant_type: str) -> None:
        """Count one request to the token endpoint."""
        with self._lock:
            self.token_requests[grant_type] += 1

    def record_status(self, status: int) -> None:
        """Count one response status."""
        with self._lock:
            self.statuses[status] += 1

    def calls_to(self, method: str, endpoint: str) -> int:
        """Calls made to one endpoint, e.g. calls_to("PUT", "/Invoices")."""
        return self.calls[(method.upper(), endpoint)]

    @property
    def total_calls(self) -> int:
        """All API calls (accounting and connections)."""
        return sum(self.calls.values())

    def snapshot(self) -> dict[str, object]:
        """A plain-dict copy (for benchmark reports)."""
        with self._lock:
            return {
                "calls": {f"{m} {p}": n for (m, p), n in self.calls.items()},
                "token_requests": dict(self.token_requests),
                "tenant_calls": dict(self.tenant_calls),
                "statuses": dict(self.statuses),
            }
