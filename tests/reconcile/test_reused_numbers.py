"""A reused number sent as <number>-2 matches its Perfex invoice without links."""

from __future__ import annotations

import pandas as pd

from pxflask.reconcile import reconcile
from tests.reconcile.helpers import clean_inputs, unpaid_without_payments


def _reused(links: bool):
    """Inputs where Xero holds the number voided and the invoice as <number>-2."""
    inputs = clean_inputs(links=links)
    perfex_id = unpaid_without_payments(inputs)
    number = inputs.perfex_invoices.set_index("perfex_id").at[
        perfex_id, "invoice_number"
    ]
    xero = inputs.xero_invoices.copy()
    mine = xero["invoice_number"] == number
    renumbered = xero[mine].copy()
    renumbered["xero_invoice_id"] = "00000000-0000-4000-8000-0000000000aa"
    renumbered["invoice_number"] = f"{number}-2"
    xero.loc[mine, "status"] = "VOIDED"
    xero = pd.concat([xero, renumbered], ignore_index=True)
    return inputs.with_(xero_invoices=xero), perfex_id, number


def test_renumbered_invoice_is_matched_by_number_and_the_voided_one_is_a_copy():
    """No links: the live <number>-2 pairs with the Perfex invoice, nothing flagged."""
    inputs, perfex_id, number = _reused(links=False)
    report = reconcile(*inputs.args())
    rows = report.invoices
    main = rows[(rows["perfex_id"] == perfex_id) & ~rows["extra_copy"]].iloc[0]
    assert main["matched_by"] == "number"
    assert main["xero_invoice_number"] == f"{number}-2"
    copy = rows[rows["xero_invoice_number"] == number].iloc[0]
    assert bool(copy["extra_copy"]) and copy["xero_status"] == "VOIDED"
    assert not report.has_discrepancies, report.discrepancies()


def test_a_perfex_number_that_looks_suffixed_keeps_its_own_match():
    """A Perfex number ending in -2 itself is matched exactly, not as a reuse."""
    inputs = clean_inputs(links=False)
    perfex = inputs.perfex_invoices.copy()
    xero = inputs.xero_invoices.copy()
    perfex_id = unpaid_without_payments(inputs)
    number = perfex.set_index("perfex_id").at[perfex_id, "invoice_number"]
    perfex.loc[perfex["perfex_id"] == perfex_id, "invoice_number"] = f"{number}-2"
    xero.loc[xero["invoice_number"] == number, "invoice_number"] = f"{number}-2"
    report = reconcile(*inputs.with_(perfex_invoices=perfex, xero_invoices=xero).args())
    row = report.invoices.set_index("perfex_id").loc[perfex_id]
    assert row["matched_by"] == "number"
    assert not report.has_discrepancies
