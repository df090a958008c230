"""The notebooks' helpers on a real synced world (Perfex SQLite, module DB, sandbox)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pxflask.reconcile.history import record_run
from pxflask.reconcile.notebook import invoice_timeline, open_sources
from pxflask.reconcile.notebook import run_from_parameters as run_with
from pxflask.reconcile.notebook_views import (
    billed_vs_collected,
    difference_chart,
    discrepancy_trend,
    freshness,
    month_end_views,
    reasons_table,
)
from pxflask.reconcile.reasons import REASON_COLUMNS
from pxflask.reconcile.report import POSTED_PERFEX_STATUSES, POSTED_XERO_STATUSES
from tests.xero.helpers import TEST_KEY


def _sources(world):
    """Sources of the notebooks on the world, Xero connected through the sandbox."""
    xero = {
        **world.sandbox.config,
        "XERO_GRANT": "client_credentials",
        "PXFLASK_ENCRYPTION_KEY": TEST_KEY,
    }
    return open_sources(
        world.perfex_url, world.module_url, world.instance_path, xero_settings=xero
    )


def _paid_xero_payment(world) -> dict:
    """A live Xero payment of an invoice Perfex also has."""
    return next(p for p in world.xero("Payments") if p.get("Status") != "DELETED")


def _void_unpaid(world) -> None:
    """Void an unpaid Xero invoice: its Perfex twin is flagged."""
    unpaid = next(
        i
        for i in world.xero("Invoices")
        if i["Status"] == "AUTHORISED" and not i["AmountPaid"]
    )
    world.sandbox.inject.void_invoice(unpaid["InvoiceID"])


def test_timeline_leaves_deleted_payments_out(world):
    """A payment deleted in Xero is not on the timeline; Perfex's stays."""
    payment = _paid_xero_payment(world)
    world.sandbox.inject.delete_payment(payment["PaymentID"])
    sources = _sources(world)
    try:
        run = run_with(sources, tolerance="0")
    finally:
        sources.close()
    pays = run.report.payments
    row = pays[pays["xero_payment_id"] == payment["PaymentID"]].iloc[0]
    assert row["xero_status"] == "DELETED"
    timeline = invoice_timeline(run, str(row["invoice_number"]))
    assert payment["PaymentID"] not in set(timeline["payment_id"])
    if row["perfex_payment_id"] == row["perfex_payment_id"]:  # not NaN
        perfex = timeline[timeline["side"] == "perfex"]["payment_id"]
        assert str(row["perfex_payment_id"]) in set(perfex)


def test_billed_vs_collected_equals_the_frames(world):
    """Per customer and currency; the grand totals per currency equal the frames."""
    payment = _paid_xero_payment(world)
    world.sandbox.inject.delete_payment(payment["PaymentID"])
    sources = _sources(world)
    try:
        report = run_with(sources, tolerance="0").report
    finally:
        sources.close()
    table = billed_vs_collected(report)
    assert not table.duplicated(["customer", "currency"]).any()
    inv, pays = report.invoices, report.payments
    live = pays[pays["xero_status"].fillna("") != "DELETED"]
    for currency, rows in table.groupby("currency"):
        mine = inv[inv["currency"] == currency]
        posted = mine[mine["perfex_status"].isin(POSTED_PERFEX_STATUSES)]
        assert rows["perfex_billed_cents"].sum() == posted["perfex_total_cents"].sum()
        posted = mine[mine["xero_status"].isin(POSTED_XERO_STATUSES)]
        assert rows["xero_billed_cents"].sum() == posted["xero_total_cents"].sum()
        paid = live[live["currency"] == currency]
        assert rows["xero_collected_cents"].sum() == paid["xero_amount_cents"].sum()
        paid = pays[pays["currency"] == currency]
        assert rows["perfex_collected_cents"].sum() == paid["perfex_amount_cents"].sum()
    assert table["xero_collected_cents"].sum() < table["perfex_collected_cents"].sum()
    diff = table["collected_difference_cents"]
    assert (
        diff == table["xero_collected_cents"] - table["perfex_collected_cents"]
    ).all()
    svg = difference_chart(table, "customer", "collected_difference_cents", "Paid")
    assert svg.startswith("<svg") and "Xero minus Perfex" in svg


def test_reasons_table_has_the_reason_columns(world):
    """Every flagged invoice with its what, why, action and links."""
    _void_unpaid(world)
    sources = _sources(world)
    try:
        report = run_with(sources, tolerance="0").report
    finally:
        sources.close()
    table = reasons_table(report, "invoices")
    assert list(table.columns[:2]) == ["discrepancy", "invoice_number"]
    assert set(REASON_COLUMNS) <= set(table.columns)
    assert len(table) == len(report.discrepancies("invoices")) > 0
    assert (table["what"].str.len() > 0).all()


def test_freshness_and_trend_read_the_history(world):
    """The snapshot's age, the kept report's, and one trend row per kept report."""
    _void_unpaid(world)
    sources = _sources(world)
    try:
        with sources.sessions() as session:
            assert discrepancy_trend(session).empty
            before = freshness(world.instance_path, session)
            assert before["when"].tolist()[0] == "never"
        runs = [run_with(sources, tolerance="0") for _ in range(2)]
        with sources.sessions() as session:
            for run in runs:
                record_run(
                    session,
                    run,
                    world.instance_path,
                    generated_by="test",
                    trigger="cli",
                    organisation="Demo",
                )
            later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=3)
            ages = freshness(world.instance_path, session, now=later)
            trend = discrepancy_trend(session)
        month_end = month_end_views(sources, dt.date.today().isoformat())
    finally:
        sources.close()
    assert all("(3 day(s) 0 hour(s) ago)" in w for w in ages["when"]), ages
    assert ages["when"].iloc[2].startswith("#2, ")
    assert trend["report"].tolist() == [1, 2]
    money = [c for c in trend.columns if c.startswith("money_at_stake_")]
    assert money and all(isinstance(v, Decimal) for v in trend[money].stack())
    assert set(month_end.frames) == {"collections", "as_at", "aging", "tax"}
    assert len(month_end.frames["aging"]) > 0
