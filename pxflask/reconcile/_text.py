"""Fast, exact joint factorisation of text columns (ids, invoice numbers, names).

Hashing a million distinct strings through a string hash table costs ~0.5 s here.
Instead the Arrow string buffers are read as a padded matrix of 64-bit words, each row
is mixed into one 64-bit hash, and the hashes are factorised as integers.  Every row
is then compared word by word with its group's first row, so a hash collision can
never merge two different strings; if one ever occurs the exact (slow) path runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["factorize_text", "first_positions", "is_unique_text"]

_MAX_FAST_BYTES = 256
_MULT = np.uint64(0x9E3779B97F4A7C15)


def _arrow(values: pd.Series) -> pa.LargeStringArray:
    """The values as one contiguous Arrow large_string array."""
    arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _words(arr: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray] | None:
    """(n, w) uint64 word matrix of the zero-padded UTF-8 bytes, and the lengths."""
    n = len(arr)
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, np.int64)[arr.offset : arr.offset + n + 1]
    lengths = np.diff(offsets)
    if n == 0:
        return np.zeros((0, 1), np.uint64), lengths
    longest = int(lengths.max())
    if longest > _MAX_FAST_BYTES:
        return None
    width = max(1, -(-longest // 8))
    data = (
        np.frombuffer(data_buf, np.uint8)
        if data_buf is not None
        else np.zeros(0, np.uint8)
    )
    mat = np.zeros((n, width * 8), np.uint8)
    start = offsets[:-1]
    if longest and (lengths == longest).all():
        block = data[offsets[0] : offsets[0] + n * longest].reshape(n, longest)
        mat[:, :longest] = block
    else:
        last = max(len(data) - 1, 0)
        for j in range(longest):
            has = lengths > j
            mat[:, j] = np.where(has, data[np.minimum(start + j, last)], 0)
    return mat.view(np.uint64), lengths


def _hash(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One 64-bit hash per row of the word matrix."""
    h = lengths.astype(np.uint64) * _MULT
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= _MULT
        h ^= h >> np.uint64(29)
    return h


def factorize_text(*columns: pd.Series) -> list[np.ndarray]:
    """Joint int64 codes of text columns: equal strings share a code; missing is -1."""
    sizes = [len(c) for c in columns]
    joined = pd.concat([c.reset_index(drop=True) for c in columns], ignore_index=True)
    missing = joined.isna().to_numpy()
    codes = _fast_codes(joined, missing)
    if codes is None:
        codes, _ = pd.factorize(joined)
        codes = codes.astype(np.int64)
    return np.split(codes, np.cumsum(sizes)[:-1])


def _fast_codes(joined: pd.Series, missing: np.ndarray) -> np.ndarray | None:
    """Codes via hashing and exact verification; None when the fast path can't run."""
    if len(joined) == 0:
        return np.empty(0, np.int64)
    try:
        arr = _arrow(joined)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    parts = _words(arr)
    if parts is None:
        return None
    words, lengths = parts
    hashes = _hash(words, lengths)
    codes, _ = pd.factorize(hashes)
    codes = codes.astype(np.int64)
    codes[missing] = -1
    present = np.flatnonzero(~missing)
    first = first_positions(codes, int(codes.max()) + 1 if len(present) else 0)
    rep = first[codes[present]]
    same = (lengths[present] == lengths[rep]) & (words[present] == words[rep]).all(
        axis=1
    )
    if not same.all():
        return None
    return codes


def first_positions(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """The first position of each code 0..n_codes-1 (-1 when a code is absent)."""
    first = np.full(n_codes, -1, np.int64)
    ok = np.flatnonzero(codes >= 0)
    first[codes[ok][::-1]] = ok[::-1]
    return first


def is_unique_text(values: pd.Series) -> bool:
    """True when no two present values are equal."""
    (codes,) = factorize_text(values)
    present = codes[codes >= 0]
    return len(present) == 0 or int(np.bincount(present).max()) <= 1
