"""One injected discrepancy is flagged on exactly its record, with only its category."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pytest

from pxflask.reconcile import reconcile
from pxflask.reconcile.stake import category_totals
from tests.reconcile.helpers import (
    Inputs,
    clean_inputs,
    flagged,
    perfex_with_status,
    unpaid_without_payments,
    xero_row,
)


@pytest.fixture(params=[True, False], ids=["links", "no-links"])
def inputs(request: pytest.FixtureRequest) -> Inputs:
    """Clean inputs, with and without the sync's link table."""
    return clean_inputs(links=request.param)


def _only(report: object, scope: str, category: str) -> pd.Series:
    """Assert exactly one flagged row in ``scope`` and none in the other; return it."""
    frame = getattr(report, scope)
    other = "payments" if scope == "invoices" else "invoices"
    bad = flagged(frame)
    assert len(bad) == 1, bad[["invoice_number", "discrepancy"]]
    assert flagged(getattr(report, other)).empty
    row = bad.iloc[0]
    assert row["discrepancy"] == category
    counts = category_totals(report.summary).set_index(["scope", "category"])["count"]
    assert counts[(scope, category)] == 1
    assert counts.sum() == 1
    totals = report.summary[report.summary["scope"] == "all"]
    assert totals["count"].tolist() == [1]  # one row counted once, in its currency
    assert totals["currency"].tolist() == [row["currency"]]
    assert totals["money_at_stake_cents"].tolist() == [row["money_at_stake_cents"]]
    assert report.has_discrepancies
    return row


def test_clean_run_has_no_discrepancy(inputs: Inputs) -> None:
    """Agreeing sides (drafts absent, cancelled voided) give a clean report."""
    report = reconcile(*inputs.args())
    assert flagged(report.invoices).empty
    assert flagged(report.payments).empty
    assert not report.has_discrepancies
    assert (report.summary["count"] == 0).all()
    assert len(report.summary) == 15  # 10 + 4 categories and the total
    assert len(report.invoices) == len(inputs.perfex_invoices)
    assert len(report.payments) == len(inputs.perfex_payments)


def _drop_xero_invoice(inputs: Inputs, perfex_id: int) -> Inputs:
    """Remove the Xero copy of a Perfex invoice (and its link)."""
    pos = xero_row(inputs, perfex_id)
    xid = inputs.xero_invoices.at[pos, "xero_invoice_id"]
    links = inputs.links
    if links is not None:
        links = links[links["xero_id"] != xid]
    return inputs.with_(xero_invoices=inputs.xero_invoices.drop(index=pos), links=links)


def _set(inputs: Inputs, perfex_id: int, **values: object) -> Inputs:
    """Change fields of the Xero copy of a Perfex invoice."""
    xero = inputs.xero_invoices.copy()
    pos = xero_row(inputs, perfex_id)
    for col, value in values.items():
        if callable(value):
            value = value(xero.at[pos, col])
        xero.at[pos, col] = value
    return inputs.with_(xero_invoices=xero)


def _add_xero(inputs: Inputs, perfex_id: int, **values: object) -> tuple[Inputs, str]:
    """Append a copy of a Xero invoice with a new id and some fields changed."""
    xero = inputs.xero_invoices
    row = xero.loc[[xero_row(inputs, perfex_id)]].copy()
    row["xero_invoice_id"] = "11111111-2222-3333-4444-555555555555"
    for col, value in values.items():
        row[col] = value
    return inputs.with_(xero_invoices=pd.concat([xero, row], ignore_index=True)), str(
        row["xero_invoice_id"].iloc[0]
    )


INVOICE_CASES: dict[str, Callable[[Inputs, int], Inputs]] = {
    "total_differs": lambda i, p: _set(i, p, total_cents=lambda v: v + 5),
    "subtotal_differs": lambda i, p: _set(i, p, subtotal_cents=lambda v: v - 7),
    "tax_differs": lambda i, p: _set(i, p, tax_cents=lambda v: v + 2),
    "paid_differs": lambda i, p: _set(i, p, paid_cents=lambda v: v + 100),
    "currency_differs": lambda i, p: _set(
        i, p, currency=lambda v: "EUR" if v != "EUR" else "GBP"
    ),
    "status_differs": lambda i, p: _set(i, p, status="PAID"),
}


@pytest.mark.parametrize("category", sorted(INVOICE_CASES))
def test_invoice_field_discrepancy(inputs: Inputs, category: str) -> None:
    """A changed field of one Xero invoice flags that invoice with that category."""
    perfex_id = unpaid_without_payments(inputs)
    report = reconcile(*INVOICE_CASES[category](inputs, perfex_id).args())
    row = _only(report, "invoices", category)
    assert row["perfex_id"] == perfex_id
    assert row["matched_by"] == ("link" if inputs.links is not None else "number")


def test_missing_in_xero(inputs: Inputs) -> None:
    """A Perfex invoice absent from Xero is missing_in_xero."""
    perfex_id = unpaid_without_payments(inputs)
    report = reconcile(*_drop_xero_invoice(inputs, perfex_id).args())
    row = _only(report, "invoices", "missing_in_xero")
    assert row["perfex_id"] == perfex_id
    assert pd.isna(row["xero_invoice_id"])
    assert row["matched_by"] == ""
    stake = report.summary.set_index("category").loc["missing_in_xero"]
    assert stake["money_at_stake_cents"].iloc[0] == row["perfex_total_cents"]


def test_missing_invoice_keeps_its_payments_matched(inputs: Inputs) -> None:
    """Payments still pair (by invoice number) when their Xero invoice is gone."""
    paid = inputs.perfex_payments["perfex_invoice_id"].iloc[0]
    report = reconcile(*_drop_xero_invoice(inputs, int(paid)).args())
    row = _only(report, "invoices", "missing_in_xero")
    assert row["perfex_id"] == paid


def test_only_in_xero(inputs: Inputs) -> None:
    """A Xero invoice unknown to Perfex is only_in_xero."""
    perfex_id = unpaid_without_payments(inputs)
    changed, xid = _add_xero(
        inputs, perfex_id, invoice_number="XO-1", contact_name="Stranger Ltd"
    )
    row = _only(reconcile(*changed.args()), "invoices", "only_in_xero")
    assert row["xero_invoice_id"] == xid
    assert pd.isna(row["perfex_id"])


def test_duplicate_in_xero(inputs: Inputs) -> None:
    """A second live Xero invoice with the same number is duplicate_in_xero."""
    perfex_id = unpaid_without_payments(inputs)
    changed, xid = _add_xero(inputs, perfex_id)
    report = reconcile(*changed.args())
    row = _only(report, "invoices", "duplicate_in_xero")
    assert row["xero_invoice_id"] == xid
    assert row["perfex_id"] == perfex_id
    assert (report.invoices["perfex_id"] == perfex_id).sum() == 2


def test_duplicate_with_other_case_and_spaces(inputs: Inputs) -> None:
    """Numbers are compared trimmed and case-insensitively."""
    perfex_id = unpaid_without_payments(inputs)
    number = inputs.perfex_invoices.set_index("perfex_id").at[
        perfex_id, "invoice_number"
    ]
    changed, xid = _add_xero(inputs, perfex_id, invoice_number=f"  {number.lower()} ")
    row = _only(reconcile(*changed.args()), "invoices", "duplicate_in_xero")
    assert row["xero_invoice_id"] == xid


def test_voided_extra_copy_is_clean(inputs: Inputs) -> None:
    """A VOIDED second copy of an invoice is not a duplicate."""
    perfex_id = unpaid_without_payments(inputs)
    changed, _ = _add_xero(inputs, perfex_id, status="VOIDED")
    report = reconcile(*changed.args())
    assert not report.has_discrepancies


def test_voided_only_in_xero_is_clean(inputs: Inputs) -> None:
    """A VOIDED or DELETED Xero invoice unknown to Perfex has no ledger effect."""
    perfex_id = unpaid_without_payments(inputs)
    changed, _ = _add_xero(
        inputs, perfex_id, invoice_number="XO-9", contact_name="Gone", status="DELETED"
    )
    assert not reconcile(*changed.args()).has_discrepancies


@pytest.mark.parametrize(
    ("perfex_status", "xero_status", "differs"),
    [
        ("cancelled", "AUTHORISED", True),
        ("cancelled", "PAID", True),
        ("cancelled", "VOIDED", False),
        ("cancelled", "DELETED", False),
        ("paid", "AUTHORISED", True),
        ("paid", "PAID", False),
        ("unpaid", "PAID", True),
        ("unpaid", "VOIDED", True),
        ("unpaid", "DRAFT", True),
        ("overdue", "AUTHORISED", False),
        ("partially_paid", "AUTHORISED", False),
    ],
)
def test_status_rules(perfex_status: str, xero_status: str, differs: bool) -> None:
    """Perfex status against Xero status, by the documented table."""
    inputs = clean_inputs()
    perfex_id = perfex_with_status(inputs, perfex_status)
    report = reconcile(*_set(inputs, perfex_id, status=xero_status).args())
    bad = flagged(report.invoices)
    if differs:
        assert bad["perfex_id"].tolist() == [perfex_id]
        assert bad["discrepancy"].tolist() == ["status_differs"]
    else:
        assert bad.empty


@pytest.mark.parametrize(
    ("xero_status", "differs"), [("DRAFT", False), ("AUTHORISED", True)]
)
def test_perfex_draft_present_in_xero(
    inputs: Inputs, xero_status: str, differs: bool
) -> None:
    """A Perfex draft may sit in Xero as DRAFT; any posted status differs."""
    perfex = inputs.perfex_invoices
    draft = perfex[perfex["status"] == "draft"].iloc[0]
    other = unpaid_without_payments(inputs)
    changed, xid = _add_xero(
        inputs,
        other,
        invoice_number="INV-DRAFT",
        contact_name=draft["customer_name"],
        date=draft["date"],
        total_cents=draft["total_cents"],
        subtotal_cents=draft["subtotal_cents"],
        tax_cents=draft["tax_cents"],
        currency=draft["currency"],
        paid_cents=0,
        status=xero_status,
    )
    report = reconcile(*changed.args())
    row = report.invoices[report.invoices["xero_invoice_id"] == xid].iloc[0]
    assert row["perfex_id"] == draft["perfex_id"]
    assert row["matched_by"] == "fuzzy"
    bad = flagged(report.invoices)
    if differs:
        assert bad["xero_invoice_id"].tolist() == [xid]
        assert bad["discrepancy"].tolist() == ["status_differs"]
    else:
        assert bad.empty


# payments


def _pay_set(inputs: Inputs, pos: int, **values: object) -> Inputs:
    """Change fields of one Xero payment."""
    xero = inputs.xero_payments.copy()
    for col, value in values.items():
        xero.at[pos, col] = value
    return inputs.with_(xero_payments=xero)


def test_payment_missing_in_xero(inputs: Inputs) -> None:
    """A Perfex payment absent from Xero is missing_in_xero."""
    xid = inputs.xero_payments.at[3, "xero_payment_id"]
    links = inputs.links
    if links is not None:
        links = links[links["xero_id"] != xid]
    changed = inputs.with_(
        xero_payments=inputs.xero_payments.drop(index=3), links=links
    )
    row = _only(reconcile(*changed.args()), "payments", "missing_in_xero")
    assert row["perfex_payment_id"] == inputs.perfex_payments.at[3, "perfex_payment_id"]


def test_deleted_xero_payment_is_missing(inputs: Inputs) -> None:
    """A Perfex payment whose Xero payment was DELETED is missing_in_xero."""
    row = _only(
        reconcile(*_pay_set(inputs, 4, status="DELETED").args()),
        "payments",
        "missing_in_xero",
    )
    assert row["perfex_payment_id"] == inputs.perfex_payments.at[4, "perfex_payment_id"]


def test_payment_only_in_xero(inputs: Inputs) -> None:
    """A Xero payment unknown to Perfex is only_in_xero."""
    extra = inputs.xero_payments.loc[[5]].copy()
    extra["xero_payment_id"] = "99999999-2222-3333-4444-555555555555"
    extra["amount_cents"] = 123_456_789
    changed = inputs.with_(
        xero_payments=pd.concat([inputs.xero_payments, extra], ignore_index=True)
    )
    row = _only(reconcile(*changed.args()), "payments", "only_in_xero")
    assert row["xero_payment_id"] == "99999999-2222-3333-4444-555555555555"


def test_payment_amount_differs(inputs: Inputs) -> None:
    """A changed Xero payment amount is amount_differs."""
    amount = inputs.xero_payments.at[6, "amount_cents"] + 100
    row = _only(
        reconcile(*_pay_set(inputs, 6, amount_cents=amount).args()),
        "payments",
        "amount_differs",
    )
    assert row["perfex_payment_id"] == inputs.perfex_payments.at[6, "perfex_payment_id"]
    assert row["money_at_stake_cents"] == 100


def test_payment_date_differs(inputs: Inputs) -> None:
    """A changed Xero payment date is date_differs."""
    day = inputs.xero_payments.at[7, "date"] + pd.Timedelta(days=2)
    row = _only(
        reconcile(*_pay_set(inputs, 7, date=day).args()), "payments", "date_differs"
    )
    assert row["perfex_payment_id"] == inputs.perfex_payments.at[7, "perfex_payment_id"]


# tolerance


@pytest.mark.parametrize(
    ("delta", "tolerance", "differs"),
    [
        (1, Decimal("0.01"), False),
        (2, Decimal("0.01"), True),
        (1, Decimal("0"), True),
        (1, "0.015", False),
        (2, "0.015", True),
        (100, Decimal("1.00"), False),
        (101, Decimal("1.00"), True),
    ],
)
def test_tolerance(delta: int, tolerance: object, differs: bool) -> None:
    """Amounts differ when |perfex - xero| > tolerance."""
    inputs = clean_inputs()
    perfex_id = unpaid_without_payments(inputs)
    changed = _set(inputs, perfex_id, total_cents=lambda v: v + delta)
    amount = changed.xero_payments.at[0, "amount_cents"] - delta
    changed = _pay_set(changed, 0, amount_cents=amount)
    report = reconcile(*changed.args(), tolerance=tolerance)
    inv = flagged(report.invoices)["discrepancy"].tolist()
    pay = flagged(report.payments)["discrepancy"].tolist()
    assert inv == (["total_differs"] if differs else [])
    assert pay == (["amount_differs"] if differs else [])


def test_negative_tolerance_is_refused() -> None:
    """A negative tolerance is an error."""
    with pytest.raises(ValueError, match="tolerance"):
        reconcile(*clean_inputs().args(), tolerance=Decimal("-0.01"))
