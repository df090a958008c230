"""Exact text and integer keys: factorising, finding and gathering columns.

Text columns travel as Arrow ``large_string`` arrays (pandas' ``str`` dtype holds
one, reached through Arrow's public ``__arrow_array__`` protocol). Equal strings
get equal codes through Arrow's own hash kernel (``dictionary_encode``), look-ups
use ``pyarrow.compute.index_in`` and gathers ``Array.take``. Integer keys are
sorted instead of hashed: a key is packed with its row position into one
``uint64`` (``key << bits | position``) and sorted with ``np.sort``, which gives
the grouping and a stable order at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "arrow_data",
    "dense_ids",
    "factorize_text",
    "find_text",
    "first_positions",
    "in_values",
    "is_unique_text",
    "lookup",
    "run_cache",
    "str_array",
    "take_text",
    "text_array",
]

STR_DTYPE = pd.StringDtype(na_value=np.nan)
_COMBINED: ContextVar[dict[int, tuple[pa.ChunkedArray, pa.Array]] | None] = ContextVar(
    "_COMBINED", default=None
)


Text: TypeAlias = (
    pd.Series | pd.api.extensions.ExtensionArray | pa.Array | pa.ChunkedArray
)


def text_array(values: Text) -> pa.Array:
    """The values as one contiguous Arrow ``large_string`` array (no copy if may)."""
    data = arrow_data(values)
    if data is None:
        arr = values.array if isinstance(values, pd.Series) else values
        data = pa.array(arr, type=pa.large_string(), from_pandas=True)
    elif not pa.types.is_large_string(data.type):
        data = data.cast(pa.large_string())
    if isinstance(data, pa.ChunkedArray):
        if data.num_chunks == 1:
            return data.chunk(0)
        if data.num_chunks == 0:
            return pa.array([], pa.large_string())
        cache = _COMBINED.get()
        if cache is None:
            return data.combine_chunks()
        hit = cache.get(id(data))
        if hit is None or hit[0] is not data:
            hit = (data, data.combine_chunks())
            cache[id(data)] = hit
        return hit[1]
    return data


def in_values(values: Text, allowed: Text | Iterable[str]) -> np.ndarray:
    """A boolean mask: each text is one of ``allowed`` (missing text is not).

    ``find_text`` (Arrow's hashed ``index_in``); pandas' ``isin`` on Arrow strings
    walks the allowed values in Python first.
    """
    if not isinstance(allowed, pd.Series | pd.api.extensions.ExtensionArray | pa.Array):
        allowed = pa.array(list(allowed), type=pa.large_string())
    return find_text(values, allowed) >= 0


def arrow_data(values: Text) -> pa.Array | pa.ChunkedArray | None:
    """The Arrow data behind Arrow-backed values (no copy), else None.

    Uses Arrow's public ``__arrow_array__`` protocol through ``pa.array``, which
    pandas' Arrow-backed arrays answer with their own buffers.
    """
    arr = values.array if isinstance(values, pd.Series) else values
    if isinstance(arr, pa.Array | pa.ChunkedArray):
        return arr
    if isinstance(arr, pd.arrays.ArrowExtensionArray):
        return pa.array(arr)
    return None


@contextmanager
def run_cache() -> Iterator[None]:
    """Within the block, combine each multi-chunk text column only once."""
    token = _COMBINED.set({})
    try:
        yield
    finally:
        _COMBINED.reset(token)


def str_array(data: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow ``large_string`` array as pandas' ``str`` array (no copy)."""
    return pd.arrays.ArrowStringArray(data, dtype=STR_DTYPE)


def _bits(n: int) -> int:
    """Bits needed for positions 0..n-1."""
    return max(1, int(n - 1).bit_length())


def _sorted_groups(
    keys: np.ndarray, n_bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort uint64 keys whose low ``n_bits`` are free; (order, key, run start)."""
    n = len(keys)
    pos_mask = np.uint64((1 << n_bits) - 1)
    packed = (keys << np.uint64(n_bits)) | np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & pos_mask).astype(np.int64)
    packed >>= np.uint64(n_bits)
    start = np.empty(n, bool)
    if n:
        start[0] = True
        np.not_equal(packed[1:], packed[:-1], out=start[1:])
    return order, packed, start


def dense_ids(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense ids 0..k-1 of int64 values (equal values share an id), and k."""
    n = len(values)
    if n == 0:
        return np.empty(0, np.int64), 0
    values = np.asarray(values, np.int64)
    lo, hi = int(values.min()), int(values.max())
    n_bits = _bits(n)
    if (hi - lo).bit_length() + n_bits > 64:
        codes, uniques = pd.factorize(values)
        return codes.astype(np.int64), len(uniques)
    keys = (values - lo).astype(np.uint64)
    order, _, start = _sorted_groups(keys, n_bits)
    gid = np.cumsum(start) - 1
    out = np.empty(n, np.int64)
    out[order] = gid
    return out, int(gid[-1]) + 1


def _chunks(values: Text) -> list[pa.Array]:
    """The Arrow ``large_string`` chunks of a text column (no copy)."""
    data = arrow_data(values)
    if data is None or not pa.types.is_large_string(data.type):
        return [text_array(values)]
    if isinstance(data, pa.ChunkedArray):
        return [c for c in data.chunks if len(c)]
    return [data]


def factorize_text(*columns: Text) -> list[np.ndarray]:
    """Joint int64 codes of text columns: equal strings share a code; missing is -1."""
    parts = [_chunks(c) for c in columns]
    sizes = [sum(len(a) for a in chunks) for chunks in parts]
    codes = _codes([a for chunks in parts for a in chunks])
    return np.split(codes, np.cumsum(sizes)[:-1]) if len(parts) > 1 else [codes]


def _codes(arrays: list[pa.Array]) -> np.ndarray:
    """Joint codes of Arrow string arrays (-1 for missing), one shared dictionary."""
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return np.empty(0, np.int64)
    encoded = pa.chunked_array(arrays, pa.large_string()).dictionary_encode()
    indices = pa.chunked_array([c.indices for c in encoded.chunks], pa.int32())
    return pc.fill_null(indices, -1).to_numpy().astype(np.int64)


def find_text(values: Text, table: Text) -> np.ndarray:
    """Position of each value's first exact occurrence in ``table`` (-1: absent)."""
    vals, tab = text_array(values), text_array(table)
    if len(vals) == 0 or len(tab) == 0:
        return np.full(len(vals), -1, np.int64)
    at = pc.index_in(vals, value_set=tab, skip_nulls=True)
    return pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def first_positions(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """The first position of each code 0..n_codes-1 (-1 when a code is absent)."""
    first = np.full(n_codes, -1, np.int64)
    ok = np.flatnonzero(codes >= 0)
    first[codes[ok][::-1]] = ok[::-1]
    return first


def lookup(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each int value's first occurrence in ``table`` (-1 if absent)."""
    table = np.asarray(table, np.int64)
    values = np.asarray(values, np.int64)
    if len(table) == 0 or len(values) == 0:
        return np.full(len(values), -1, np.int64)
    lo, hi = int(table.min()), int(table.max())
    if hi - lo <= 4 * (len(table) + len(values)) + 1024:
        first = first_positions(table - lo, hi - lo + 1)
        ok = (values >= lo) & (values <= hi)
        return np.where(ok, first[np.where(ok, values - lo, 0)], -1)
    keep = first_of_each(table)
    at = pd.Index(table[keep]).get_indexer(values)
    return np.where(at >= 0, keep[np.maximum(at, 0)], -1)


def first_of_each(values: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct int value, ascending."""
    ids, k = dense_ids(values)
    first = first_positions(ids, k)
    return np.sort(first)


def take_text(values: Text, pos: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Gather a text column at ``pos`` (-1 gives missing) as a ``str`` array."""
    arr = text_array(values)
    pos = np.asarray(pos, np.int64)
    if len(arr) == 0:
        return str_array(pa.nulls(len(pos), pa.large_string()))
    indices = pa.array(pos, mask=pos < 0) if (pos < 0).any() else pa.array(pos)
    return str_array(arr.take(indices))


def is_unique_text(values: pd.Series) -> bool:
    """True when no two present values are equal."""
    (codes,) = factorize_text(values)
    return codes_unique(codes)


def codes_unique(codes: np.ndarray) -> bool:
    """True when no non-negative code repeats."""
    present = np.sort(codes[codes >= 0])
    return bool(len(present) < 2 or (present[1:] != present[:-1]).all())
