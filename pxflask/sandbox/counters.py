"""Call counters for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    """Counts calls per endpoint, token requests per grant and calls per tenant."""

    def __init__(self) -> None:
        """Start with everything at zero."""
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.token_requests: Counter[str] = Counter()
        self.tenant_calls: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def record_call(self, method: str, endpoint: str, tenant_id: str | None) -> None:
        """Count one API call (endpoint is the route pattern, e.g. /Invoices)."""
        with self._lock:
            self.calls[(method.upper(), endpoint)] += 1
            if tenant_id:
                self.tenant_calls[tenant_id] += 1

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
