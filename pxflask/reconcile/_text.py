"""Fast, exact text and integer keys: factorising, joining and gathering columns.

String hash tables cost ~0.5 s per million distinct strings here, and so do integer
hash tables (``pd.factorize``) on random keys.  Sorting 64-bit integers is ~20x
faster, so every key operation here sorts: an integer key is packed with its row
position into one ``uint64`` (``key << bits | position``) and sorted with
``np.sort``, which gives the grouping and a stable order at once.

Text is read from the Arrow string buffers as a zero-padded matrix of 64-bit words,
each row mixed into one 64-bit hash.  After sorting by hash, every row is compared
word by word with its sorted neighbour, so a hash collision can never merge two
different strings: the rare groups whose hash is shared by different strings are
split exactly with a dictionary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "arrow_data",
    "dense_ids",
    "factorize_text",
    "find_text",
    "first_positions",
    "is_unique_text",
    "lookup",
    "run_cache",
    "str_array",
    "take_text",
    "text_array",
]

_MAX_FAST_BYTES = 256
_MULT = np.uint64(0x9E3779B97F4A7C15)
_ROWS_PER_STEP = 1 << 15
STR_DTYPE = pd.StringDtype(na_value=np.nan)
_COMBINED: ContextVar[dict[int, tuple[pa.ChunkedArray, pa.Array]] | None] = ContextVar(
    "_COMBINED", default=None
)


Text = pd.Series | pd.api.extensions.ExtensionArray | pa.Array | pa.ChunkedArray


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


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data bytes) of a large_string array."""
    n = len(arr)
    _, off_buf, data_buf = arr.buffers()
    if off_buf is None:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.uint8)
    offsets = np.frombuffer(off_buf, np.int64)[arr.offset : arr.offset + n + 1]
    data = (
        np.frombuffer(data_buf, np.uint8)
        if data_buf is not None
        else np.zeros(0, np.uint8)
    )
    return offsets, data


def _padded(data: np.ndarray, n_words: int) -> np.ndarray:
    """The data bytes zero-padded for ``n_words`` reads, as little-endian uint64."""
    pad = np.zeros(-(-len(data) // 8) * 8 + 8 * (n_words + 2), np.uint8)
    pad[: len(data)] = data
    return pad.view("<u8")


def _word_columns(
    words: np.ndarray, starts: np.ndarray, lengths: np.ndarray, n_words: int
) -> np.ndarray:
    """(n_words, n) uint64: word k of each string (bytes 8k..8k+7, zero-padded)."""
    n = len(starts)
    out = np.empty((n_words, n), np.uint64)
    if n == 0:
        return out
    base = starts >> 3
    offset = starts & 7
    aligned = not offset.any()
    shift = (offset * 8).astype(np.uint64)
    back = np.uint64(64) - shift  # numpy shifts by >= 64 give 0
    shortest = int(lengths.min())
    for k in range(n_words):
        w = out[k]
        np.take(words, base + k, out=w)
        if not aligned:
            w >>= shift
            w |= np.take(words, base + (k + 1)) << back
        if 8 * (k + 1) > shortest:
            keep = np.clip(lengths - 8 * k, 0, 8).astype(np.uint64) * np.uint64(8)
            w &= (np.uint64(1) << keep) - np.uint64(1)  # 1 << 64 == 0: all ones
    return out


def _words(arr: pa.Array, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(w, n) uint64 word columns of the zero-padded UTF-8 bytes, and the lengths."""
    offsets, data = _buffers(arr)
    lengths = np.diff(offsets)
    if width is None:
        width = int(lengths.max(initial=0))
    n_words = max(1, -(-width // 8))
    size = int(lengths[0]) if len(lengths) else 0
    if size and _fixed(offsets, size):
        # every string has the same length (ids): one strided copy, no gathers
        mat = np.zeros((len(lengths), n_words * 8), np.uint8)
        mat[:, :size] = data[offsets[0] : offsets[-1]].reshape(-1, size)
        return mat.view("<u8").T, lengths
    return _word_columns(
        _padded(data, n_words), offsets[:-1], lengths, n_words
    ), lengths


def _hash(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One 64-bit hash per string from its word columns."""
    h = lengths.astype(np.uint64) * _MULT
    step = _ROWS_PER_STEP
    for lo in range(0, len(h), step):
        # a block of rows at a time: its words stay in cache across the columns
        part, cols = h[lo : lo + step], words[:, lo : lo + step]
        for j in range(cols.shape[0]):
            part ^= cols[j]
            part *= _MULT
            part ^= part >> np.uint64(29)
    return h


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
    """Joint codes of Arrow string arrays (-1 for missing)."""
    arrays = [a for a in arrays if len(a)]
    n = sum(len(a) for a in arrays)
    if n == 0:
        return np.empty(0, np.int64)
    width = max(int(np.diff(_buffers(a)[0]).max()) for a in arrays)
    if width > _MAX_FAST_BYTES:
        joined = pd.Series(str_array(pa.concat_arrays(arrays)))
        codes, _ = pd.factorize(joined)
        return codes.astype(np.int64)
    missing = np.zeros(n, bool)
    row = 0
    for a in arrays:
        if a.null_count:
            missing[row : row + len(a)] = a.is_null().to_numpy(zero_copy_only=False)
        row += len(a)
    words, lengths = _text_words(arrays, n, width)
    return _group_codes(words, lengths, missing)


def _text_words(
    arrays: list[pa.Array], n: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """(n, w) uint64 words of the zero-padded bytes of the arrays, and lengths."""
    n_words = max(1, -(-width // 8))
    mat = np.zeros((n, n_words * 8), np.uint8)
    words = mat.view("<u8")  # (n, n_words), row-major
    lengths = np.empty(n, np.int64)
    row = 0
    for a in arrays:
        offsets, data = _buffers(a)
        size, m = int(offsets[1] - offsets[0]), len(a)
        lengths[row : row + m] = np.diff(offsets)
        if size and _fixed(offsets, size):
            mat[row : row + m, :size] = data[offsets[0] : offsets[-1]].reshape(m, size)
        else:
            cols = _word_columns(
                _padded(data, n_words), offsets[:-1], lengths[row : row + m], n_words
            )
            words[row : row + m] = cols.T
        row += m
    return words, lengths


def _group_codes(
    words: np.ndarray, lengths: np.ndarray, missing: np.ndarray
) -> np.ndarray:
    """Codes of equal rows of (words, length): hash, sort, check neighbours."""
    n, n_words = words.shape
    hashes = _hash(words.T, lengths)
    n_bits = _bits(n)
    order, _, start = _sorted_groups(hashes >> np.uint64(n_bits), n_bits)
    del hashes
    sl = lengths[order]
    same = sl[1:] == sl[:-1]
    for lo in range(0, n - 1, _ROWS_PER_STEP):
        # whole rows gathered at once: one random access per row, not per word
        rows = words[order[lo : lo + _ROWS_PER_STEP + 1]]
        same[lo : lo + len(rows) - 1] &= (rows[1:] == rows[:-1]).all(axis=1)
    clash = ~start[1:] & ~same
    if clash.any():
        _split_clashes(start, clash, order, words.T, lengths)
    gid = np.cumsum(start) - 1
    codes = np.empty(n, np.int64)
    codes[order] = gid
    if missing.any():
        codes[missing] = -1
    return codes


def _split_clashes(
    start: np.ndarray,
    clash: np.ndarray,
    order: np.ndarray,
    words: np.ndarray,
    lengths: np.ndarray,
) -> None:
    """Mark exact group starts (in place) inside hash groups that mix strings."""
    run = np.cumsum(start) - 1
    bad_runs = np.unique(run[1:][clash])
    for r in bad_runs:
        idx = np.flatnonzero(run == r)
        seen: dict[bytes, int] = {}
        keys = [
            words[:, order[i]].tobytes() + int(lengths[order[i]]).to_bytes(8, "little")
            for i in idx
        ]
        # regroup: rows of the same string become adjacent in a stable order
        groups = [seen.setdefault(k, len(seen)) for k in keys]
        new = idx[np.argsort(np.asarray(groups), kind="stable")]
        order[idx] = order[new]
        regrouped = np.sort(np.asarray(groups))
        start[idx] = np.concatenate([[True], regrouped[1:] != regrouped[:-1]])


def _width(arr: pa.Array) -> int:
    """The longest string's byte length (0 when empty)."""
    return int(np.diff(_buffers(arr)[0]).max(initial=0)) if len(arr) else 0


def text_hashes(values: Text, width: int | None = None) -> np.ndarray | None:
    """A 64-bit hash per row, equal for equal strings hashed with the same width."""
    arr = text_array(values)
    width = _width(arr) if width is None else width
    if width > _MAX_FAST_BYTES:
        return None
    if len(arr) == 0:
        return np.empty(0, np.uint64)
    words, lengths = _words(arr, width)
    return _hash(words, lengths)


def find_text(values: Text, table: Text) -> np.ndarray:
    """Position of each value's first exact occurrence in ``table`` (-1: absent)."""
    # few values: factorise (exactly) only the table rows sharing a value's hash
    vals, tab = text_array(values), text_array(table)
    rows = np.arange(len(tab))
    if len(vals) == 0 or len(tab) == 0:
        return np.full(len(vals), -1, np.int64)
    if 8 * len(vals) < len(tab):
        width = max(_width(vals), _width(tab))
        hv, ht = text_hashes(vals, width), text_hashes(tab, width)
        if hv is not None and ht is not None:
            wanted = np.sort(hv)
            at = np.minimum(np.searchsorted(wanted, ht), len(wanted) - 1)
            rows = np.flatnonzero(wanted[at] == ht)
            if len(rows) == 0:
                return np.full(len(vals), -1, np.int64)
            tab = tab.take(pa.array(rows))
    codes_t, codes_v = factorize_text(tab, vals)
    k = int(max(codes_t.max(initial=-1), codes_v.max(initial=-1))) + 1
    first = first_positions(codes_t, k)
    if k == 0:
        return np.full(len(vals), -1, np.int64)
    at = np.where(codes_v >= 0, first[np.maximum(codes_v, 0)], -1)
    return np.where(at >= 0, rows[np.maximum(at, 0)], -1)


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
    return str_array(_take_arrow(arr, np.asarray(pos, np.int64)))


def _take_arrow(arr: pa.Array, pos: np.ndarray) -> pa.Array:
    """Arrow take with -1 as null, gathering the bytes with numpy."""
    n = len(pos)
    if n == 0:
        return pa.array([], pa.large_string())
    if len(arr) == 0:
        return pa.nulls(n, pa.large_string())
    valid = pos >= 0
    if arr.null_count:
        valid &= arr.is_valid().to_numpy(zero_copy_only=False)[np.maximum(pos, 0)]
    offsets, data = _buffers(arr)
    lengths = np.diff(offsets)
    src = pos[valid]
    if len(src) == 0:
        return pa.nulls(n, pa.large_string())
    take_len = lengths[src]
    out_len = np.zeros(n, np.int64)
    out_len[valid] = take_len
    out_off = np.zeros(n + 1, np.int64)
    np.cumsum(out_len, out=out_off[1:])
    width = int(take_len.max())
    if width > _MAX_FAST_BYTES:
        taken = arr.take(pa.array(np.where(valid, pos, 0)))
        return pc_null_where(taken, ~valid)
    n_words = max(1, -(-width // 8))
    if len(src) >= max(4096, len(arr) // 4) and _few_distinct(arr):
        out_data = _gather_by_dictionary(arr, src, width)
    elif int(take_len.min()) == width and _fixed(offsets, width):
        out_data = data[offsets[0] : offsets[-1]].reshape(-1, width)[src].reshape(-1)
    else:
        cols = _word_columns(
            _padded(data, n_words), offsets[:-1][src], take_len, n_words
        )
        mat = cols.T.copy().view(np.uint8)[:, :width]
        out_data = mat[np.arange(width) < take_len[:, None]]
    validity = None
    if not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(out_off),
        pa.py_buffer(out_data),
        validity,
        int(n - valid.sum()),
    )


def _few_distinct(arr: pa.Array, sample: int = 1024, most: int = 64) -> bool:
    """True when a spread-out sample of the text has at most ``most`` values."""
    if len(arr) < 4 * sample:
        return False
    at = np.linspace(0, len(arr) - 1, sample).astype(np.int64)
    return len(set(arr.take(pa.array(at)).to_pylist())) <= most


def _gather_by_dictionary(arr: pa.Array, src: np.ndarray, width: int) -> np.ndarray:
    """The concatenated bytes of ``arr[src]`` (no nulls), through its dictionary."""
    encoded = arr.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)[src]
    d_off, d_data = _buffers(encoded.dictionary)
    d_len = np.diff(d_off)
    n_words = max(1, -(-width // 8))
    cols = _word_columns(_padded(d_data, n_words), d_off[:-1], d_len, n_words)
    table = cols.T.copy().view(np.uint8)[:, :width]
    if (d_len == width).all():
        return np.ascontiguousarray(table[codes]).reshape(-1)
    return table[codes][np.arange(width) < d_len[codes][:, None]]


def _fixed(offsets: np.ndarray, width: int) -> bool:
    """True when every string of the buffer is ``width`` bytes long."""
    return bool(
        len(offsets) > 1
        and offsets[-1] - offsets[0] == width * (len(offsets) - 1)
        and (np.diff(offsets) == width).all()
    )


def pc_null_where(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    """``arr`` with nulls where ``mask`` is set."""
    import pyarrow.compute as pc

    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def is_unique_text(values: pd.Series) -> bool:
    """True when no two present values are equal."""
    (codes,) = factorize_text(values)
    return codes_unique(codes)


def codes_unique(codes: np.ndarray) -> bool:
    """True when no non-negative code repeats."""
    present = np.sort(codes[codes >= 0])
    return bool(len(present) < 2 or (present[1:] != present[:-1]).all())
