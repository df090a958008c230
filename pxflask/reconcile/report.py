"""The reconciliation report: side-by-side rows, checks, summary and totals.

All money in the report frames is integer cents in ``*_cents`` columns (nullable
``Int64`` where a side may be absent); ``export`` writes it as 2-dp decimals.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pxflask.reconcile._text import (
    STR_DTYPE,
    arrow_data,
    codes_unique,
    dense_ids,
    first_positions,
    str_array,
    take_text,
    text_array,
)
from pxflask.reconcile.checks import (
    INVOICE_CATEGORIES,
    PAYMENT_CATEGORIES,
    CheckResult,
    check_invoices,
    check_payments,
    describe,
)
from pxflask.reconcile.frames import (
    LINKS,
    PERFEX_INVOICES,
    PERFEX_PAYMENTS,
    XERO_INVOICES,
    XERO_PAYMENTS,
    FrameError,
    FrameSchema,
    empty_frame,
    validate_frame,
)
from pxflask.reconcile.match import (
    INVOICE_METHODS,
    PAYMENT_METHODS,
    InvoiceMatch,
    XeroIds,
    match_invoices,
    match_payments,
    payment_invoice_keys,
    xero_ids,
)
from pxflask.reconcile.stake import (
    category_rows,
    counted_on_invoice,
    summary_frame,
    total_rows,
)

__all__ = [
    "INVOICE_CATEGORIES",
    "INVOICE_COLUMNS",
    "PAYMENT_CATEGORIES",
    "PAYMENT_COLUMNS",
    "POSTED_PERFEX_STATUSES",
    "POSTED_XERO_STATUSES",
    "ReconciliationReport",
    "invoice_rows",
    "payment_rows",
    "reconcile",
    "tolerance_cents",
]

INVOICE_COLUMNS = (
    "invoice_number",
    "perfex_id",
    "xero_invoice_id",
    "matched_by",
    "extra_copy",
    "perfex_invoice_number",
    "xero_invoice_number",
    "customer_id",
    "customer_name",
    "contact_name",
    "perfex_date",
    "xero_date",
    "perfex_status",
    "xero_status",
    "currency",
    "perfex_currency",
    "xero_currency",
    "perfex_subtotal_cents",
    "xero_subtotal_cents",
    "perfex_tax_cents",
    "xero_tax_cents",
    "perfex_total_cents",
    "xero_total_cents",
    "perfex_paid_cents",
    "xero_paid_cents",
    "perfex_credit_cents",
    "money_at_stake_cents",
    "discrepancy",
)
PAYMENT_COLUMNS = (
    "perfex_payment_id",
    "xero_payment_id",
    "invoice_number",
    "perfex_invoice_id",
    "xero_invoice_id",
    "matched_by",
    "perfex_date",
    "xero_date",
    "xero_status",
    "mode",
    "currency",
    "perfex_amount_cents",
    "xero_amount_cents",
    "money_at_stake_cents",
    "counted_on_invoice",
    "discrepancy",
)
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


@dataclass(frozen=True)
class ReconciliationReport:
    """Result of ``reconcile``; every frame's money is in integer cents."""

    invoices: pd.DataFrame  # INVOICE_COLUMNS, one row per invoice on either side
    payments: pd.DataFrame  # PAYMENT_COLUMNS, one row per payment on either side
    summary: pd.DataFrame  # stake.SUMMARY_COLUMNS: per currency, then the totals
    summary_by_currency: pd.DataFrame  # the category rows with a count, no totals
    by_month: pd.DataFrame  # month, currency + _TOTAL_COLUMNS
    by_currency: pd.DataFrame  # currency + _TOTAL_COLUMNS
    by_customer: pd.DataFrame  # customer_key, customer_name, currency + totals
    tolerance: Decimal
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    expenses: pd.DataFrame | None = None  # reconcile.expenses rows, when enabled
    credits_synced: bool = True  # False: Perfex credits are not expected in Xero

    @property
    def has_discrepancies(self) -> bool:
        """True when any category has at least one row."""
        return bool(self.summary["count"].sum() > 0)

    def discrepancies(self, scope: str = "invoices") -> pd.DataFrame:
        """The rows of ``scope`` ('invoices', 'payments', 'expenses') with one."""
        frame = self.invoices if scope == "invoices" else self.payments
        if scope == "expenses":
            frame = self.expenses if self.expenses is not None else frame[:0]
        return frame[frame["discrepancy"] != ""]


def tolerance_cents(tolerance: Decimal | str | int | float) -> int:
    """Whole cents a difference may reach and still agree (``|diff| > tol`` differs)."""
    value = Decimal(str(tolerance)) if isinstance(tolerance, float) else tolerance
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise ValueError(f"tolerance must be a non-negative amount, not {tolerance!r}")
    return int((value * 100).to_integral_value(rounding=ROUND_FLOOR))


def _take(col: pd.Series, pos: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Gather ``col`` at ``pos``; -1 gives a missing value (ints become Int64)."""
    missing = pos < 0
    if col.dtype == np.int64 or col.dtype == np.bool_:
        values = col.to_numpy()
        if len(values) == 0:
            values = np.zeros(1, values.dtype)
        taken = values[np.where(missing, 0, pos)]
        if col.dtype == np.bool_:
            return pd.arrays.BooleanArray(taken, missing)
        return pd.arrays.IntegerArray(taken, missing)
    if col.dtype == STR_DTYPE:
        n = len(col)
        if n and len(pos) >= n and pos[n - 1] == n - 1 and _is_identity(pos[:n]):
            head = text_array(col)
            tail = text_array(take_text(col, pos[n:]))
            return str_array(pa.chunked_array([head, tail], pa.large_string()))
        return take_text(col, pos)
    if col.dtype.kind == "M":
        values = col.to_numpy()
        if len(values) == 0:
            values = np.zeros(1, values.dtype)
        taken = values[np.where(missing, 0, pos)]
        taken[missing] = np.datetime64("NaT")
        return taken
    return col.array.take(pos, allow_fill=True)


def _is_identity(pos: np.ndarray) -> bool:
    """True when ``pos`` is 0, 1, 2, ..."""
    return bool((pos == np.arange(len(pos))).all())


def _side_by_side(
    left: pd.DataFrame,
    right: pd.DataFrame,
    left_pos: np.ndarray,
    right_pos: np.ndarray,
    left_cols: dict[str, str],
    right_cols: dict[str, str],
) -> dict[str, pd.api.extensions.ExtensionArray]:
    """Gathered columns of both sides, renamed."""
    out = {new: _take(left[old], left_pos) for old, new in left_cols.items()}
    out.update({new: _take(right[old], right_pos) for old, new in right_cols.items()})
    return out


def _coalesce_text(
    first: pd.api.extensions.ExtensionArray, second: pd.api.extensions.ExtensionArray
) -> pd.api.extensions.ExtensionArray:
    """Text ``first`` where present, else ``second``."""
    a = _chunked(first)
    if a.null_count == 0:
        return first
    missing = a.is_null()
    lead = len(a) - a.null_count
    if lead == 0 or not pc.any(missing.slice(0, lead)).as_py():
        # present values first, then a block of missing ones (one-sided rows)
        head = a.slice(0, lead).chunks
        tail = _chunked(second).slice(lead).chunks
        return str_array(pa.chunked_array(head + tail, pa.large_string()))
    return str_array(pc.coalesce(text_array(first), text_array(second)))


def _chunked(values: pd.api.extensions.ExtensionArray) -> pa.ChunkedArray:
    """The Arrow data of a text array, chunked, without copying."""
    data = arrow_data(values)
    if data is None:
        data = pa.chunked_array([text_array(values)])
    elif isinstance(data, pa.Array):
        data = pa.chunked_array([data])
    if not pa.types.is_large_string(data.type):
        data = data.cast(pa.large_string())
    return data


def invoice_rows(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: pd.DataFrame | None
) -> pd.DataFrame:
    """Match invoices and return the side-by-side rows (without checks)."""
    m = match_invoices(perfex, xero, links)
    frame = _invoice_frame(perfex, xero, m.perfex_pos, m.xero_pos, m.method, m.extra)
    frame["discrepancy"] = ""
    return frame


def _invoice_frame(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    p_pos: np.ndarray,
    x_pos: np.ndarray,
    method: np.ndarray,
    extra: np.ndarray,
) -> pd.DataFrame:
    """Assemble the invoice rows frame from match positions."""
    money = ("subtotal", "tax", "total", "paid")
    cols = _side_by_side(
        perfex,
        xero,
        p_pos,
        x_pos,
        {
            "perfex_id": "perfex_id",
            "invoice_number": "perfex_invoice_number",
            "customer_id": "customer_id",
            "customer_name": "customer_name",
            "date": "perfex_date",
            "status": "perfex_status",
            "currency": "perfex_currency",
            **{f"{m}_cents": f"perfex_{m}_cents" for m in money},
            "credit_cents": "perfex_credit_cents",
        },
        {
            "xero_invoice_id": "xero_invoice_id",
            "invoice_number": "xero_invoice_number",
            "contact_name": "contact_name",
            "date": "xero_date",
            "status": "xero_status",
            "currency": "xero_currency",
            **{f"{m}_cents": f"xero_{m}_cents" for m in money},
        },
    )
    cols["invoice_number"] = _coalesce_text(
        cols["perfex_invoice_number"], cols["xero_invoice_number"]
    )
    cols["currency"] = _coalesce_text(cols["perfex_currency"], cols["xero_currency"])
    cols["matched_by"] = pd.Categorical.from_codes(
        method.astype(np.int8), categories=list(INVOICE_METHODS)
    )
    cols["extra_copy"] = extra
    cols["money_at_stake_cents"] = np.zeros(len(p_pos), np.int64)
    cols["discrepancy"] = _blank(len(p_pos))
    return pd.DataFrame({c: cols[c] for c in INVOICE_COLUMNS})


def _blank(n: int) -> pd.Categorical:
    """An all-'' discrepancy column."""
    return pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[""])


def payment_rows(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: pd.DataFrame | None,
) -> pd.DataFrame:
    """Match payments and return the side-by-side rows (without checks)."""
    im = match_invoices(perfex_invoices, xero_invoices, links)
    frame = _payment_frame(perfex_invoices, xero_invoices, im, perfex, xero, links)
    frame["discrepancy"] = ""
    return frame


def _payment_frame(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    invoice_match: InvoiceMatch,
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: pd.DataFrame | None,
    ids: XeroIds | None = None,
) -> pd.DataFrame:
    """Match payments against an invoice match and assemble their rows."""
    if ids is None:
        ids = xero_ids(xero_invoices, xero, links)
    key_p, key_x = payment_invoice_keys(
        perfex_invoices, xero_invoices, invoice_match, perfex, xero, ids
    )
    m = match_payments(perfex, xero, key_p, key_x, links, ids)
    cols = _side_by_side(
        perfex,
        xero,
        m.perfex_pos,
        m.xero_pos,
        {
            "perfex_payment_id": "perfex_payment_id",
            "perfex_invoice_id": "perfex_invoice_id",
            "invoice_number": "perfex_invoice_number",
            "date": "perfex_date",
            "mode": "mode",
            "currency": "perfex_currency",
            "amount_cents": "perfex_amount_cents",
        },
        {
            "xero_payment_id": "xero_payment_id",
            "xero_invoice_id": "xero_invoice_id",
            "invoice_number": "xero_invoice_number",
            "date": "xero_date",
            "status": "xero_status",
            "currency": "xero_currency",
            "amount_cents": "xero_amount_cents",
        },
    )
    cols["invoice_number"] = _coalesce_text(
        cols["perfex_invoice_number"], cols["xero_invoice_number"]
    )
    cols["currency"] = _coalesce_text(cols["perfex_currency"], cols["xero_currency"])
    cols["matched_by"] = pd.Categorical.from_codes(
        m.method.astype(np.int8), categories=list(PAYMENT_METHODS)
    )
    n = len(m.perfex_pos)
    cols["money_at_stake_cents"] = np.zeros(n, np.int64)
    cols["counted_on_invoice"] = np.zeros(n, bool)
    cols["discrepancy"] = _blank(n)
    return pd.DataFrame({c: cols[c] for c in PAYMENT_COLUMNS})


def _in_window(
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> np.ndarray:
    """Rows whose date on either side lies in [date_from, date_to]."""
    keep = np.zeros(len(frame), bool)
    lo = np.datetime64(date_from, "us") if date_from is not None else None
    hi = np.datetime64(date_to, "us") if date_to is not None else None
    for col in columns:
        days = frame[col].to_numpy(dtype="datetime64[us]")
        ok = ~np.isnat(days)
        if lo is not None:
            ok &= days >= lo
        if hi is not None:
            ok &= days <= hi
        keep |= ok
    return keep


def _apply_checks(frame: pd.DataFrame, result: CheckResult) -> pd.DataFrame:
    """Write the discrepancy and money-at-stake columns of the checked rows."""
    frame["discrepancy"] = describe(result)
    frame["money_at_stake_cents"] = result.row_money()
    return frame


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


def _window(
    frame: pd.DataFrame, date_from: dt.date | None, date_to: dt.date | None
) -> pd.DataFrame:
    """Rows of an input frame dated within the window."""
    if date_from is None and date_to is None:
        return frame
    return frame[_in_window(frame, ("date",), date_from, date_to)]


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


def _side_totals(
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
            "customer_name": _coalesce_text(name_p, name_x),
            "currency": pd.array(names[cur_c].tolist(), dtype=STR_DTYPE),
            **cols,
        }
    )


def _check_key(frame: pd.DataFrame, schema: FrameSchema, codes: np.ndarray) -> None:
    """Raise FrameError when the frame's text key repeats (codes of the key)."""
    if codes_unique(codes):
        return
    key = frame[schema.key]
    dup = key[key.duplicated()].head(5).tolist()
    raise FrameError(f"{schema.name}.{schema.key}: duplicate ids {dup}")


def reconcile(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex_payments: pd.DataFrame | None = None,
    xero_payments: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    tolerance: Decimal | str | int = Decimal(0),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    credits_synced: bool = True,
) -> ReconciliationReport:
    """Compare Perfex against Xero and build the report.

    Matching runs over everything given; the date window then keeps the rows dated
    (on either side) within ``[date_from, date_to]``, and the totals count the
    invoices dated within it.  ``credits_synced=False`` (the credit-notes entity is
    off): credits applied in Perfex are not expected in Xero (``credit_not_synced``).
    """
    tol = tolerance_cents(tolerance)
    with ThreadPoolExecutor(1, "pxflask-totals") as pool:
        return _reconcile(
            pool,
            perfex_invoices,
            xero_invoices,
            perfex_payments,
            xero_payments,
            links,
            tolerance,
            tol,
            date_from,
            date_to,
            credits_synced,
        )


def _reconcile(
    pool: ThreadPoolExecutor,
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex_payments: pd.DataFrame | None,
    xero_payments: pd.DataFrame | None,
    links: pd.DataFrame | None,
    tolerance: Decimal | str | int,
    tol: int,
    date_from: dt.date | None,
    date_to: dt.date | None,
    credits_synced: bool = True,
) -> ReconciliationReport:
    """The body of ``reconcile``; totals and payment rows are made on ``pool``."""
    p_inv = validate_frame(perfex_invoices, PERFEX_INVOICES)
    x_inv = validate_frame(xero_invoices, XERO_INVOICES, check_key=False)
    p_pay = validate_frame(
        empty_frame(PERFEX_PAYMENTS) if perfex_payments is None else perfex_payments,
        PERFEX_PAYMENTS,
    )
    x_pay = validate_frame(
        empty_frame(XERO_PAYMENTS) if xero_payments is None else xero_payments,
        XERO_PAYMENTS,
        check_key=False,
    )
    lk = None if links is None else validate_frame(links, LINKS)
    # numpy and Arrow release the GIL in their kernels: the totals overlap the match
    totals = pool.submit(
        _side_totals,
        _window(p_inv, date_from, date_to),
        _window(x_inv, date_from, date_to),
    )
    ids = xero_ids(x_inv, x_pay, lk)
    _check_key(x_inv, XERO_INVOICES, ids.invoice)
    _check_key(x_pay, XERO_PAYMENTS, ids.payment)

    im = match_invoices(p_inv, x_inv, lk, ids)
    # the payment rows are matched and gathered on the pool (after the totals)
    # while this thread gathers the invoice rows
    payment_rows = pool.submit(_payment_frame, p_inv, x_inv, im, p_pay, x_pay, lk, ids)
    invoices = _invoice_frame(
        p_inv, x_inv, im.perfex_pos, im.xero_pos, im.method, im.extra
    )
    payments = payment_rows.result()

    if date_from is not None or date_to is not None:
        window = ("perfex_date", "xero_date")
        invoices = invoices[_in_window(invoices, window, date_from, date_to)]
        payments = payments[_in_window(payments, window, date_from, date_to)]
        invoices = invoices.reset_index(drop=True)
        payments = payments.reset_index(drop=True)

    inv_result = check_invoices(invoices, tol, credits_synced)
    pay_result = check_payments(payments, tol)
    invoices = _apply_checks(invoices, inv_result)
    payments = _apply_checks(payments, pay_result)
    payments["counted_on_invoice"] = counted_on_invoice(invoices, inv_result, payments)

    rows = category_rows("invoices", invoices, inv_result)
    rows += category_rows("payments", payments, pay_result)
    summary_by_currency = summary_frame([r for r in rows if r[3]])
    summary = summary_frame(rows + total_rows([invoices, payments]))

    by_month, by_currency, by_customer = totals.result()
    return ReconciliationReport(
        invoices=invoices,
        payments=payments,
        summary=summary,
        summary_by_currency=summary_by_currency,
        by_month=by_month,
        by_currency=by_currency,
        by_customer=by_customer,
        tolerance=Decimal(str(tolerance))
        if not isinstance(tolerance, Decimal)
        else tolerance,
        date_from=date_from,
        date_to=date_to,
        credits_synced=credits_synced,
    )
