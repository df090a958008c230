"""`pxflask reconcile`: exit statuses, the summary and the output files."""

from __future__ import annotations

import csv

from pxflask.extensions import db
from pxflask.queueing import close_queue
from pxflask.reconcile.export import OUTPUT_FILES

CONTRACT_INVOICE_COLUMNS = {
    "invoice_number",
    "perfex_id",
    "xero_invoice_id",
    "matched_by",
    "origin",
    "perfex_total",
    "xero_total",
    "currency",
    "discrepancy",
}
CONTRACT_PAYMENT_COLUMNS = {
    "perfex_payment_id",
    "xero_payment_id",
    "invoice_number",
    "origin",
    "perfex_amount",
    "xero_amount",
    "discrepancy",
}


def _invoke(app, *args):
    """Run `pxflask reconcile ARGS` against the app."""
    return app.test_cli_runner().invoke(args=["reconcile", *args])


def test_clean_run_exits_0_and_writes_every_file(world_app, tmp_path):
    """No discrepancy: exit 0, a summary table, the five files of the README."""
    out = tmp_path / "out"
    result = _invoke(world_app, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "result: no discrepancy" in result.output
    assert "missing_in_xero" in result.output
    assert "full load, 2 call(s)" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    with (out / "invoices.csv").open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert CONTRACT_INVOICE_COLUMNS <= set(rows[0])
    assert all(row["discrepancy"] == "" for row in rows)
    assert {row["origin"] for row in rows} == {"perfex"}  # all pushed, none pulled
    with (out / "payments.csv").open(newline="", encoding="utf-8-sig") as f:
        payments = list(csv.DictReader(f))
    assert CONTRACT_PAYMENT_COLUMNS <= set(payments[0])
    assert {row["origin"] for row in payments} == {"perfex"}
    with (out / "summary.csv").open(newline="", encoding="utf-8-sig") as f:
        summary = list(csv.DictReader(f))
    assert {r["category"] for r in summary} >= {"total_differs", "amount_differs"}
    again = _invoke(world_app)
    assert again.exit_code == 0 and "incremental load" in again.output


def test_discrepancy_exits_1(world, world_app):
    """A Xero invoice voided behind Perfex's back: exit 1 and the category shown."""
    invoices = [
        i
        for i in world.xero("Invoices")
        if i["Status"] == "AUTHORISED" and not i["AmountPaid"]
    ]
    assert invoices
    world.sandbox.inject.void_invoice(invoices[0]["InvoiceID"])
    result = _invoke(world_app, "--tolerance", "0")
    assert result.exit_code == 1, result.output
    assert "result: discrepancies found" in result.output
    line = next(x for x in result.output.splitlines() if "status_differs" in x)
    assert line.split()[3] == "1"  # scope, category, currency, count


def test_date_window_and_bad_options(world_app):
    """--from/--to narrow the report; a bad tolerance or window exits 2."""
    assert _invoke(world_app, "--from", "2099-01-01").exit_code == 0
    bad = _invoke(world_app, "--tolerance", "-1")
    assert bad.exit_code == 2 and "tolerance" in bad.output
    reversed_ = _invoke(world_app, "--from", "2026-02-01", "--to", "2026-01-01")
    assert reversed_.exit_code == 2


def test_not_connected_exits_2(world, tmp_path):
    """A module DB without a Xero connection: exit 2 with a clear message."""
    app = world.app(PXFLASK_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        result = _invoke(app)
        assert result.exit_code == 2
        assert "error:" in result.output and "connected" in result.output.lower()
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_perfex_unreachable_exits_2(world, tmp_path):
    """A Perfex URL that is not a Perfex database: exit 2."""
    app = world.app()
    app.config["PERFEX_DATABASE_URL"] = f"sqlite:///{tmp_path / 'nothing.db'}"
    try:
        result = _invoke(app)
        assert result.exit_code == 2 and "error:" in result.output
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
