"""Money at stake: per currency only, the real gap, each amount counted once.

A flagged row's ``money_at_stake_cents`` is its gap in the row's currency (see
``checks``: the absolute difference of the compared amounts; a whole document when
one side lacks it or does not post it; the credit of ``credit_not_synced``), the
largest of its categories', so a row never counts an amount twice.

A payment row whose invoice row is flagged with a category that already carries
the payment's gap (``COVERING``: the paid amounts differ, or the whole invoice is at
stake) has ``counted_on_invoice`` set: its own gap is shown but not added again to
the totals (a payment deleted in Xero is counted on its invoice, not twice).

The summary has one row per scope, category and currency (a category without rows:
one row, no currency, count 0), then the totals: scope ``all``, category
``money_at_stake``, one row per currency: the flagged rows counted and their gaps
added, invoices, payments not counted on their invoice, expenses, and credit notes
not counted on their invoice (``credit_notes``: a credit allocation missing on one
side is also its invoice's paid gap).  Amounts of different currencies are never
added together.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pxflask.reconcile._text import STR_DTYPE, text_array
from pxflask.reconcile.checks import CheckResult

__all__ = [
    "COVERING",
    "CREDITS_OFF",
    "DEFINITION",
    "SUMMARY_COLUMNS",
    "TOTAL_CATEGORY",
    "TOTAL_SCOPE",
    "category_rows",
    "category_totals",
    "counted_on_invoice",
    "flagged_mask",
    "stake_by_currency",
    "summary_frame",
    "total_rows",
]

DEFINITION = (
    "Money at stake is per currency, never added across currencies, and counts each "
    "amount once. A flagged invoice counts its real gap: the largest absolute "
    "difference of the compared amounts (subtotal, tax, total, paid), the whole "
    "total when one side lacks the invoice or does not post it, the credit when a "
    "Perfex credit is not synced. A flagged payment counts its amount (or the "
    "difference) only when its invoice's row does not already carry it "
    "(counted_on_invoice). A flagged credit note counts its own gap; a credit "
    "allocation gap that its invoice's row already carries is not added again."
)
CREDITS_OFF = (
    "Credits applied in Perfex are not synced: the credit-notes entity is off. "
    "Invoices settled with a credit are compared without it and shown as "
    "credit_not_synced (the credit is the gap); enable the credit-notes entity in "
    "Settings to send them to Xero."
)
SUMMARY_COLUMNS = ("scope", "category", "currency", "count", "money_at_stake_cents")
TOTAL_SCOPE = "all"
TOTAL_CATEGORY = "money_at_stake"
COVERING = (
    "paid_differs",
    "missing_in_xero",
    "only_in_xero",
    "duplicate_in_xero",
    "currency_differs",
    "status_differs",
)


class _Currencies:
    """Currency codes of some of a frame's rows (the flagged ones), encoded once."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray) -> None:
        """Encode the currencies of the ``rows`` (a mask) only."""
        self.names: list[str] = []
        self.codes = np.full(len(frame), -1, np.int64)
        if not rows.any():
            return
        picked = text_array(frame["currency"]).filter(pa.array(rows))
        encoded = picked.fill_null("").dictionary_encode()
        uniq = encoded.dictionary
        order = pc.sort_indices(uniq).to_numpy(zero_copy_only=False)
        rank_of = np.empty(len(uniq), np.int64)
        rank_of[order] = np.arange(len(order))
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        self.codes[rows] = rank_of[codes]
        self.names = uniq.take(pa.array(order)).to_pylist()

    def totals(self, mask: np.ndarray, money: np.ndarray) -> list[tuple[str, int, int]]:
        """(currency, count, cents) of the masked rows (within the encoded ones)."""
        if not mask.any():
            return []
        k = len(self.names)
        codes = self.codes[mask]
        counts = np.bincount(codes, minlength=k)
        sums = np.zeros(k, np.int64)
        np.add.at(sums, codes, money[mask])
        found = np.flatnonzero(counts)
        return [(self.names[i], int(counts[i]), int(sums[i])) for i in found]


def category_rows(
    scope: str, frame: pd.DataFrame, result: CheckResult
) -> list[tuple[object, ...]]:
    """Summary rows of one scope: per category and currency (zero row when none)."""
    rows: list[tuple[object, ...]] = []
    currencies = _Currencies(frame, result.bits != 0)
    for name in result.categories:
        found = currencies.totals(result.flagged(name), result.money[name])
        rows.extend((scope, name, c, n, cents) for c, n, cents in found)
        if not found:
            rows.append((scope, name, "", 0, 0))
    return rows


def counted_on_invoice(
    invoices: pd.DataFrame, result: CheckResult, payments: pd.DataFrame
) -> np.ndarray:
    """Payment rows whose gap their invoice's flagged row already carries."""
    cover = np.zeros(len(invoices), bool)
    for name in COVERING:
        cover |= result.flagged(name)
    out = np.zeros(len(payments), bool)
    rows = np.flatnonzero(flagged_mask(payments))
    if not cover.any() or not len(rows):
        return out
    p_ids = invoices["perfex_id"].to_numpy(np.int64, na_value=-1)[cover]
    mine = payments["perfex_invoice_id"].to_numpy(np.int64, na_value=-1)[rows]
    hit = _among(mine, p_ids[p_ids >= 0])
    rest = np.flatnonzero(~hit)
    if len(rest):
        x_ids = text_array(invoices["xero_invoice_id"]).filter(pa.array(cover))
        theirs = text_array(payments["xero_invoice_id"]).take(pa.array(rows[rest]))
        found = pc.is_in(theirs, value_set=x_ids.drop_null()).fill_null(False)
        hit[rest] = found.to_numpy(zero_copy_only=False)
    out[rows] = hit
    return out


def _among(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.isin(values, ids)`` for ids >= 0 (-1: never), by table when dense."""
    if not len(ids) or not len(values):
        return np.zeros(len(values), bool)
    top = int(max(values.max(), ids.max()))
    if top > 4 * (len(values) + len(ids)) + 4096:
        return np.isin(values, ids)
    table = np.zeros(top + 2, bool)  # the last slot answers -1
    table[ids] = True
    return table[values]


def flagged_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows with a discrepancy (read from the categorical codes when it is one)."""
    col = frame["discrepancy"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        named = np.asarray(col.cat.categories.astype("str")) != ""
        codes = col.cat.codes.to_numpy()
        return np.append(named, False)[codes]  # code -1 (missing): clean
    return (col.astype("str") != "").to_numpy(bool)


def _counted(frame: pd.DataFrame) -> np.ndarray:
    """Flagged rows that add to the totals (payments: not counted on the invoice)."""
    keep = flagged_mask(frame)
    if "counted_on_invoice" in frame:
        keep = keep & ~frame["counted_on_invoice"].to_numpy(bool, na_value=False)
    return keep


def total_rows(frames: Iterable[pd.DataFrame | None]) -> list[tuple[object, ...]]:
    """The totals per currency of the flagged rows, each amount once."""
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    for frame in frames:
        if frame is None or not len(frame):
            continue
        money = frame["money_at_stake_cents"].to_numpy(np.int64, na_value=0)
        counted = _counted(frame)
        for c, n, cents in _Currencies(frame, counted).totals(counted, money):
            counts[c] = counts.get(c, 0) + n
            sums[c] = sums.get(c, 0) + cents
    if not counts:
        return [(TOTAL_SCOPE, TOTAL_CATEGORY, "", 0, 0)]
    return [
        (TOTAL_SCOPE, TOTAL_CATEGORY, c, counts[c], sums[c]) for c in sorted(counts)
    ]


def summary_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """The summary frame (``SUMMARY_COLUMNS``) from its rows."""
    if not rows:
        return pd.DataFrame({c: [] for c in SUMMARY_COLUMNS})
    scope, category, currency, count, money = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "scope": pd.array(scope, dtype=STR_DTYPE),
            "category": pd.array(category, dtype=STR_DTYPE),
            "currency": pd.array(currency, dtype=STR_DTYPE),
            "count": np.asarray(count, np.int64),
            "money_at_stake_cents": np.asarray(money, np.int64),
        }
    )


def _categories(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary's category rows (not the totals)."""
    return summary[summary["scope"].astype("str") != TOTAL_SCOPE]


def category_totals(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per scope and category: its count over all currencies (no money)."""
    rows = _categories(summary)
    grouped = rows.groupby(["scope", "category"], sort=False, as_index=False)
    return grouped["count"].sum()


def stake_by_currency(summary: pd.DataFrame) -> list[tuple[str, int]]:
    """(currency, cents) of the money at stake, each amount once."""
    rows = summary[
        (summary["scope"].astype("str") == TOTAL_SCOPE) & (summary["count"] > 0)
    ]
    return [
        (str(r.currency), int(r.money_at_stake_cents))
        for r in rows.itertuples(index=False)
    ]
