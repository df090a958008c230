"""Discrepancy checks over side-by-side rows, vectorised; one bit per category.

Rules (``tolerance`` is in cents: an amount differs when ``|perfex - xero| >
tolerance``, so tolerance 0 means exact and the default 1 cent lets a 1-cent rounding
difference pass):

Invoices
- ``missing_in_xero``: a Perfex invoice with no Xero invoice, unless it is a draft or
  cancelled (neither is expected in Xero).
- ``only_in_xero``: a Xero invoice with no Perfex invoice, unless it is VOIDED or
  DELETED (no effect on the ledger).
- ``duplicate_in_xero``: a further live (not VOIDED/DELETED) Xero invoice with the
  number, or the customer + date + total, of an already matched Perfex invoice.  The
  extra row carries the flag; its Perfex invoice's own row is compared normally.  A
  VOIDED/DELETED extra copy is clean.
- ``status_differs``: the Xero status is not one that the Perfex status allows:
  unpaid / overdue / partially_paid -> AUTHORISED; paid -> PAID; cancelled -> VOIDED,
  DELETED, DRAFT or SUBMITTED (never AUTHORISED/PAID); draft -> DRAFT or DELETED
  (a Perfex draft synced with ``drafts=draft``; with ``drafts=skip`` it is simply
  absent, which is clean).
- ``currency_differs``, ``total_differs``, ``subtotal_differs``, ``tax_differs``,
  ``paid_differs``: compared on matched pairs, except "dead" pairs (Perfex draft or
  cancelled against Xero VOIDED/DELETED), whose amounts no longer matter.
- ``credit_not_synced``: credits applied in Perfex (``tblcredits``) while the
  credit-notes entity is off (``credits_synced=False``): Xero cannot know them, so
  the Perfex paid amount is compared without them (and the Xero status expected
  from what is left) instead of flagging ``paid_differs``/``status_differs``.  The
  row is flagged when Xero's paid amount does not already include the credit.

Payments
- ``missing_in_xero``: a Perfex payment with no Xero payment, or with a DELETED one.
- ``only_in_xero``: a Xero payment (not DELETED) with no Perfex payment.
- ``amount_differs`` and ``date_differs``: on matched pairs.

Money at stake per category (the real gap, in the row's currency):
- invoices: the Perfex total (missing, currency), the Xero total (only, duplicate),
  the absolute difference (subtotal, tax, total, paid), the credit
  (``credit_not_synced``); ``status_differs``: the total of the side that posts the
  invoice when the other does not (e.g. Perfex cancelled, Xero AUTHORISED), else the
  paid difference;
- payments: the payment amount (missing, only in Xero, date), the absolute
  difference (``amount_differs``).
A row's money at stake is the largest of its categories' (``row_money``), so an
amount is never added twice within a row; ``stake`` adds rows per currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pxflask.reconcile._text import text_array

__all__ = [
    "INVOICE_CATEGORIES",
    "PAYMENT_CATEGORIES",
    "CheckResult",
    "allowed_status_pairs",
    "check_invoices",
    "check_payments",
    "describe",
]

INVOICE_CATEGORIES = (
    "missing_in_xero",
    "only_in_xero",
    "total_differs",
    "subtotal_differs",
    "tax_differs",
    "currency_differs",
    "status_differs",
    "paid_differs",
    "duplicate_in_xero",
    "credit_not_synced",
)
PAYMENT_CATEGORIES = (
    "missing_in_xero",
    "only_in_xero",
    "amount_differs",
    "date_differs",
)

_PERFEX_ORDER = ("unpaid", "paid", "partially_paid", "overdue", "cancelled", "draft")
_XERO_ORDER = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
_ALLOWED = {
    "unpaid": {"AUTHORISED"},
    "overdue": {"AUTHORISED"},
    "partially_paid": {"AUTHORISED"},
    "paid": {"PAID"},
    "cancelled": {"VOIDED", "DELETED", "DRAFT", "SUBMITTED"},
    "draft": {"DRAFT", "DELETED"},
}
_POSTED_PERFEX = 4  # _PERFEX_ORDER[:4] are posted to the ledger
_POSTED_XERO = (_XERO_ORDER.index("AUTHORISED"), _XERO_ORDER.index("PAID"))
_STATUS_OK = np.array(
    [[x in _ALLOWED[p] for x in _XERO_ORDER] for p in _PERFEX_ORDER], dtype=bool
)


@dataclass(frozen=True)
class CheckResult:
    """Category bits per row and the money at stake per category (cents)."""

    categories: tuple[str, ...]
    bits: np.ndarray  # uint16, bit i set when categories[i] applies
    money: dict[str, np.ndarray]  # int64 cents per row, meaningful where flagged

    def flagged(self, category: str) -> np.ndarray:
        """Boolean mask of rows carrying ``category``."""
        return (self.bits & (1 << self.categories.index(category))) != 0

    def row_money(self) -> np.ndarray:
        """The largest money at stake among each row's categories (cents)."""
        out = np.zeros(len(self.bits), np.int64)
        at = np.flatnonzero(self.bits)  # only flagged rows carry money
        bits = self.bits[at]
        best = np.zeros(len(at), np.int64)
        for i, name in enumerate(self.categories):
            flag = (bits & (1 << i)) != 0
            np.maximum(best, np.where(flag, self.money[name][at], 0), out=best)
        out[at] = best
        return out


def allowed_status_pairs() -> dict[str, frozenset[str]]:
    """The Xero statuses each Perfex status accepts."""
    return {p: frozenset(x) for p, x in _ALLOWED.items()}


def _cents(col: pd.Series) -> np.ndarray:
    """Nullable cents as int64 with 0 for missing."""
    return col.to_numpy(dtype=np.int64, na_value=0)


def _status_codes(col: pd.Series, order: tuple[str, ...]) -> np.ndarray:
    """Position of each status in ``order`` (-1 when missing or unknown)."""
    at = pc.index_in(text_array(col), value_set=pa.array(order, pa.large_string()))
    return at.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _same_text_upper(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Case-insensitive equality; two missing values are equal, one is not."""
    a, b = text_array(left), text_array(right)
    eq = pc.equal(pc.utf8_upper(a), pc.utf8_upper(b)).fill_null(False)
    out = eq.to_numpy(zero_copy_only=False)
    if a.null_count or b.null_count:
        both = pc.and_(a.is_null(), b.is_null()).to_numpy(zero_copy_only=False)
        out = out | both
    return out


def folded(
    categories: tuple[str, ...],
    masks: dict[str, np.ndarray],
    money: dict[str, np.ndarray],
) -> CheckResult:
    """The CheckResult of one boolean mask and one money array per category."""
    return CheckResult(categories, _bits(categories, masks), money)


def _bits(categories: tuple[str, ...], masks: dict[str, np.ndarray]) -> np.ndarray:
    """Fold boolean masks into category bits."""
    n = len(next(iter(masks.values())))
    bits = np.zeros(n, np.uint16)
    for i, name in enumerate(categories):
        bits[masks[name]] |= np.uint16(1 << i)
    return bits


def check_invoices(
    rows: pd.DataFrame, tolerance_cents: int = 1, credits_synced: bool = True
) -> CheckResult:
    """Flag invoice rows (the side-by-side frame of ``report.invoice_rows``).

    ``credits_synced=False``: credits applied in Perfex (``perfex_credit_cents``)
    are not expected in Xero (see ``credit_not_synced``).
    """
    has_p = rows["perfex_id"].notna().to_numpy()
    has_x = rows["xero_invoice_id"].notna().to_numpy()
    extra = rows["extra_copy"].to_numpy(bool)
    p_status = _status_codes(rows["perfex_status"], _PERFEX_ORDER)
    x_status = _status_codes(rows["xero_status"], _XERO_ORDER)
    x_dead = x_status >= _XERO_ORDER.index("VOIDED")
    p_inactive = p_status >= _PERFEX_ORDER.index("cancelled")
    pair = has_p & has_x & ~extra
    status_ok = _STATUS_OK[np.maximum(p_status, 0), np.maximum(x_status, 0)]
    live_pair = pair & ~(x_dead & p_inactive)
    p_total = _cents(rows["perfex_total_cents"])
    x_total = _cents(rows["xero_total_cents"])

    money = {}
    masks = {}
    for name in ("subtotal", "tax", "total"):
        diff = np.abs(
            _cents(rows[f"perfex_{name}_cents"]) - _cents(rows[f"xero_{name}_cents"])
        )
        masks[f"{name}_differs"] = live_pair & (diff > tolerance_cents)
        money[f"{name}_differs"] = diff
    p_paid = _cents(rows["perfex_paid_cents"])
    x_paid = _cents(rows["xero_paid_cents"])
    raw = np.abs(p_paid - x_paid)
    masks["paid_differs"] = live_pair & (raw > tolerance_cents)
    money["paid_differs"] = raw
    unsynced = np.zeros(len(rows), bool)
    if not credits_synced and "perfex_credit_cents" in rows:
        credit = _cents(rows["perfex_credit_cents"])
        unsynced = masks["paid_differs"] & (credit > 0)
        _unsynced_credits(
            unsynced, credit, p_paid, p_total, p_status, x_status, status_ok
        )
        money["paid_differs"] = np.abs(p_paid - credit - x_paid)
        masks["paid_differs"] &= money["paid_differs"] > tolerance_cents
        money["credit_not_synced"] = credit
    else:
        money["credit_not_synced"] = np.zeros(len(rows), np.int64)
    masks["credit_not_synced"] = unsynced
    same_cur = _same_text_upper(rows["perfex_currency"], rows["xero_currency"])
    masks["currency_differs"] = live_pair & ~same_cur
    masks["status_differs"] = pair & ~status_ok
    masks["missing_in_xero"] = has_p & ~has_x & ~p_inactive
    masks["only_in_xero"] = has_x & ~has_p & ~x_dead
    masks["duplicate_in_xero"] = extra & ~x_dead
    money["status_differs"] = _status_money(
        masks["status_differs"], p_status, x_status, p_total, x_total, money
    )
    for name in ("missing_in_xero", "currency_differs"):
        money[name] = p_total
    for name in ("only_in_xero", "duplicate_in_xero"):
        money[name] = x_total
    return CheckResult(INVOICE_CATEGORIES, _bits(INVOICE_CATEGORIES, masks), money)


def _unsynced_credits(
    unsynced: np.ndarray,
    credit: np.ndarray,
    p_paid: np.ndarray,
    p_total: np.ndarray,
    p_status: np.ndarray,
    x_status: np.ndarray,
    status_ok: np.ndarray,
) -> None:
    """Accept in ``status_ok`` the Xero status expected without unsynced credits."""
    at = np.flatnonzero(unsynced)
    if not len(at):
        return
    status = p_status[at]
    posted = (status >= 0) & (status < _POSTED_PERFEX)
    fully = p_paid[at] - credit[at] >= p_total[at]
    expected = np.where(posted, np.where(fully, 1, 0), np.maximum(status, 0))
    status_ok[at] |= _STATUS_OK[expected, np.maximum(x_status[at], 0)]


def _status_money(
    flagged: np.ndarray,
    p_status: np.ndarray,
    x_status: np.ndarray,
    p_total: np.ndarray,
    x_total: np.ndarray,
    money: dict[str, np.ndarray],
) -> np.ndarray:
    """Status gap: the total of the side that posts the invoice, else the paid gap."""
    out = np.zeros(len(flagged), np.int64)
    at = np.flatnonzero(flagged)
    if not len(at):
        return out
    p, x = p_status[at], x_status[at]
    posted_p = (p >= 0) & (p < _POSTED_PERFEX)
    posted_x = (x >= _POSTED_XERO[0]) & (x <= _POSTED_XERO[1])
    out[at] = np.where(
        posted_p & ~posted_x,
        p_total[at],
        np.where(posted_x & ~posted_p, x_total[at], money["paid_differs"][at]),
    )
    return out


def check_payments(rows: pd.DataFrame, tolerance_cents: int = 1) -> CheckResult:
    """Flag payment rows (the side-by-side frame of ``report.payment_rows``)."""
    has_p = rows["perfex_payment_id"].notna().to_numpy()
    has_x = rows["xero_payment_id"].notna().to_numpy()
    deleted = (rows["xero_status"] == "DELETED").to_numpy(dtype=bool, na_value=False)
    pair = has_p & has_x & ~deleted
    p_amount = _cents(rows["perfex_amount_cents"])
    x_amount = _cents(rows["xero_amount_cents"])
    diff = np.abs(p_amount - x_amount)
    p_day = rows["perfex_date"].to_numpy(dtype="datetime64[us]")
    x_day = rows["xero_date"].to_numpy(dtype="datetime64[us]")
    masks = {
        "missing_in_xero": has_p & (~has_x | deleted),
        "only_in_xero": has_x & ~has_p & ~deleted,
        "amount_differs": pair & (diff > tolerance_cents),
        "date_differs": pair & (p_day != x_day),
    }
    money = {
        "missing_in_xero": p_amount,
        "only_in_xero": x_amount,
        "amount_differs": diff,
        "date_differs": p_amount,
    }
    return CheckResult(PAYMENT_CATEGORIES, _bits(PAYMENT_CATEGORIES, masks), money)


def describe(result: CheckResult) -> pd.Categorical:
    """The ``;``-separated category names per row ('' when clean)."""
    bits = result.bits.astype(np.int64)
    uniq = np.flatnonzero(np.bincount(bits, minlength=1))
    if len(bits) == 0:
        return pd.Categorical([], categories=[""])
    slot = np.zeros(int(uniq[-1]) + 1, np.int32)
    slot[uniq] = np.arange(len(uniq), dtype=np.int32)
    inverse = slot[bits]
    names = [
        ";".join(c for i, c in enumerate(result.categories) if int(b) >> i & 1)
        for b in uniq
    ]
    return pd.Categorical.from_codes(inverse.astype(np.int32), categories=names)
