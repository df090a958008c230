"""Fault switches: errors, latency, expired tokens, commit-then-fail, held writes."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

SCOPES = ("api", "identity", "all")
HOLD_LIMIT_S = 60.0


@dataclass
class _Rule:
    """A pending batch of injected failures."""

    remaining: int
    status: int
    scope: str
    path_contains: str | None
    method: str | None = None
    """Only calls of this HTTP method (None: any)."""


@dataclass
class WriteHold:
    """A write the sandbox applies, then leaves unanswered until released."""

    skip: int
    method: str
    paths: tuple[str, ...]
    applied: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def matches(self, method: str, path: str) -> bool:
        """Whether a write with this method and path is one this hold counts."""
        if method.upper() != self.method:
            return False
        return not self.paths or any(p in path for p in self.paths)

    def hold(self) -> None:
        """Signal that the write is applied, then wait (bounded) for release."""
        self.applied.set()
        self.released.wait(HOLD_LIMIT_S)

    def release(self) -> None:
        """Let the held response go (to a client that may be gone)."""
        self.released.set()


class Faults:
    """Fault switches consulted by every request; all thread-safe."""

    def __init__(self, seed: int = 1234) -> None:
        """No faults active."""
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._commit_fail: list[_Rule] = []
        self._holds: list[WriteHold] = []
        self.error_rate = 0.0
        self.error_rate_status = 503
        self.latency_s = 0.0
        self._random = random.Random(seed)  # noqa: S311 - not security related

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        scope: str = "api",
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Make the next n matching calls fail with status before doing anything."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        with self._lock:
            rule = _Rule(n, status, scope, path_contains, method and method.upper())
            self._rules.append(rule)

    def fail_fraction(self, fraction: float, status: int = 503) -> None:
        """Fail this fraction (0..1) of API calls at random (seeded)."""
        self.error_rate = fraction
        self.error_rate_status = status

    def set_latency(self, seconds: float) -> None:
        """Add this delay to every API call (inside its concurrency slot)."""
        self.latency_s = seconds

    def commit_then_fail(
        self, n: int = 1, status: int = 504, path_contains: str | None = None
    ) -> None:
        """Apply the next n writes, then answer status (0 = drop the connection)."""
        with self._lock:
            self._commit_fail.append(_Rule(n, status, "api", path_contains))

    def hold_after_write(
        self, skip: int = 0, method: str = "PUT", paths: tuple[str, ...] = ()
    ) -> WriteHold:
        """Apply the (skip+1)-th matching write, then hold its answer unsent."""
        hold = WriteHold(skip, method.upper(), paths)
        with self._lock:
            self._holds.append(hold)
        return hold

    def take_hold(self, method: str, path: str) -> WriteHold | None:
        """The hold an applied write must wait on, or None."""
        with self._lock:
            for hold in self._holds:
                if not hold.matches(method, path):
                    continue
                if hold.skip > 0:
                    hold.skip -= 1
                    return None
                self._holds.remove(hold)
                return hold
        return None

    def clear(self) -> None:
        """Switch every fault off (held writes are released)."""
        with self._lock:
            self._rules.clear()
            self._commit_fail.clear()
            for hold in self._holds:
                hold.release()
            self._holds.clear()
        self.error_rate = 0.0
        self.latency_s = 0.0

    @staticmethod
    def _take(
        rules: list[_Rule], scope: str, path: str, method: str | None = None
    ) -> int | None:
        """Consume one matching rule; return its status."""
        for rule in rules:
            if rule.scope not in (scope, "all"):
                continue
            if rule.path_contains and rule.path_contains not in path:
                continue
            if rule.method and method and rule.method != method.upper():
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                rules.remove(rule)
            return rule.status
        return None

    def take_failure(
        self, scope: str, path: str, method: str | None = None
    ) -> int | None:
        """Status to fail this call with, or None."""
        with self._lock:
            status = self._take(self._rules, scope, path, method)
            if status is None and scope == "api" and self.error_rate > 0:
                if self._random.random() < self.error_rate:
                    status = self.error_rate_status
        return status

    def take_commit_failure(self, path: str) -> int | None:
        """Status (0 = drop) to replace a successful write's response, or None."""
        with self._lock:
            return self._take(self._commit_fail, "api", path)
