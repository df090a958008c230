"""Clean reconciliation inputs for the tests and small helpers to break them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd

from pxflask.reconcile.synthetic import Dataset, make_dataset


@dataclass(frozen=True)
class Inputs:
    """The five input frames of one reconciliation."""

    perfex_invoices: pd.DataFrame
    xero_invoices: pd.DataFrame
    perfex_payments: pd.DataFrame
    xero_payments: pd.DataFrame
    links: pd.DataFrame | None

    def with_(self, **frames: pd.DataFrame | None) -> Inputs:
        """A copy with some frames replaced."""
        return replace(self, **frames)

    def args(self) -> tuple[pd.DataFrame | None, ...]:
        """Positional arguments for ``reconcile``."""
        return (
            self.perfex_invoices,
            self.xero_invoices,
            self.perfex_payments,
            self.xero_payments,
            self.links,
        )


@lru_cache(maxsize=16)
def _dataset(links: bool, n: int, seed: int) -> Dataset:
    """The generated data of ``clean_inputs`` (generated once per session)."""
    return make_dataset(n, n_payments=n, seed=seed, links=links)


def clean_inputs(links: bool = True, n: int = 60, seed: int = 7) -> Inputs:
    """Both sides agreeing, with drafts (absent in Xero) and cancelled (VOIDED)."""
    d = _dataset(links, n, seed)
    return Inputs(
        d.perfex_invoices.copy(),
        d.xero_invoices.copy(),
        d.perfex_payments.copy(),
        d.xero_payments.copy(),
        d.links.copy() if links else None,
    )


def perfex_with_status(inputs: Inputs, status: str) -> int:
    """The perfex_id of the first Perfex invoice with ``status`` (paid-for or not)."""
    frame = inputs.perfex_invoices
    return int(frame.loc[frame["status"] == status, "perfex_id"].iloc[0])


def xero_row(inputs: Inputs, perfex_id: int) -> int:
    """Position in the Xero invoices of the copy of a Perfex invoice."""
    number = inputs.perfex_invoices.set_index("perfex_id").at[
        perfex_id, "invoice_number"
    ]
    rows = inputs.xero_invoices.index[inputs.xero_invoices["invoice_number"] == number]
    return int(rows[0])


def unpaid_without_payments(inputs: Inputs) -> int:
    """An unpaid Perfex invoice that has no payments on either side."""
    paid_for = set(inputs.perfex_payments["perfex_invoice_id"])
    frame = inputs.perfex_invoices
    ok = (frame["status"] == "unpaid") & ~frame["perfex_id"].isin(paid_for)
    return int(frame.loc[ok, "perfex_id"].iloc[0])


def flagged(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a discrepancy."""
    return frame[frame["discrepancy"] != ""]
