"""Allocator settings for the large, short-lived arrays of one reconciliation.

A month-end run allocates and frees arrays of millions of rows many times over.  By
default glibc hands every block above 128 KB straight back to the kernel, and numpy
asks for transparent huge pages on large arrays; on a kernel whose THP defrag mode
is ``madvise`` each of those first touches can stall in page compaction.  On the
benchmark's 1,000,000-invoice run this page-fault time was a third of the wall
time.  Inside ``array_memory()`` freed blocks stay in the process for the next
array, every thread allocates from the main heap (so the helper threads reuse what
the main one freed), and numpy does not ask for huge pages; on leaving, the
settings go back and the memory kept is returned to the kernel.  One effect can
outlast the block: glibc fixes its limit on heaps ("arenas") the first time a
thread needs a new one, so a long-lived threaded process that reconciled may keep
one heap for all threads (the product reconciles in the CLI or an RQ job).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_DEFAULT_TRIM = 128 * 1024
_KEEP = 1 << 30  # keep up to 1 GB of freed memory at the top of the heap
_MMAP_ABOVE = 32 * 1024 * 1024  # glibc's largest mmap threshold
_lock = threading.Lock()
_depth = 0
_saved_hugepage: bool | None = None


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has mallopt and malloc_trim)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None
    return libc


_LIBC = _glibc()
_set_hugepage = getattr(
    getattr(getattr(np, "_core", None), "multiarray", None),
    "_set_madvise_hugepage",
    None,
)


@contextmanager
def array_memory() -> Iterator[None]:
    """Keep freed array memory for reuse and skip huge-page advice in the block."""
    global _depth, _saved_hugepage
    with _lock:
        _depth += 1
        if _depth == 1:
            if _LIBC is not None:
                _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_ABOVE)
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _KEEP)
                _LIBC.mallopt(_M_ARENA_MAX, 1)
            if _set_hugepage is not None:
                _saved_hugepage = bool(_set_hugepage(False))
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _LIBC is not None:
                    _LIBC.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM)
                    _LIBC.mallopt(_M_ARENA_MAX, 0)  # 0: glibc's own limit
                    _LIBC.malloc_trim(0)
                if _set_hugepage is not None and _saved_hugepage is not None:
                    _set_hugepage(_saved_hugepage)
                    _saved_hugepage = None
