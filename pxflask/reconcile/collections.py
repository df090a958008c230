"""Collections: money received per month, currency, customer, mode and bank account.

Perfex payments name their mode (``tblpayment_modes``; gateways by id) and the Xero
bank account the sync posts the mode to; Xero payments carry their real account
(from the month-end extras), the mode of the Perfex payment they are linked to and
the name of the Perfex customer their contact is linked to (else the contact's).
Deleted Xero payments are left out; only payments dated in the period count.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

__all__ = ["COLLECTION_KEYS", "ONLY_XERO_MODE", "collections", "side_by_side"]

COLLECTION_KEYS = ["month", "currency", "customer", "payment_mode", "bank_account"]
ONLY_XERO_MODE = "(no Perfex payment)"
NO_ACCOUNT = "(no account)"


def _account(accounts: dict[str, str], code: str) -> str:
    """'code name' of an account code from the chart; NO_ACCOUNT when none."""
    return accounts.get(code, code) or NO_ACCOUNT


def side_by_side(
    perfex: pd.DataFrame, xero: pd.DataFrame, keys: list[str]
) -> pd.DataFrame:
    """Sum ``amount_cents`` of both sides by ``keys``: perfex, xero, difference."""
    left = (
        perfex.groupby(keys, dropna=False)["amount_cents"].sum().rename("perfex_cents")
    )
    right = xero.groupby(keys, dropna=False)["amount_cents"].sum().rename("xero_cents")
    both = pd.concat([left, right], axis=1).fillna(0).astype("int64").reset_index()
    both["difference_cents"] = both["xero_cents"] - both["perfex_cents"]
    return both.sort_values(keys, kind="stable").reset_index(drop=True)


def _in_period(
    dates: pd.Series, date_from: dt.date | None, as_at: dt.date
) -> pd.Series:
    """True for dates from ``date_from`` (if any) up to ``as_at``."""
    ok = dates <= pd.Timestamp(as_at)
    if date_from is not None:
        ok &= dates >= pd.Timestamp(date_from)
    return ok


def _customers(p_inv: pd.DataFrame, x_inv: pd.DataFrame) -> pd.Series:
    """Xero invoice id -> the linked Perfex customer's name, else the contact's."""
    names = p_inv.drop_duplicates("customer_id").set_index("customer_id")[
        "customer_name"
    ]
    names.index = names.index.astype("str")
    perfex = x_inv["contact_number"].map(names)
    return pd.Series(
        perfex.fillna(x_inv["contact_name"]).to_numpy(), index=x_inv["xero_invoice_id"]
    )


def collections(
    p_inv: pd.DataFrame,
    p_pay: pd.DataFrame,
    x_inv: pd.DataFrame,
    x_pay: pd.DataFrame,
    links: pd.DataFrame,
    *,
    modes: dict[str, str],
    mode_account: dict[str, str],
    accounts: dict[str, str],
    x_accounts: pd.DataFrame | None,
    as_at: dt.date,
    date_from: dt.date | None = None,
) -> pd.DataFrame:
    """Payments of the period on both sides, side by side (integer cents).

    ``mode_account`` maps a mode id to its account code, ``accounts`` a code to
    'code name'; ``x_accounts`` holds xero_payment_id and account_code.
    """
    customers = p_inv.set_index("perfex_id")["customer_name"]
    perfex = p_pay[_in_period(p_pay["date"], date_from, as_at)]
    perfex = pd.DataFrame(
        {
            "month": perfex["date"].dt.strftime("%Y-%m"),
            "currency": perfex["currency"],
            "customer": perfex["perfex_invoice_id"].map(customers).fillna(""),
            "payment_mode": [modes.get(str(m), str(m)) for m in perfex["mode"]],
            "bank_account": [
                _account(accounts, mode_account.get(str(m), "")) for m in perfex["mode"]
            ],
            "amount_cents": perfex["amount_cents"],
        }
    )
    xero = x_pay[
        (x_pay["status"] != "DELETED") & _in_period(x_pay["date"], date_from, as_at)
    ]
    contacts = _customers(p_inv, x_inv)
    pay_links = links[links["entity"] == "payments"].set_index("xero_id")["perfex_id"]
    perfex_mode = p_pay.set_index("perfex_payment_id")["mode"]
    linked = xero["xero_payment_id"].map(pay_links)
    mode_ids = linked.map(perfex_mode)
    codes = (
        xero["xero_payment_id"].map(
            x_accounts.set_index("xero_payment_id")["account_code"]
        )
        if x_accounts is not None and not x_accounts.empty
        else pd.Series("", index=xero.index)
    )
    xero = pd.DataFrame(
        {
            "month": xero["date"].dt.strftime("%Y-%m"),
            "currency": xero["currency"],
            "customer": xero["xero_invoice_id"].map(contacts).fillna(""),
            "payment_mode": [
                ONLY_XERO_MODE if pd.isna(m) else modes.get(str(m), str(m))
                for m in mode_ids
            ],
            "bank_account": [
                _account(accounts, "" if pd.isna(c) else str(c)) for c in codes
            ],
            "amount_cents": xero["amount_cents"],
        }
    )
    return side_by_side(perfex, xero, COLLECTION_KEYS)
