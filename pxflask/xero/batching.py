"""Batch planning (count and size caps) and deterministic idempotency keys."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

MAX_ELEMENTS = 50
MAX_BYTES = 3_500_000
ENVELOPE_BYTES = 64  # {"Invoices":[ ... ]} plus separators, generously


class Batcher:
    """Streams items into batches within the count and byte caps, in order."""

    def __init__(
        self, max_elements: int = MAX_ELEMENTS, max_bytes: int = MAX_BYTES
    ) -> None:
        self.max_elements = max_elements
        self.max_bytes = max_bytes
        self._items: list[Any] = []
        self._bytes = ENVELOPE_BYTES

    def add(self, item: Any, size: int) -> list[Any] | None:
        """Add an item; returns the previous batch when this item starts a new one."""
        full = None
        extra = size + 1
        if self._items and (
            len(self._items) >= self.max_elements
            or self._bytes + extra > self.max_bytes
        ):
            full = self.flush()
        self._items.append(item)
        self._bytes += extra
        return full

    def flush(self) -> list[Any] | None:
        """The pending batch (None when empty); starts a new one."""
        if not self._items:
            return None
        batch, self._items, self._bytes = self._items, [], ENVELOPE_BYTES
        return batch


def plan_batches(
    sizes: Sequence[int], max_elements: int = MAX_ELEMENTS, max_bytes: int = MAX_BYTES
) -> list[list[int]]:
    """Group element indices, in order, into batches within both caps."""
    batcher = Batcher(max_elements, max_bytes)
    batches = [b for i, size in enumerate(sizes) if (b := batcher.add(i, size))]
    last = batcher.flush()
    return batches + ([last] if last else [])


def idempotency_key(run_key: str, operation: str, body: str) -> str:
    """A key (≤128 chars) fixed by the run key, the operation and the batch body."""
    digest = hashlib.sha256()
    for part in (run_key, operation, body):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return "pxf-" + digest.hexdigest()
