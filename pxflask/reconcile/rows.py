"""Side-by-side rows: both sides' columns gathered at the match positions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pxflask.reconcile._text import (
    STR_DTYPE,
    arrow_data,
    str_array,
    take_text,
    text_array,
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
from pxflask.reconcile.origin import frame_origin

__all__ = [
    "INVOICE_COLUMNS",
    "PAYMENT_COLUMNS",
    "coalesce_text",
    "invoice_frame",
    "invoice_rows",
    "payment_frame",
    "payment_rows",
]

INVOICE_COLUMNS = (
    "invoice_number",
    "perfex_id",
    "xero_invoice_id",
    "matched_by",
    "origin",
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
    "origin",
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


def coalesce_text(
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
    frame = invoice_frame(
        perfex, xero, m.perfex_pos, m.xero_pos, m.method, m.extra, links
    )
    frame["discrepancy"] = ""
    return frame


def invoice_frame(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    p_pos: np.ndarray,
    x_pos: np.ndarray,
    method: np.ndarray,
    extra: np.ndarray,
    links: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Assemble the invoice rows frame from match positions (origin from ``links``)."""
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
    _shared_columns(cols, method, INVOICE_METHODS)
    # an extra Xero copy of a Perfex invoice (duplicate_in_xero) was made from Perfex
    cols["origin"] = _origin(
        cols, "perfex_id", "xero_invoice_id", links, "invoices", extra.astype(bool)
    )
    cols["extra_copy"] = extra
    cols["money_at_stake_cents"] = np.zeros(len(p_pos), np.int64)
    cols["discrepancy"] = _blank(len(p_pos))
    return pd.DataFrame({c: cols[c] for c in INVOICE_COLUMNS})


def _shared_columns(
    cols: dict[str, pd.api.extensions.ExtensionArray],
    method: np.ndarray,
    methods: tuple[str, ...],
) -> None:
    """The number and currency of either side, and how each row was matched."""
    cols["invoice_number"] = coalesce_text(
        cols["perfex_invoice_number"], cols["xero_invoice_number"]
    )
    cols["currency"] = coalesce_text(cols["perfex_currency"], cols["xero_currency"])
    cols["matched_by"] = pd.Categorical.from_codes(
        method.astype(np.int8), categories=list(methods)
    )


def _origin(
    cols: dict[str, pd.api.extensions.ExtensionArray],
    perfex_id: str,
    xero_id: str,
    links: pd.DataFrame | None,
    entity: str,
    marked: np.ndarray | None = None,
) -> pd.Categorical:
    """Where each row's record was made (``origin.frame_origin``)."""
    return frame_origin(
        pd.Series(cols[perfex_id]), pd.Series(cols[xero_id]), links, entity, marked
    )


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
    frame = payment_frame(perfex_invoices, xero_invoices, im, perfex, xero, links)
    frame["discrepancy"] = ""
    return frame


def payment_frame(
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
    _shared_columns(cols, m.method, PAYMENT_METHODS)
    cols["origin"] = _origin(
        cols, "perfex_payment_id", "xero_payment_id", links, "payments"
    )
    n = len(m.perfex_pos)
    cols["money_at_stake_cents"] = np.zeros(n, np.int64)
    cols["counted_on_invoice"] = np.zeros(n, bool)
    cols["discrepancy"] = _blank(n)
    return pd.DataFrame({c: cols[c] for c in PAYMENT_COLUMNS})
