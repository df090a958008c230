"""Side-by-side totals of posted invoices: by month, by currency, by customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pxflask.reconcile._text import (
    STR_DTYPE,
    dense_ids,
    first_positions,
    take_text,
    text_array,
)
from pxflask.reconcile.rows import coalesce_text

__all__ = ["POSTED_PERFEX_STATUSES", "POSTED_XERO_STATUSES", "side_totals"]

# Invoices that count in the side-by-side totals (posted to the ledger).
POSTED_PERFEX_STATUSES = ("unpaid", "paid", "partially_paid", "overdue")
POSTED_XERO_STATUSES = ("AUTHORISED", "PAID")
_US_PER_DAY = 86_400_000_000
_TOTAL_COLUMNS = (
    "perfex_count",
    "perfex_total_cents",
    "xero_count",
    "xero_total_cents",
    "difference_cents",
)


def _ranked(values: pd.Series | pa.Array) -> tuple[np.ndarray, list[str]]:
    """Codes that sort like the text (-1 for missing) and the sorted distinct texts."""
    # for low-cardinality text (currencies, customer keys): Arrow's hash table is
    # fast when the distinct values fit in cache
    arr = text_array(values)
    encoded = arr.dictionary_encode()
    uniq = encoded.dictionary
    order = pc.sort_indices(uniq).to_numpy(zero_copy_only=False)
    rank_of = np.empty(len(uniq) + 1, np.int64)
    rank_of[order] = np.arange(len(order))
    rank_of[-1] = -1
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return rank_of[codes.astype(np.int64)], uniq.take(pa.array(order)).to_pylist()


def _totals(
    keys_p: list[np.ndarray],
    keys_x: list[np.ndarray],
    weights_p: tuple[np.ndarray, np.ndarray],
    weights_x: tuple[np.ndarray, np.ndarray],
) -> tuple[list[np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Keys, outer-joined totals and first Perfex/Xero rows per key tuple, sorted."""
    n_p = len(keys_p[0])
    joined = [np.concatenate([a, b]) for a, b in zip(keys_p, keys_x, strict=True)]
    if len(joined[0]) == 0:
        empty = np.empty(0, np.int64)
        cols = dict.fromkeys(_TOTAL_COLUMNS, empty)
        return [empty for _ in joined], cols, empty, empty
    ids, k = _ordered_ids(joined)
    ids_p, ids_x = ids[:n_p], ids[n_p:]
    sums = {}
    for side, gid, (count, total) in (
        ("perfex", ids_p, weights_p),
        ("xero", ids_x, weights_x),
    ):
        sums[f"{side}_count"] = np.zeros(k, np.int64)
        np.add.at(sums[f"{side}_count"], gid, count)
        sums[f"{side}_total_cents"] = np.zeros(k, np.int64)
        np.add.at(sums[f"{side}_total_cents"], gid, total)
    first_p = first_positions(ids_p, k)
    first_x = first_positions(ids_x, k)
    used = np.flatnonzero((first_p >= 0) | (first_x >= 0))
    cols = {name: values[used] for name, values in sums.items()}
    cols["difference_cents"] = cols["perfex_total_cents"] - cols["xero_total_cents"]
    first_p, first_x = first_p[used], first_x[used]
    rep = np.where(first_p >= 0, first_p, n_p + first_x)
    return [key[rep] for key in joined], cols, first_p, first_x


def _ordered_ids(keys: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Ids ordered like the key tuples (equal tuples share one), and their bound."""
    n = len(keys[0])
    gid = np.zeros(n, np.int64)
    span = 1
    for key in keys:
        lo, hi = int(key.min()), int(key.max())
        if span * (hi - lo + 1) > 4 * n + 4096:
            gid, span = dense_ids(gid)
            if span * (hi - lo + 1) > 4 * n + 4096:
                key, width = dense_ids(key)
                lo, hi = 0, width - 1
        gid = gid * (hi - lo + 1) + (key - lo)
        span *= hi - lo + 1
    return gid, span


def _ones(n: int, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row weights: a count of 1 and the row total."""
    return np.ones(n, np.int64), total


def _at(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``table[idx]``, -1 where ``idx`` is -1."""
    if len(table) == 0:
        return np.full(len(idx), -1, np.int64)
    return np.where(idx >= 0, table[np.maximum(idx, 0)], -1)


def _month(dates: pd.Series) -> np.ndarray:
    """Months since 1970-01 of a date column (via a table of the days spanned)."""
    days = dates.to_numpy(dtype="datetime64[us]").view(np.int64) // _US_PER_DAY
    if len(days) == 0:
        return days
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 4 * len(days) + 4096:
        return days.astype("datetime64[D]").astype("datetime64[M]").view(np.int64)
    span = np.arange(lo, hi + 1).astype("datetime64[D]")
    return span.astype("datetime64[M]").view(np.int64)[days - lo]


def side_totals(
    perfex: pd.DataFrame, xero: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Totals of posted invoices by month, by currency and by customer."""
    rows_p = np.flatnonzero(
        perfex["status"].isin(POSTED_PERFEX_STATUSES).to_numpy(bool)
    )
    rows_x = np.flatnonzero(xero["status"].isin(POSTED_XERO_STATUSES).to_numpy(bool))
    cur, cur_names = _ranked(
        pa.chunked_array(
            [text_array(perfex["currency"]), text_array(xero["currency"])],
            pa.large_string(),
        )
    )
    cur_p, cur_x = cur[: len(perfex)][rows_p], cur[len(perfex) :][rows_x]
    names = np.asarray([*cur_names, None], dtype=object)

    def currency(codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return pd.array(names[codes].tolist(), dtype=STR_DTYPE)

    t_p = perfex["total_cents"].to_numpy(np.int64)[rows_p]
    t_x = xero["total_cents"].to_numpy(np.int64)[rows_x]
    w_p, w_x = _ones(len(t_p), t_p), _ones(len(t_x), t_x)

    (months, cur_m), cols, _, _ = _totals(
        [_month(perfex["date"])[rows_p], cur_p],
        [_month(xero["date"])[rows_x], cur_x],
        w_p,
        w_x,
    )
    label = np.datetime_as_string(months.astype("datetime64[M]"), unit="M")
    by_month = pd.DataFrame(
        {
            "month": pd.array(label.tolist(), dtype=STR_DTYPE),
            "currency": currency(cur_m),
            **cols,
        }
    )
    (cur_c,), cols, _, _ = _totals([cur_p], [cur_x], w_p, w_x)
    by_currency = pd.DataFrame({"currency": currency(cur_c), **cols})
    by_customer = _by_customer(perfex, xero, rows_p, rows_x, cur_p, cur_x, names)
    return by_month, by_currency, by_customer


def _by_customer(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    rows_p: np.ndarray,
    rows_x: np.ndarray,
    cur_p: np.ndarray,
    cur_x: np.ndarray,
    names: np.ndarray,
) -> pd.DataFrame:
    """Posted totals per customer key and currency, both sides."""
    t_p = perfex["total_cents"].to_numpy(np.int64)[rows_p]
    t_x = xero["total_cents"].to_numpy(np.int64)[rows_x]
    # Perfex: group rows by (customer id, currency) first, then name the keys
    cust = perfex["customer_id"].to_numpy(np.int64)[rows_p]
    (g_cust, g_cur_p), cols_p, first_p, _ = _totals(
        [cust, cur_p], [cust[:0], cur_p[:0]], _ones(len(t_p), t_p), _ones(0, t_p[:0])
    )
    xkey = text_array(xero["contact_number"])
    if xkey.null_count:
        missing = xkey.is_null()
        ids = pc.filter(text_array(xero["contact_id"]), missing)
        fallback = pc.coalesce(
            pc.binary_join_element_wise(
                pa.scalar("xero:", pa.large_string()),
                ids,
                pa.scalar("", pa.large_string()),
            ),
            pa.scalar("xero:?", pa.large_string()),
        )
        xkey = pc.replace_with_mask(xkey, missing, fallback)
    code_x, _ = _ranked(xkey)
    code_x = code_x[rows_x]
    (_, g_cur_x), cols_x, _, first_x = _totals(
        [code_x[:0], cur_x[:0]],
        [code_x, cur_x],
        _ones(0, t_x[:0]),
        _ones(len(t_x), t_x),
    )
    first_x = rows_x[first_x]
    key_p = pc.cast(pa.array(g_cust, pa.int64()), pa.large_string())
    key_x = xkey.take(pa.array(first_x))
    key_rank, key_names = _ranked(pa.chunked_array([key_p, key_x], pa.large_string()))
    n_gp = len(g_cust)
    (key_c, cur_c), cols, fp, fx = _totals(
        [key_rank[:n_gp], g_cur_p],
        [key_rank[n_gp:], g_cur_x],
        (cols_p["perfex_count"], cols_p["perfex_total_cents"]),
        (cols_x["xero_count"], cols_x["xero_total_cents"]),
    )
    p_pos = _at(rows_p, _at(first_p, fp))
    x_pos = _at(first_x, fx)
    name_p = take_text(perfex["customer_name"], p_pos)
    name_x = take_text(xero["contact_name"], x_pos)
    return pd.DataFrame(
        {
            "customer_key": pd.array(
                np.asarray(key_names, dtype=object)[key_c].tolist(), dtype=STR_DTYPE
            ),
            "customer_name": coalesce_text(name_p, name_x),
            "currency": pd.array(names[cur_c].tolist(), dtype=STR_DTYPE),
            **cols,
        }
    )
