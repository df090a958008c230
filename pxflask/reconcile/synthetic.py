"""Synthetic, vectorised Perfex/Xero frames with injected discrepancies."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pxflask.reconcile.frames import (
    DATE_DTYPE,
    LINKS,
    PERFEX_INVOICES,
    PERFEX_PAYMENTS,
    XERO_INVOICES,
    XERO_PAYMENTS,
)

__all__ = ["INJECTABLE", "Dataset", "make_dataset"]

INJECTABLE = {
    "invoices": (
        "missing_in_xero",
        "only_in_xero",
        "total_differs",
        "subtotal_differs",
        "tax_differs",
        "currency_differs",
        "status_differs",
        "paid_differs",
        "duplicate_in_xero",
    ),
    "payments": ("missing_in_xero", "only_in_xero", "amount_differs", "date_differs"),
}
_PERFEX_STATUS = np.array(
    ["paid", "unpaid", "partially_paid", "overdue", "cancelled", "draft"], dtype=object
)
_STATUS_WEIGHTS = (0.6, 0.2, 0.05, 0.1, 0.03, 0.02)
_XERO_STATUS = np.array(
    ["PAID", "AUTHORISED", "AUTHORISED", "AUTHORISED", "VOIDED", "DRAFT"], dtype=object
)
_CURRENCIES = np.array(["GBP", "EUR", "USD"], dtype=object)
_EPOCH = np.datetime64("2024-01-01", "D")


@dataclass
class Dataset:
    """The four input frames, the links and the injected rows per category."""

    perfex_invoices: pd.DataFrame
    xero_invoices: pd.DataFrame
    perfex_payments: pd.DataFrame
    xero_payments: pd.DataFrame
    links: pd.DataFrame
    injected: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def _guids(rng: np.random.Generator, n: int) -> pd.Series:
    """``n`` random GUID strings (lower-case, 8-4-4-4-12)."""
    if n == 0:
        return pd.Series([], dtype="str")
    raw = np.frombuffer(rng.bytes(16 * n).hex().encode(), dtype="S32")
    s = pd.Series(raw.astype("U32"), dtype="str")
    return (
        s.str[0:8]
        + "-"
        + s.str[8:12]
        + "-"
        + s.str[12:16]
        + "-"
        + s.str[16:20]
        + "-"
        + s.str[20:32]
    )


def _numbers(prefix: str, ids: np.ndarray, width: int = 7) -> pd.Series:
    """Formatted numbers such as ``INV-0000012``."""
    return prefix + pd.Series(ids, dtype="int64").astype("str").str.zfill(width)


def _dates(days: np.ndarray) -> np.ndarray:
    """Day offsets from 2024-01-01 as dates."""
    return (_EPOCH + days.astype("timedelta64[D]")).astype(DATE_DTYPE)


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Columns in schema order and dtypes (absent ones: 0, e.g. no credits)."""
    frame = frame.assign(**{c: 0 for c in columns if c not in frame.columns})
    return frame[list(columns)].astype(columns).reset_index(drop=True)


def make_dataset(
    n_invoices: int = 1000,
    n_payments: int | None = None,
    seed: int = 0,
    rate: float = 0.0,
    links: bool = True,
    drafts: bool = True,
) -> Dataset:
    """Clean matching frames of both sides, then ``rate`` of rows broken per category.

    Each category gets ``round(rate * n)`` distinct rows (at least one when
    ``rate > 0``); rows are disjoint across categories.  Perfex drafts and
    cancelled invoices are not touched; drafts are absent from Xero (``drafts=skip``).
    """
    rng = np.random.default_rng(seed)
    n = n_invoices
    n_pay = n if n_payments is None else n_payments
    n_customers = max(1, n // 20)
    cust_names = _numbers("Customer ", np.arange(1, n_customers + 1), 6)
    status_code = rng.choice(6, size=n, p=_STATUS_WEIGHTS)
    if not drafts:
        status_code[status_code == 5] = 1
    subtotal = rng.integers(1_000, 500_000, size=n)
    tax = subtotal * 20 // 100
    total = subtotal + tax
    paid = np.where(status_code == 0, total, np.where(status_code == 2, total // 2, 0))
    day = rng.integers(0, 730, size=n)
    customer = rng.integers(1, n_customers + 1, size=n)
    currency = _CURRENCIES[rng.choice(3, size=n, p=(0.8, 0.1, 0.1))]
    ids = np.arange(1, n + 1)
    number = _numbers("INV-", ids)
    number = number.where(status_code != 5, "INV-DRAFT")
    perfex = pd.DataFrame(
        {
            "perfex_id": ids,
            "invoice_number": number,
            "customer_id": customer,
            "customer_name": cust_names.to_numpy()[customer - 1],
            "date": _dates(day),
            "due_date": _dates(day + 30),
            "currency": currency,
            "subtotal_cents": subtotal,
            "tax_cents": tax,
            "total_cents": total,
            "paid_cents": paid,
            "status": _PERFEX_STATUS[status_code],
        }
    )
    in_xero = status_code != 5
    xp = perfex[in_xero]
    contact_ids = _guids(rng, n_customers).to_numpy()
    xero = pd.DataFrame(
        {
            "xero_invoice_id": _guids(rng, len(xp)).to_numpy(),
            "invoice_number": xp["invoice_number"].to_numpy(),
            "contact_id": contact_ids[xp["customer_id"].to_numpy() - 1],
            "contact_name": xp["customer_name"].to_numpy(),
            "contact_number": xp["customer_id"].astype("str").to_numpy(),
            "date": xp["date"].to_numpy(),
            "due_date": xp["due_date"].to_numpy(),
            "currency": xp["currency"].to_numpy(),
            "subtotal_cents": xp["subtotal_cents"].to_numpy(),
            "tax_cents": xp["tax_cents"].to_numpy(),
            "total_cents": xp["total_cents"].to_numpy(),
            "paid_cents": xp["paid_cents"].to_numpy(),
            "status": _XERO_STATUS[status_code[in_xero]],
        }
    )
    xero_of = np.full(n, -1, np.int64)  # Xero row of each Perfex invoice
    xero_of[in_xero] = np.arange(len(xero))

    # payments on open or paid invoices
    payable = np.flatnonzero(status_code <= 3)
    if len(payable) == 0:
        payable = np.flatnonzero(in_xero)
    inv_of = (
        payable[rng.integers(0, len(payable), size=n_pay)] if n_pay else payable[:0]
    )
    pay_day = day[inv_of] + rng.integers(0, 60, size=n_pay)
    amount = rng.integers(500, 200_000, size=n_pay)
    perfex_pay = pd.DataFrame(
        {
            "perfex_payment_id": np.arange(1, n_pay + 1),
            "perfex_invoice_id": ids[inv_of],
            "invoice_number": number.to_numpy()[inv_of],
            "date": _dates(pay_day),
            "amount_cents": amount,
            "currency": currency[inv_of],
            "mode": np.where(rng.random(n_pay) < 0.5, "1", "stripe"),
        }
    )
    xero_pay = pd.DataFrame(
        {
            "xero_payment_id": _guids(rng, n_pay).to_numpy(),
            "xero_invoice_id": xero["xero_invoice_id"].to_numpy()[xero_of[inv_of]],
            "invoice_number": perfex_pay["invoice_number"].to_numpy(),
            "date": perfex_pay["date"].to_numpy(),
            "amount_cents": amount,
            "currency": perfex_pay["currency"].to_numpy(),
            "status": "AUTHORISED",
        }
    )
    inv_links = pd.DataFrame(
        {
            "entity": "invoices",
            "perfex_id": xp["perfex_id"].to_numpy(),
            "xero_id": xero["xero_invoice_id"].to_numpy(),
        }
    )
    pay_links = pd.DataFrame(
        {
            "entity": "payments",
            "perfex_id": perfex_pay["perfex_payment_id"].to_numpy(),
            "xero_id": xero_pay["xero_payment_id"].to_numpy(),
        }
    )

    injected: dict[tuple[str, str], np.ndarray] = {}
    if rate > 0:
        xero, perfex_pay, xero_pay, inv_links, pay_links, injected = _inject(
            rng, rate, perfex, xero, xero_of, perfex_pay, xero_pay, inv_links, pay_links
        )
    link_frame = (
        pd.concat([inv_links, pay_links], ignore_index=True)
        if links
        else pd.DataFrame({c: [] for c in LINKS.columns})
    )
    return Dataset(
        perfex_invoices=_typed(perfex, PERFEX_INVOICES.columns),
        xero_invoices=_typed(xero, XERO_INVOICES.columns),
        perfex_payments=_typed(perfex_pay, PERFEX_PAYMENTS.columns),
        xero_payments=_typed(xero_pay, XERO_PAYMENTS.columns),
        links=_typed(link_frame, LINKS.columns),
        injected=injected,
    )


def _inject(
    rng: np.random.Generator,
    rate: float,
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    xero_of: np.ndarray,
    perfex_pay: pd.DataFrame,
    xero_pay: pd.DataFrame,
    inv_links: pd.DataFrame,
    pay_links: pd.DataFrame,
) -> tuple[
    pd.DataFrame,
    pd.DataFrame,
    pd.DataFrame,
    pd.DataFrame,
    pd.DataFrame,
    dict[tuple[str, str], np.ndarray],
]:
    """Break disjoint rows, one category at a time; return the changed frames."""
    injected: dict[tuple[str, str], np.ndarray] = {}
    status = perfex["status"].to_numpy()
    open_rows = np.flatnonzero(np.isin(status, ["unpaid", "paid", "overdue"]))
    n_inv = max(1, round(rate * len(perfex)))
    kinds = [k for k in INJECTABLE["invoices"] if k not in ("status_differs",)]
    picked = rng.permutation(open_rows)[: n_inv * len(kinds)]
    chunks = dict(zip(kinds, np.array_split(picked, len(kinds)), strict=True))
    xero = xero.copy()
    xrow = {k: xero_of[v] for k, v in chunks.items()}
    pid = perfex["perfex_id"].to_numpy()

    for col, kind, delta in (
        ("total_cents", "total_differs", 500),
        ("subtotal_cents", "subtotal_differs", 300),
        ("tax_cents", "tax_differs", 70),
        ("paid_cents", "paid_differs", 100),
    ):
        xero.loc[xrow[kind], col] += delta
        injected[("invoices", kind)] = pid[chunks[kind]]
    cur = xero.loc[xrow["currency_differs"], "currency"]
    xero.loc[xrow["currency_differs"], "currency"] = np.where(
        cur == "GBP", "EUR", "GBP"
    )
    injected[("invoices", "currency_differs")] = pid[chunks["currency_differs"]]

    cancelled = np.flatnonzero(status == "cancelled")
    cancelled = rng.permutation(cancelled)[:n_inv]
    xero.loc[xero_of[cancelled], "status"] = "AUTHORISED"
    injected[("invoices", "status_differs")] = pid[cancelled]

    dup = xero.iloc[xrow["duplicate_in_xero"]].copy()
    dup["xero_invoice_id"] = _guids(rng, len(dup)).to_numpy()
    injected[("invoices", "duplicate_in_xero")] = dup["xero_invoice_id"].to_numpy()

    k = len(chunks["only_in_xero"])
    only = xero.iloc[xrow["only_in_xero"]].copy()
    only["xero_invoice_id"] = _guids(rng, k).to_numpy()
    only["invoice_number"] = _numbers("XO-", np.arange(1, k + 1)).to_numpy()
    only["contact_name"] = _numbers(
        "Xero-only contact ", np.arange(1, k + 1)
    ).to_numpy()
    only["contact_number"] = pd.NA
    injected[("invoices", "only_in_xero")] = only["xero_invoice_id"].to_numpy()

    gone = xero["xero_invoice_id"].iloc[xrow["missing_in_xero"]]
    injected[("invoices", "missing_in_xero")] = pid[chunks["missing_in_xero"]]
    keep = ~xero["xero_invoice_id"].isin(gone)
    xero = pd.concat([xero[keep], dup, only], ignore_index=True)
    inv_links = inv_links[~inv_links["xero_id"].isin(gone)]

    # payments
    n_pay = max(1, round(rate * len(perfex_pay)))
    kinds = list(INJECTABLE["payments"])
    # payments on invoices that are not broken, one payment per invoice
    broken = np.concatenate(list(chunks.values()) + [cancelled])
    ok_inv = ~np.isin(perfex_pay["perfex_invoice_id"].to_numpy(), pid[broken])
    first = ~perfex_pay["perfex_invoice_id"].duplicated(keep=False).to_numpy()
    rows = rng.permutation(np.flatnonzero(ok_inv & first))[: n_pay * len(kinds)]
    pchunks = dict(zip(kinds, np.array_split(rows, len(kinds)), strict=True))
    xero_pay = xero_pay.copy()
    ppid = perfex_pay["perfex_payment_id"].to_numpy()
    xero_pay.loc[pchunks["amount_differs"], "amount_cents"] += 250
    injected[("payments", "amount_differs")] = ppid[pchunks["amount_differs"]]
    xero_pay.loc[pchunks["date_differs"], "date"] += pd.Timedelta(days=3)
    injected[("payments", "date_differs")] = ppid[pchunks["date_differs"]]
    # an only-in-Xero payment: move a Perfex-linked one to a fresh id, drop Perfex's
    only_rows = pchunks["only_in_xero"]
    new_ids = _guids(rng, len(only_rows)).to_numpy()
    xero_pay.loc[only_rows, "xero_payment_id"] = new_ids
    injected[("payments", "only_in_xero")] = new_ids
    gone_p = xero_pay["xero_payment_id"].iloc[pchunks["missing_in_xero"]]
    injected[("payments", "missing_in_xero")] = ppid[pchunks["missing_in_xero"]]
    xero_pay = xero_pay[~xero_pay["xero_payment_id"].isin(gone_p)]
    pay_links = pay_links[
        ~pay_links["perfex_id"].isin(ppid[only_rows])
        & ~pay_links["xero_id"].isin(gone_p)
    ]
    # the Perfex side of the only-in-Xero payments goes away
    perfex_pay = perfex_pay.drop(index=only_rows)
    return xero, perfex_pay, xero_pay, inv_links, pay_links, injected
