"""Idempotency-Key store: replay stored responses, reject key reuse."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEY_LENGTH = 128


@dataclass
class StoredResponse:
    """A response kept for replay."""

    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class _Entry:
    """A key's fingerprint, when it was first seen and its response."""

    fingerprint: str
    created: float
    done: threading.Event = field(default_factory=threading.Event)
    response: StoredResponse | None = None


class IdempotencyStore:
    """Keys per (client, tenant, key) kept for ttl_s seconds from first use."""

    def __init__(self, clock: Callable[[], float], ttl_s: float = 360.0) -> None:
        """Empty store."""
        self.clock = clock
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self.replays = 0

    @staticmethod
    def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
        """A hash identifying the request a key was used with."""
        digest = hashlib.sha256()
        for part in (method.upper(), path, query):
            digest.update(part.encode() + b"\0")
        digest.update(body)
        return digest.hexdigest()

    def begin(
        self, scope: tuple[str, str, str], fingerprint: str, wait_s: float = 30.0
    ) -> tuple[str, StoredResponse | None]:
        """Claim a key: ("new", None), ("replay", resp) or ("mismatch", None)."""
        with self._lock:
            now = self.clock()
            entry = self._entries.get(scope)
            if entry is not None and now - entry.created > self.ttl_s:
                del self._entries[scope]
                entry = None
            if entry is None:
                self._entries[scope] = _Entry(fingerprint, now)
                return "new", None
        if entry.fingerprint != fingerprint:
            return "mismatch", None
        entry.done.wait(wait_s)
        if entry.response is None:
            return "mismatch", None
        with self._lock:
            self.replays += 1
        return "replay", entry.response

    def finish(
        self, scope: tuple[str, str, str], response: StoredResponse | None
    ) -> None:
        """Store the first request's response (None forgets the key)."""
        with self._lock:
            entry = self._entries.get(scope)
            if entry is None:
                return
            if response is None:
                del self._entries[scope]
            else:
                entry.response = response
            entry.done.set()
