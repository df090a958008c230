"""The Xero id columns of a reconciliation run, factorised once for every stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pxflask.reconcile._text import factorize_text, first_positions

__all__ = ["XeroIds", "xero_ids"]


@dataclass(frozen=True)
class XeroIds:
    """Joint codes of every Xero id column of a run, factorised once."""

    invoice: np.ndarray  # xero_invoices.xero_invoice_id
    payment: np.ndarray  # xero_payments.xero_payment_id
    payment_invoice: np.ndarray  # xero_payments.xero_invoice_id
    link: np.ndarray  # links.xero_id
    n_codes: int

    def first(self, codes: np.ndarray) -> np.ndarray:
        """First position of each code in ``codes`` (-1 when absent)."""
        return first_positions(codes, self.n_codes)


def xero_ids(
    xero_invoices: pd.DataFrame,
    xero_payments: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
) -> XeroIds:
    """Factorise the Xero id columns of the run jointly."""
    empty = pd.Series([], dtype="str")
    cols = [
        xero_invoices["xero_invoice_id"],
        empty if xero_payments is None else xero_payments["xero_payment_id"],
        empty if xero_payments is None else xero_payments["xero_invoice_id"],
        empty if links is None else links["xero_id"],
    ]
    codes = factorize_text(*cols)
    n_codes = max((int(c.max(initial=-1)) for c in codes), default=-1) + 1
    invoice, payment, payment_invoice, link = codes
    return XeroIds(invoice, payment, payment_invoice, link, n_codes=n_codes)
