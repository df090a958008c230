"""Why an invoice row differs when the cause is one of its payments or a credit.

The sync's records of an invoice say only "synced, then edited" when what differs
is what was paid: the reason is on the invoice's flagged payment rows (a payment
typed in Xero, one deleted in Xero, one Xero refused: e.g. a payment mode mapped to
an account that is not a bank account) or in a Perfex credit the sync does not
send. ``join_payment_reasons`` gives such invoice rows their payments' what and why
(and the payment's action when there is one), and credit rows the reason credits
are not compared.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["CREDITS_WHY", "EDITED", "join_payment_reasons"]

EDITED = "and edited since on one side"
"""The end of the generic why: synced once, the sync's records know no more."""
CREDITS_WHY = (
    "Credits applied in Perfex are not sent to Xero: the credit-notes entity is off,"
    " so Xero does not know this credit"
)
PAID_CODES = {"paid_differs", "status_differs"}
SHOWN_PAYMENTS = 3


def _text(value: Any) -> str:
    """A cell as text ('' when missing)."""
    return "" if value is None or value is pd.NA or pd.isna(value) else str(value)


def _payment_keys(row: dict[str, Any]) -> list[tuple[str, str]]:
    """The keys of a payment row's invoice (Xero id, Perfex id)."""
    keys = []
    if xero := _text(row.get("xero_invoice_id")):
        keys.append(("x", xero))
    if perfex := _text(row.get("perfex_invoice_id")):
        keys.append(("p", perfex))
    return keys


def _invoice_keys(row: dict[str, Any]) -> list[tuple[str, str]]:
    """The keys of an invoice row (Xero id, Perfex id)."""
    keys = []
    if xero := _text(row.get("xero_invoice_id")):
        keys.append(("x", xero))
    if perfex := _text(row.get("perfex_id")):
        keys.append(("p", perfex))
    return keys


def _flagged(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with a category."""
    return frame[frame["discrepancy"].astype("str") != ""]


def _payments_by_invoice(payments: pd.DataFrame) -> dict[tuple[str, str], list]:
    """Flagged payments' (row, what, why, action) by their invoice's keys."""
    out: dict[tuple[str, str], list] = {}
    rows = _flagged(payments)
    for index, row in zip(rows.index, rows.to_dict("records"), strict=True):
        what, why = _text(row.get("what")), _text(row.get("why"))
        reason = (index, what, why, _text(row.get("action")))
        for key in _payment_keys(row):
            out.setdefault(key, []).append(reason)
    return out


def _paid_why(reasons: list[tuple[Any, str, str, str]]) -> str:
    """An invoice's why from its flagged payments."""
    parts = [f"{what}: {why}" if why else what for _, what, why, _ in reasons]
    shown = "; ".join(parts[:SHOWN_PAYMENTS])
    more = len(parts) - SHOWN_PAYMENTS
    return f"Its payments differ: {shown}" + (f" (and {more} more)" if more > 0 else "")


def join_payment_reasons(
    invoices: pd.DataFrame, payments: pd.DataFrame
) -> pd.DataFrame:
    """Invoice rows with only the generic why get their payments' or credit's."""
    if "why" not in invoices or "why" not in payments or not len(invoices):
        return invoices
    flagged = _flagged(invoices)
    generic = flagged[flagged["why"].astype("str").str.endswith(EDITED)]
    if not len(generic):
        return invoices
    by_invoice = _payments_by_invoice(payments)
    out = invoices.copy()
    for index, row in zip(generic.index, generic.to_dict("records"), strict=True):
        codes = set(str(row["discrepancy"]).split(";"))
        if codes == {"credit_not_synced"}:
            out.loc[index, "why"] = CREDITS_WHY
            continue
        if not codes & PAID_CODES:
            continue
        found: list = []
        for key in _invoice_keys(row):
            found += [r for r in by_invoice.get(key, []) if r not in found]
        if not found:
            continue
        out.loc[index, "why"] = _paid_why(found)
        actions = {r[3] for r in found} - {""}
        if len(actions) == 1:
            out.loc[index, "action"] = actions.pop()
    return out
