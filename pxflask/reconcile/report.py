"""The reconciliation report: side-by-side rows, checks, summary and totals.

All money in the report frames is integer cents in ``*_cents`` columns (nullable
``Int64`` where a side may be absent); ``export`` writes it as 2-dp decimals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from pxflask.reconcile._text import factorize_text, first_positions
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
    empty_frame,
    validate_frame,
)
from pxflask.reconcile.match import (
    INVOICE_METHODS,
    PAYMENT_METHODS,
    InvoiceMatch,
    match_invoices,
    match_payments,
    payment_invoice_keys,
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
    "discrepancy",
)
# Invoices that count in the side-by-side totals (posted to the ledger).
POSTED_PERFEX_STATUSES = ("unpaid", "paid", "partially_paid", "overdue")
POSTED_XERO_STATUSES = ("AUTHORISED", "PAID")
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
    summary: pd.DataFrame  # scope, category, count, money_at_stake_cents, currencies
    summary_by_currency: pd.DataFrame  # scope, category, currency, count, money...
    by_month: pd.DataFrame  # month, currency + _TOTAL_COLUMNS
    by_currency: pd.DataFrame  # currency + _TOTAL_COLUMNS
    by_customer: pd.DataFrame  # customer_key, customer_name, currency + totals
    tolerance: Decimal
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def has_discrepancies(self) -> bool:
        """True when any category has at least one row."""
        return bool(self.summary["count"].sum() > 0)

    def discrepancies(self, scope: str = "invoices") -> pd.DataFrame:
        """The rows of ``scope`` ('invoices' or 'payments') with a discrepancy."""
        frame = self.invoices if scope == "invoices" else self.payments
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
    return col.array.take(pos, allow_fill=True)


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


def _coalesce(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first`` where present, else ``second``."""
    return first.where(first.notna(), second)


def invoice_rows(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: pd.DataFrame | None
) -> pd.DataFrame:
    """Match invoices and return the side-by-side rows (without checks)."""
    m = match_invoices(perfex, xero, links)
    return _invoice_frame(perfex, xero, m.perfex_pos, m.xero_pos, m.method, m.extra)


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
    frame = pd.DataFrame(cols)
    frame["invoice_number"] = _coalesce(
        frame["perfex_invoice_number"], frame["xero_invoice_number"]
    )
    frame["currency"] = _coalesce(frame["perfex_currency"], frame["xero_currency"])
    frame["matched_by"] = pd.Categorical.from_codes(
        method.astype(np.int8), categories=list(INVOICE_METHODS)
    )
    frame["extra_copy"] = extra
    frame["money_at_stake_cents"] = np.zeros(len(frame), np.int64)
    frame["discrepancy"] = ""
    return frame[list(INVOICE_COLUMNS)]


def payment_rows(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: pd.DataFrame | None,
) -> pd.DataFrame:
    """Match payments and return the side-by-side rows (without checks)."""
    im = match_invoices(perfex_invoices, xero_invoices, links)
    return _payment_frame(perfex_invoices, xero_invoices, im, perfex, xero, links)


def _payment_frame(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    invoice_match: InvoiceMatch,
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: pd.DataFrame | None,
) -> pd.DataFrame:
    """Match payments against an invoice match and assemble their rows."""
    key_p, key_x = payment_invoice_keys(
        perfex_invoices, xero_invoices, invoice_match, perfex, xero
    )
    m = match_payments(perfex, xero, key_p, key_x, links)
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
    frame = pd.DataFrame(cols)
    frame["invoice_number"] = _coalesce(
        frame["perfex_invoice_number"], frame["xero_invoice_number"]
    )
    frame["currency"] = _coalesce(frame["perfex_currency"], frame["xero_currency"])
    frame["matched_by"] = pd.Categorical.from_codes(
        m.method.astype(np.int8), categories=list(PAYMENT_METHODS)
    )
    frame["money_at_stake_cents"] = np.zeros(len(frame), np.int64)
    frame["discrepancy"] = ""
    return frame[list(PAYMENT_COLUMNS)]


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


def _summary(
    scope: str, frame: pd.DataFrame, result: CheckResult
) -> tuple[list[dict[str, object]], list[pd.DataFrame]]:
    """Summary rows and per-currency pieces of one scope."""
    rows, pieces = [], []
    currency = frame["currency"]
    for name in result.categories:
        flag = result.flagged(name)
        money = result.money[name][flag]
        cur = currency[flag]
        rows.append(
            {
                "scope": scope,
                "category": name,
                "count": int(flag.sum()),
                "money_at_stake_cents": int(money.sum()),
                "currencies": ";".join(sorted(cur.dropna().unique())),
            }
        )
        if flag.any():
            piece = (
                pd.DataFrame({"currency": cur.to_numpy(), "money": money})
                .groupby("currency", dropna=False)["money"]
                .agg(["size", "sum"])
                .reset_index()
                .rename(columns={"size": "count", "sum": "money_at_stake_cents"})
            )
            piece.insert(0, "category", name)
            piece.insert(0, "scope", scope)
            pieces.append(piece)
    return rows, pieces


def _window(
    frame: pd.DataFrame, date_from: dt.date | None, date_to: dt.date | None
) -> pd.DataFrame:
    """Rows of an input frame dated within the window."""
    if date_from is None and date_to is None:
        return frame
    return frame[_in_window(frame, ("date",), date_from, date_to)]


def _grouped(keys: dict[str, np.ndarray], total: np.ndarray) -> pd.DataFrame:
    """Count, exact int sum and first row position per key tuple."""
    frame = pd.DataFrame({**keys, "total": total, "pos": np.arange(len(total))})
    out = frame.groupby(list(keys), sort=False).agg(
        count=("total", "size"), total_cents=("total", "sum"), first=("pos", "min")
    )
    return out.reset_index()


def _join_totals(
    left: pd.DataFrame, right: pd.DataFrame, keys: list[str]
) -> pd.DataFrame:
    """Outer-join two per-key totals into perfex_*/xero_* columns and a difference."""
    both = left.merge(right, on=keys, how="outer", suffixes=("_p", "_x"))
    out = both[keys].copy()
    if "name_p" in both.columns:
        out["customer_name"] = _coalesce(both["name_p"], both["name_x"])
    for side, tag in (("perfex", "_p"), ("xero", "_x")):
        out[f"{side}_count"] = both[f"count{tag}"].fillna(0).astype(np.int64)
        total = both[f"total_cents{tag}"].fillna(0).astype(np.int64)
        out[f"{side}_total_cents"] = total
    out["difference_cents"] = out["perfex_total_cents"] - out["xero_total_cents"]
    return out.sort_values(keys, ignore_index=True)


def _side_totals(
    perfex: pd.DataFrame, xero: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Totals of posted invoices by month, by currency and by customer."""
    p = perfex[perfex["status"].isin(POSTED_PERFEX_STATUSES).to_numpy()]
    x = xero[xero["status"].isin(POSTED_XERO_STATUSES).to_numpy()]
    cur_p, cur_x = factorize_text(p["currency"], x["currency"])
    names = pd.concat([p["currency"], x["currency"]], ignore_index=True).to_numpy(
        dtype=object
    )
    first = first_positions(
        np.concatenate([cur_p, cur_x]),
        int(max(cur_p.max(initial=-1), cur_x.max(initial=-1))) + 1,
    )
    currency_of = names[first] if len(first) else np.empty(0, object)

    def month(frame: pd.DataFrame) -> np.ndarray:
        return frame["date"].to_numpy().astype("datetime64[M]").view(np.int64)

    t_p = p["total_cents"].to_numpy(np.int64)
    t_x = x["total_cents"].to_numpy(np.int64)

    def decode(frame: pd.DataFrame) -> pd.DataFrame:
        frame["currency"] = pd.Series(
            currency_of[frame["currency"].to_numpy()], dtype="str"
        )
        return frame

    keys = ["month", "currency"]
    by_month = _join_totals(
        decode(_grouped({"month": month(p), "currency": cur_p}, t_p)).drop(
            columns="first"
        ),
        decode(_grouped({"month": month(x), "currency": cur_x}, t_x)).drop(
            columns="first"
        ),
        keys,
    )
    by_month["month"] = (
        pd.Series(
            by_month["month"].to_numpy(np.int64).astype("datetime64[M]"), dtype=object
        )
        .map(lambda m: str(m)[:7])
        .astype("str")
    )
    by_currency = _join_totals(
        decode(_grouped({"currency": cur_p}, t_p)).drop(columns="first"),
        decode(_grouped({"currency": cur_x}, t_x)).drop(columns="first"),
        ["currency"],
    )

    left = decode(
        _grouped(
            {"customer": p["customer_id"].to_numpy(np.int64), "currency": cur_p}, t_p
        )
    )
    left["customer_key"] = left["customer"].astype("str")
    left["name"] = p["customer_name"].array.take(left["first"].to_numpy())
    number = x["contact_number"]
    missing = number.isna().to_numpy()
    xkey = number.copy()
    if missing.any():
        xkey[missing] = ("xero:" + x["contact_id"][missing]).fillna("xero:?")
    (code_x,) = factorize_text(xkey)
    right = decode(_grouped({"customer": code_x, "currency": cur_x}, t_x))
    at = right["first"].to_numpy()
    right["customer_key"] = xkey.array.take(at)
    right["name"] = x["contact_name"].array.take(at)
    cust_keys = ["customer_key", "currency"]
    by_customer = _join_totals(
        left.drop(columns=["customer", "first"]),
        right.drop(columns=["customer", "first"]),
        cust_keys,
    )
    by_customer = by_customer[
        ["customer_key", "customer_name", "currency", *_TOTAL_COLUMNS]
    ]
    return by_month, by_currency, by_customer


def reconcile(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    perfex_payments: pd.DataFrame | None = None,
    xero_payments: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    tolerance: Decimal | str | int = Decimal("0.01"),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> ReconciliationReport:
    """Compare Perfex against Xero and build the report.

    Matching runs over everything given; the date window then keeps the rows dated
    (on either side) within ``[date_from, date_to]``, and the totals count the
    invoices dated within it.
    """
    tol = tolerance_cents(tolerance)
    p_inv = validate_frame(perfex_invoices, PERFEX_INVOICES)
    x_inv = validate_frame(xero_invoices, XERO_INVOICES)
    p_pay = validate_frame(
        empty_frame(PERFEX_PAYMENTS) if perfex_payments is None else perfex_payments,
        PERFEX_PAYMENTS,
    )
    x_pay = validate_frame(
        empty_frame(XERO_PAYMENTS) if xero_payments is None else xero_payments,
        XERO_PAYMENTS,
    )
    lk = None if links is None else validate_frame(links, LINKS)

    im = match_invoices(p_inv, x_inv, lk)
    invoices = _invoice_frame(
        p_inv, x_inv, im.perfex_pos, im.xero_pos, im.method, im.extra
    )
    payments = _payment_frame(p_inv, x_inv, im, p_pay, x_pay, lk)

    if date_from is not None or date_to is not None:
        window = ("perfex_date", "xero_date")
        invoices = invoices[_in_window(invoices, window, date_from, date_to)]
        payments = payments[_in_window(payments, window, date_from, date_to)]
        invoices = invoices.reset_index(drop=True)
        payments = payments.reset_index(drop=True)

    inv_result = check_invoices(invoices, tol)
    pay_result = check_payments(payments, tol)
    invoices = _apply_checks(invoices, inv_result)
    payments = _apply_checks(payments, pay_result)

    rows_i, pieces_i = _summary("invoices", invoices, inv_result)
    rows_p, pieces_p = _summary("payments", payments, pay_result)
    summary = pd.DataFrame(rows_i + rows_p)
    pieces = pieces_i + pieces_p
    by_cur_cols = ["scope", "category", "currency", "count", "money_at_stake_cents"]
    summary_by_currency = (
        pd.concat(pieces, ignore_index=True)
        if pieces
        else pd.DataFrame({c: [] for c in by_cur_cols})
    )

    by_month, by_currency, by_customer = _side_totals(
        _window(p_inv, date_from, date_to), _window(x_inv, date_from, date_to)
    )
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
    )
