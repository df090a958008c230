"""Loaders end to end: Perfex and the sandbox after a sync, injected discrepancies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa

from pxflask.reconcile import from_cents, reconcile
from pxflask.reconcile.loaders import (
    SnapshotMissing,
    clear_snapshot,
    load_inputs,
    load_xero,
    perfex_invoices,
    perfex_payments,
    read_snapshot,
    snapshot_tenants,
)
from pxflask.sandbox.regions import profile
from tests.fixtures.sandbox import TEST_REGION

NO_TAX = profile(TEST_REGION).no_tax  # the region's no-tax type: NONE, AU BASEXCLUDED


def _report(world, gateway=None, **kw):
    """Load both sides of the world and reconcile them."""
    with world.session() as session:
        inputs = load_inputs(
            world.perfex, session, gateway or world.gateway, world.instance_path, **kw
        )
    return inputs, reconcile(*inputs.args())


def _flagged(report, scope="invoices"):
    """{row key: discrepancy} of the flagged rows of a scope."""
    frame = report.discrepancies(scope)
    key = "invoice_number" if scope == "invoices" else "perfex_payment_id"
    return {
        (str(r[key]) if pd.notna(r[key]) else str(r["xero_payment_id"])): str(
            r["discrepancy"]
        )
        for _, r in frame.iterrows()
    }


def test_clean_after_full_sync(world):
    """Right after a full sync the two sides agree, matched through the links."""
    inputs, report = _report(world)
    assert not report.has_discrepancies, report.discrepancies("invoices")
    assert inputs.xero.mode == "full"
    statuses = set(inputs.perfex_invoices["status"])
    assert {"draft", "cancelled"} <= statuses
    linked = report.invoices[report.invoices["xero_invoice_id"].notna()]
    assert set(linked["matched_by"].astype(str)) == {"link"}
    assert len(report.payments) == len(inputs.perfex_payments) > 0


def test_perfex_frames_are_exact_cents(world):
    """Perfex totals become int64 cents; paid is payments plus applied credits."""
    invoices = perfex_invoices(world.perfex)
    for col in ("subtotal_cents", "tax_cents", "total_cents", "paid_cents"):
        assert invoices[col].dtype == "int64"
    payments = perfex_payments(world.perfex, invoices)
    assert payments["amount_cents"].dtype == "int64"
    with world.perfex.engine.connect() as conn:
        total = conn.execute(sa.text("SELECT total FROM tblinvoices WHERE id = 1"))
        expected = int(Decimal(str(total.scalar())) * 100)
    first = invoices.set_index("perfex_id").loc[1]
    assert first["total_cents"] == expected
    before = int(first["paid_cents"])
    with world.perfex.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tblcredits (invoice_id, credit_id, staff_id, date, "
                "date_applied, amount) VALUES (1, 1, 1, '2026-01-02', "
                "'2026-01-02 10:00:00', 12.34)"
            )
        )
    again = perfex_invoices(world.perfex).set_index("perfex_id").loc[1]
    assert int(again["paid_cents"]) == before + 1234


def test_rerun_costs_at_most_two_calls(world):
    """The second load asks only for changes: one call per kind, nothing new."""
    first = load_xero(world.gateway, world.instance_path)
    assert first.mode == "full" and first.calls == 2
    gateway = world.make_gateway()
    again = load_xero(gateway, world.instance_path)
    assert again.mode == "incremental"
    assert again.calls <= 2
    assert gateway.stats.snapshot()["total"] <= 2
    pd.testing.assert_frame_equal(first.invoices, again.invoices)
    pd.testing.assert_frame_equal(first.payments, again.payments)


def test_snapshot_follows_changes_and_can_be_cleared(world):
    """A Xero change after the first load is merged; clearing forces a full load."""
    load_xero(world.gateway, world.instance_path)
    contact = world.xero("Contacts")[0]
    made = world.sandbox.inject.invoice(contact["ContactID"])
    again = load_xero(world.make_gateway(), world.instance_path)
    assert again.fetched["invoices"] >= 1
    assert made["InvoiceID"].lower() in set(again.invoices["xero_invoice_id"])
    offline = read_snapshot(world.instance_path)
    assert offline.mode == "snapshot" and offline.calls == 0
    assert len(offline.invoices) == len(again.invoices)
    assert snapshot_tenants(world.instance_path) == [world.sandbox.tenant_id.lower()]
    assert clear_snapshot(world.instance_path) == 1
    with pytest.raises(SnapshotMissing):
        read_snapshot(world.instance_path)
    assert load_xero(world.make_gateway(), world.instance_path).mode == "full"


def _unpaid_invoice(world):
    """(perfex id, number, Xero id) of an unpaid, unpaid-in-Xero invoice."""
    invoices = perfex_invoices(world.perfex)
    row = invoices[invoices["status"].isin(["unpaid", "overdue"])].iloc[0]
    return (
        int(row["perfex_id"]),
        str(row["invoice_number"]),
        world.link("invoices", int(row["perfex_id"])),
    )


def _paid_invoice_payment(world):
    """(payment id, invoice number) of a payment of a fully paid invoice."""
    invoices = perfex_invoices(world.perfex).set_index("perfex_id")
    payments = perfex_payments(world.perfex)
    for _, pay in payments.iterrows():
        if invoices.loc[pay["perfex_invoice_id"], "status"] == "paid":
            return int(pay["perfex_payment_id"]), str(pay["invoice_number"])
    raise AssertionError("no paid invoice")


def test_changed_total_flags_that_invoice_only(world):
    """An invoice edited in Xero: total_differs on it, nothing else."""
    _, number, xero_id = _unpaid_invoice(world)
    world.sandbox.inject.update(
        "Invoices",
        xero_id,
        {
            "LineItems": [
                {
                    "Description": "Edited in Xero",
                    "Quantity": 1,
                    "UnitAmount": "1.00",
                    "AccountCode": "200",
                    "TaxType": NO_TAX,
                }
            ]
        },
    )
    _, report = _report(world)
    flagged = _flagged(report)
    assert list(flagged) == [number]
    assert "total_differs" in flagged[number].split(";")
    assert _flagged(report, "payments") == {}


def test_voided_invoice_flags_status(world):
    """An invoice voided in Xero while unpaid in Perfex: status_differs only."""
    _, number, xero_id = _unpaid_invoice(world)
    world.sandbox.inject.void_invoice(xero_id)
    _, report = _report(world)
    assert _flagged(report) == {number: "status_differs"}


def test_deleted_payment_flags_payment_and_its_invoice(world):
    """A payment deleted in Xero: missing on the payment; paid/status on the invoice."""
    payment_id, number = _paid_invoice_payment(world)
    world.sandbox.inject.delete_payment(world.link("payments", payment_id))
    _, report = _report(world)
    assert _flagged(report, "payments") == {str(payment_id): "missing_in_xero"}
    flagged = _flagged(report)
    assert list(flagged) == [number]
    assert set(flagged[number].split(";")) == {"paid_differs", "status_differs"}


def test_xero_only_invoice_is_flagged(world):
    """An invoice typed into Xero without Perfex: only_in_xero, nothing else."""
    total = str(from_cents(perfex_invoices(world.perfex)["total_cents"].iloc[0]))
    contact = world.sandbox.inject.contact("Walk-in Customer Ltd")
    made = world.sandbox.inject.invoice(
        contact["ContactID"],
        lines=[
            {
                "Description": "Typed into Xero",
                "Quantity": 1,
                "UnitAmount": total,
                "AccountCode": "200",
                "TaxType": NO_TAX,
            }
        ],
        Date="2026-01-15",
    )
    _, report = _report(world)
    assert _flagged(report) == {made["InvoiceNumber"]: "only_in_xero"}


def test_xero_only_invoice_with_a_new_total_is_flagged(world):
    """A Xero-only invoice whose total no Perfex invoice has: only_in_xero."""
    contact = world.sandbox.inject.contact("Walk-in Customer Ltd")
    made = world.sandbox.inject.invoice(contact["ContactID"], Date="2026-01-15")
    _, report = _report(world)
    assert _flagged(report) == {made["InvoiceNumber"]: "only_in_xero"}


def test_duplicate_in_xero_is_flagged(world):
    """A second live Xero invoice with the customer, date and total of a Perfex one."""
    pid, number, xero_id = _unpaid_invoice(world)
    original = world.sandbox.inject.get("Invoices", xero_id)
    copy = world.sandbox.inject.invoice(
        original["Contact"]["ContactID"],
        lines=[
            {
                "Description": "Entered twice",
                "Quantity": 1,
                "UnitAmount": str(original["Total"]),
                "AccountCode": "200",
                "TaxType": NO_TAX,
            }
        ],
        Date=original["DateString"][:10],
        CurrencyCode=original["CurrencyCode"],
    )
    _, report = _report(world)
    flagged = report.discrepancies("invoices")
    assert len(flagged) == 1
    row = flagged.iloc[0]
    assert str(row["discrepancy"]) == "duplicate_in_xero"
    assert row["xero_invoice_id"] == copy["InvoiceID"].lower()
    assert int(row["perfex_id"]) == pid


def test_xero_only_payment_is_flagged(world):
    """A payment entered in Xero only: only_in_xero, and the invoice's paid differs."""
    _, number, xero_id = _unpaid_invoice(world)
    made = world.sandbox.inject.payment(
        xero_id, Decimal("1.00"), on=dt.date(2026, 2, 1)
    )
    _, report = _report(world)
    assert _flagged(report, "payments") == {made["PaymentID"].lower(): "only_in_xero"}
    assert _flagged(report) == {number: "paid_differs"}


def test_missing_in_xero_is_flagged(world):
    """A Perfex invoice the sync has not sent yet: missing_in_xero."""
    inv = world.perfex.tables.invoices
    with world.perfex.engine.begin() as conn:
        row = dict(conn.execute(sa.select(inv).where(inv.c.id == 1)).mappings().one())
        row.update(id=999, number=999, hash="f" * 32, status=1)
        if "formatted_number" in row:
            row["formatted_number"] = "INV-000999"
        conn.execute(sa.insert(inv).values(**row))
    _, report = _report(world)
    assert _flagged(report) == {"INV-000999": "missing_in_xero"}
