"""Pair Perfex records with Xero records, vectorised, one stage after another.

Invoices: by the sync's links, then by invoice number (trimmed, case-insensitive;
Perfex drafts are skipped because they all carry the ``INV-DRAFT`` placeholder), then
by customer name + date + total.  Within a stage pairs are one-to-one; when several
Xero candidates compete, live ones (not VOIDED/DELETED) win, then the earlier row.
A Xero invoice left over after the stages whose number (or name + date + total) is
that of a Perfex invoice is attached to that invoice as an extra copy
(``InvoiceMatch.extra``); a live extra copy is a ``duplicate_in_xero``.

Payments: by links, then invoice + amount + date, then invoice + amount, then invoice
alone when exactly one payment is left on each side for that invoice.  The invoice of
a payment is the Perfex invoice id; a Xero payment gets it through the invoice match,
or else through its invoice number.  DELETED Xero payments only pair through links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pxflask.reconcile._text import factorize_text, first_positions

__all__ = [
    "INVOICE_METHODS",
    "PAYMENT_METHODS",
    "InvoiceMatch",
    "PaymentMatch",
    "match_invoices",
    "match_payments",
    "index_in",
    "normalise_text",
    "payment_invoice_keys",
]

# matched_by codes: index into these tuples; 0 means one-sided.
INVOICE_METHODS = ("", "link", "number", "fuzzy")
PAYMENT_METHODS = ("", "link", "amount_date", "amount", "invoice")
_LINK, _NUMBER, _FUZZY = 1, 2, 3
_AMOUNT_DATE, _AMOUNT, _INVOICE = 2, 3, 4
DEAD_XERO_STATUSES = ("VOIDED", "DELETED")
_US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class InvoiceMatch:
    """Result rows of the invoice match: positions into the two input frames."""

    perfex_pos: np.ndarray  # int64, -1 when the row has no Perfex invoice
    xero_pos: np.ndarray  # int64, -1 when the row has no Xero invoice
    method: np.ndarray  # int8 code into INVOICE_METHODS
    extra: np.ndarray  # bool, an additional Xero copy of a matched Perfex invoice
    xero_to_perfex: np.ndarray  # int64 per Xero row: attached Perfex position or -1

    @property
    def matched_by(self) -> np.ndarray:
        """The method names per row."""
        return np.asarray(INVOICE_METHODS, dtype=object)[self.method]


@dataclass(frozen=True)
class PaymentMatch:
    """Result rows of the payment match: positions into the two input frames."""

    perfex_pos: np.ndarray
    xero_pos: np.ndarray
    method: np.ndarray  # int8 code into PAYMENT_METHODS

    @property
    def matched_by(self) -> np.ndarray:
        """The method names per row."""
        return np.asarray(PAYMENT_METHODS, dtype=object)[self.method]


def normalise_text(values: pd.Series) -> pd.Series:
    """Trim and lower-case text; empty strings become missing."""
    out = values.astype("str").str.strip().str.lower()
    return out.mask(out == "")


def index_in(values: pd.Series, table: pd.Series) -> np.ndarray:
    """Position of each value's first occurrence in ``table`` (-1: absent/missing)."""
    codes_t, codes_v = factorize_text(table, values)
    n_codes = int(max(codes_t.max(initial=-1), codes_v.max(initial=-1))) + 1
    first = first_positions(codes_t, n_codes)
    return (
        np.where(codes_v >= 0, first[np.maximum(codes_v, 0)], -1)
        if n_codes
        else (np.full(len(values), -1, np.int64))
    )


def _codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Factorise two text columns jointly; -1 marks missing values."""
    codes_l, codes_r = factorize_text(left, right)
    return codes_l, codes_r


def _days(dates: pd.Series) -> np.ndarray:
    """Whole days since the epoch (NaT becomes a large negative number)."""
    return dates.to_numpy(dtype="datetime64[us]").view(np.int64) // _US_PER_DAY


def _rank(sorted_groups: np.ndarray) -> np.ndarray:
    """Rank of each element within its run of equal values (input sorted)."""
    n = len(sorted_groups)
    idx = np.arange(n, dtype=np.int64)
    if n == 0:
        return idx
    start = np.empty(n, dtype=bool)
    start[0] = True
    np.not_equal(sorted_groups[1:], sorted_groups[:-1], out=start[1:])
    return idx - np.maximum.accumulate(np.where(start, idx, 0))


def _group_ids(
    left: Sequence[np.ndarray], right: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Common non-negative group ids for rows with equal key tuples on both sides."""
    n = len(left[0])
    if len(left) == 1:
        gid, _ = pd.factorize(np.concatenate([left[0], right[0]]))
        gid = gid.astype(np.int64)
        return gid[:n], gid[n:]
    frame = pd.DataFrame(
        {
            f"k{i}": np.concatenate([a, b])
            for i, (a, b) in enumerate(zip(left, right, strict=True))
        }
    )
    gid = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy(np.int64)
    return gid[:n], gid[n:]


def _pair(
    left: Sequence[np.ndarray],
    right: Sequence[np.ndarray],
    right_penalty: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair rows with equal keys one-to-one in order; return matched positions."""
    if len(left[0]) == 0 or len(right[0]) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty
    gl, gr = _group_ids(left, right)
    order_l = np.argsort(gl, kind="stable")
    if right_penalty is None:
        order_r = np.argsort(gr, kind="stable")
    else:
        order_r = np.lexsort((right_penalty, gr))
    sl, sr = gl[order_l], gr[order_r]
    key_l = (sl << 32) | _rank(sl)
    key_r = (sr << 32) | _rank(sr)
    at = np.searchsorted(key_l, key_r)
    at_c = np.minimum(at, len(key_l) - 1)
    hit = key_l[at_c] == key_r
    return order_l[at_c[hit]], order_r[hit]


def _first_of(codes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each target code, the first position holding it in ``codes`` (or -1)."""
    first = first_positions(codes, int(codes.max(initial=-1)) + 1)
    if len(first) == 0:
        return np.full(len(targets), -1, np.int64)
    ok = (targets >= 0) & (targets < len(first))
    return np.where(ok, first[np.clip(targets, 0, len(first) - 1)], -1)


def match_invoices(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: pd.DataFrame | None = None,
) -> InvoiceMatch:
    """Match validated Perfex and Xero invoice frames (see the module docstring)."""
    n_p, n_x = len(perfex), len(xero)
    p_to_x = np.full(n_p, -1, np.int64)
    x_to_p = np.full(n_x, -1, np.int64)
    p_method = np.zeros(n_p, np.int8)
    x_method = np.zeros(n_x, np.int8)
    x_extra = np.zeros(n_x, bool)
    x_dead = xero["status"].isin(DEAD_XERO_STATUSES).to_numpy()

    if links is not None and len(links):
        inv = links[links["entity"] == "invoices"]
        lp = pd.Index(perfex["perfex_id"]).get_indexer(inv["perfex_id"])
        lx = index_in(inv["xero_id"], xero["xero_invoice_id"])
        ok = (lp >= 0) & (lx >= 0)
        lp, lx = lp[ok], lx[ok]
        keep = ~pd.Series(lp).duplicated().to_numpy()
        lp, lx = lp[keep], lx[keep]
        keep = ~pd.Series(lx).duplicated().to_numpy()
        lp, lx = lp[keep], lx[keep]
        p_to_x[lp], x_to_p[lx], p_method[lp] = lx, lp, _LINK

    # invoice number
    pc, xc = _codes(
        normalise_text(perfex["invoice_number"]), normalise_text(xero["invoice_number"])
    )
    pc[(perfex["status"] == "draft").to_numpy()] = -1
    up = np.flatnonzero((p_to_x < 0) & (pc >= 0))
    ux = np.flatnonzero((x_to_p < 0) & (xc >= 0))
    li, ri = _pair([pc[up]], [xc[ux]], x_dead[ux])
    ps, xs = up[li], ux[ri]
    p_to_x[ps], x_to_p[xs], p_method[ps] = xs, ps, _NUMBER
    left = np.flatnonzero((x_to_p < 0) & (xc >= 0))
    if len(left):
        target = _first_of(pc, xc[left])
        hit = target >= 0
        xs = left[hit]
        x_to_p[xs], x_extra[xs], x_method[xs] = target[hit], True, _NUMBER

    # customer name + date + total
    up = np.flatnonzero(p_to_x < 0)
    ux = np.flatnonzero(x_to_p < 0)
    if len(up) and len(ux):
        keys_p, keys_x = _fuzzy_keys(perfex.iloc[up], xero.iloc[ux])
        ok_p, ok_x = keys_p[0] >= 0, keys_x[0] >= 0
        li, ri = _pair(
            [k[ok_p] for k in keys_p], [k[ok_x] for k in keys_x], x_dead[ux][ok_x]
        )
        ps, xs = up[ok_p][li], ux[ok_x][ri]
        p_to_x[ps], x_to_p[xs], p_method[ps] = xs, ps, _FUZZY
    left = np.flatnonzero(x_to_p < 0)
    if len(left) and n_p:
        cand = np.flatnonzero(
            perfex["total_cents"].isin(xero["total_cents"].iloc[left]).to_numpy()
        )
        keys_p, keys_x = _fuzzy_keys(perfex.iloc[cand], xero.iloc[left])
        gp, gx = _group_ids(keys_p, keys_x)
        gp = np.where(keys_p[0] >= 0, gp, -1)
        target = _first_of(gp, gx)
        hit = (target >= 0) & (keys_x[0] >= 0)
        target = np.where(hit, cand[np.maximum(target, 0)], -1)
        xs = left[hit]
        x_to_p[xs], x_extra[xs], x_method[xs] = target[hit], True, _FUZZY

    extra = np.flatnonzero(x_extra)
    alone = np.flatnonzero(x_to_p < 0)
    return InvoiceMatch(
        perfex_pos=np.concatenate(
            [np.arange(n_p), x_to_p[extra], np.full_like(alone, -1)]
        ),
        xero_pos=np.concatenate([p_to_x, extra, alone]),
        method=np.concatenate(
            [p_method, x_method[extra], np.zeros(len(alone), np.int8)]
        ),
        extra=np.concatenate(
            [np.zeros(n_p, bool), np.ones(len(extra), bool), np.zeros(len(alone), bool)]
        ),
        xero_to_perfex=x_to_p,
    )


def _fuzzy_keys(
    perfex: pd.DataFrame, xero: pd.DataFrame
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Customer-name code, day and total of each side (name code -1 when missing)."""
    np_, nx = _codes(
        normalise_text(perfex["customer_name"]), normalise_text(xero["contact_name"])
    )
    return (
        [np_, _days(perfex["date"]), perfex["total_cents"].to_numpy(np.int64)],
        [nx, _days(xero["date"]), xero["total_cents"].to_numpy(np.int64)],
    )


def payment_invoice_keys(
    perfex_invoices: pd.DataFrame,
    xero_invoices: pd.DataFrame,
    invoice_match: InvoiceMatch,
    perfex_payments: pd.DataFrame,
    xero_payments: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray]:
    """The Perfex invoice id each payment belongs to (-1 when unknown), per side."""
    key_p = perfex_payments["perfex_invoice_id"].to_numpy(np.int64)
    n = len(xero_payments)
    key_x = np.full(n, -1, np.int64)
    if n == 0:
        return key_p, key_x
    perfex_ids = perfex_invoices["perfex_id"].to_numpy(np.int64)
    inv = index_in(xero_payments["xero_invoice_id"], xero_invoices["xero_invoice_id"])
    ppos = np.where(inv >= 0, invoice_match.xero_to_perfex[np.maximum(inv, 0)], -1)
    key_x = np.where(ppos >= 0, perfex_ids[np.maximum(ppos, 0)], -1)
    todo = np.flatnonzero(key_x < 0)
    if len(todo):
        live = (perfex_invoices["status"] != "draft").to_numpy()
        numbers = pd.concat(
            [
                perfex_invoices["invoice_number"][live],
                perfex_payments["invoice_number"],
            ],
            ignore_index=True,
        )
        ids = np.concatenate(
            [perfex_ids[live], perfex_payments["perfex_invoice_id"].to_numpy(np.int64)]
        )
        wanted = normalise_text(xero_payments["invoice_number"].iloc[todo])
        at = index_in(wanted, normalise_text(numbers))
        ok = at >= 0
        key_x[todo[ok]] = ids[at[ok]]
    return key_p, key_x


def match_payments(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    key_perfex: np.ndarray,
    key_xero: np.ndarray,
    links: pd.DataFrame | None = None,
) -> PaymentMatch:
    """Match validated payment frames whose invoice keys are given."""
    n_p, n_x = len(perfex), len(xero)
    p_to_x = np.full(n_p, -1, np.int64)
    x_taken = np.zeros(n_x, bool)
    p_method = np.zeros(n_p, np.int8)
    if links is not None and len(links):
        pay = links[links["entity"] == "payments"]
        lp = pd.Index(perfex["perfex_payment_id"]).get_indexer(pay["perfex_id"])
        lx = index_in(pay["xero_id"], xero["xero_payment_id"])
        ok = (lp >= 0) & (lx >= 0)
        lp, lx = lp[ok], lx[ok]
        keep = ~pd.Series(lp).duplicated().to_numpy()
        lp, lx = lp[keep], lx[keep]
        keep = ~pd.Series(lx).duplicated().to_numpy()
        lp, lx = lp[keep], lx[keep]
        p_to_x[lp], x_taken[lx], p_method[lp] = lx, True, _LINK

    x_live = (xero["status"] != "DELETED").to_numpy()
    amount_p = perfex["amount_cents"].to_numpy(np.int64)
    amount_x = xero["amount_cents"].to_numpy(np.int64)
    day_p, day_x = _days(perfex["date"]), _days(xero["date"])
    stages = (
        (_AMOUNT_DATE, (key_perfex, amount_p, day_p), (key_xero, amount_x, day_x)),
        (_AMOUNT, (key_perfex, amount_p), (key_xero, amount_x)),
        (_INVOICE, (key_perfex,), (key_xero,)),
    )
    for method, kp, kx in stages:
        up = np.flatnonzero((p_to_x < 0) & (key_perfex >= 0))
        ux = np.flatnonzero(~x_taken & x_live & (key_xero >= 0))
        if not len(up) or not len(ux):
            break
        if method == _INVOICE:
            up = up[~pd.Series(key_perfex[up]).duplicated(keep=False).to_numpy()]
            ux = ux[~pd.Series(key_xero[ux]).duplicated(keep=False).to_numpy()]
        li, ri = _pair([k[up] for k in kp], [k[ux] for k in kx])
        ps, xs = up[li], ux[ri]
        p_to_x[ps], x_taken[xs], p_method[ps] = xs, True, method

    alone = np.flatnonzero(~x_taken)
    return PaymentMatch(
        perfex_pos=np.concatenate([np.arange(n_p), np.full_like(alone, -1)]),
        xero_pos=np.concatenate([p_to_x, alone]),
        method=np.concatenate([p_method, np.zeros(len(alone), np.int8)]),
    )
