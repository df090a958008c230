"""`pxflask sync`: progress, summary table, dry run and exit statuses."""

from __future__ import annotations

import json


def invoke(app, *args):
    """Run `pxflask ARGS` against the app; the click result."""
    return app.test_cli_runner().invoke(args=list(args))


def test_sync_not_connected_exits_2(sync_app):
    """No Xero connection: one clear line, exit status 2."""
    result = invoke(sync_app, "sync")
    assert result.exit_code == 2, result.output
    assert "error:" in result.output


def test_sync_runs_prints_table_and_exits_0_then_nothing_to_do(sync_app):
    """A full run exits 0 with a table; the rerun creates and updates nothing."""
    assert invoke(sync_app, "xero", "connect").exit_code == 0
    assert (
        invoke(sync_app, "settings", "set", "payment_account.default", "090").exit_code
        == 0
    )
    result = invoke(sync_app, "sync")
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "invoices" in result.output
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.output.splitlines()
        if line.split() and line.split()[0] in ("customers", "invoices", "payments")
    }
    assert int(rows["invoices"][0]) > 0
    again = invoke(sync_app, "sync", "customers", "invoices")
    assert again.exit_code == 0, again.output
    rows = {
        line.split()[0]: line.split()[1:]
        for line in again.output.splitlines()
        if line.split() and line.split()[0] in ("customers", "invoices")
    }
    assert rows["invoices"][:2] == ["0", "0"] and rows["customers"][:2] == ["0", "0"]


def test_dry_run_lists_payloads_to_a_file(sync_app, tmp_path):
    """--dry-run --out writes the exact payloads and changes nothing."""
    assert invoke(sync_app, "xero", "connect").exit_code == 0
    out = tmp_path / "plan.json"
    result = invoke(sync_app, "sync", "customers", "--dry-run", "--out", str(out))
    assert result.exit_code == 0, result.output
    actions = json.loads(out.read_text())
    creates = [a for a in actions if a["action"] == "create"]
    assert creates and all(a["payload"]["ContactNumber"] for a in creates)
    shown = invoke(sync_app, "sync", "customers", "--dry-run")
    assert "dry run: customers:" in shown.output
    assert any(
        line.split()[:3] == ["create", "1", "PX-C-1"]
        for line in shown.output.splitlines()
    ), shown.output


def test_failed_record_is_listed_and_exits_1(sync_app, xero_sandbox):
    """One invoice refused by Xero: listed with its message, exit status 1."""
    assert invoke(sync_app, "xero", "connect").exit_code == 0
    assert invoke(sync_app, "sync", "customers").exit_code == 0
    stranger = xero_sandbox.inject.contact("Walk-in")["ContactID"]
    xero_sandbox.inject.invoice(stranger, status="DRAFT", InvoiceNumber="INV-000001")
    result = invoke(sync_app, "sync", "invoices")
    assert result.exit_code == 1, result.output
    assert "Not synced (1 failed" in result.output
    assert "INV-000001 is already used in Xero" in result.output


def test_bad_arguments_exit_2(sync_app):
    """Unknown entity or a bad date: usage error, exit status 2."""
    assert invoke(sync_app, "sync", "nonsense").exit_code == 2
    assert invoke(sync_app, "sync", "--since", "31/01/2025").exit_code == 2


def test_retry_failed_resends_only_the_failed_records(sync_app, xero_sandbox):
    """--retry-failed: exit 1 while Xero still refuses, 0 once fixed, then no-op."""
    assert invoke(sync_app, "xero", "connect").exit_code == 0
    assert invoke(sync_app, "sync", "customers").exit_code == 0
    stranger = xero_sandbox.inject.contact("Walk-in")["ContactID"]
    taken = xero_sandbox.inject.invoice(
        stranger, status="DRAFT", InvoiceNumber="INV-000001"
    )
    assert invoke(sync_app, "sync", "invoices").exit_code == 1
    before = xero_sandbox.counters.calls_to("PUT", "/Invoices")
    refused = invoke(sync_app, "sync", "--retry-failed")
    assert refused.exit_code == 1, refused.output
    assert "INV-000001 is already used in Xero" in refused.output
    assert xero_sandbox.counters.calls_to("PUT", "/Invoices") == before + 1
    xero_sandbox.inject.update("Invoices", taken["InvoiceID"], {"InvoiceNumber": "W-1"})
    retried = invoke(sync_app, "sync", "--retry-failed")
    assert retried.exit_code == 0, retried.output
    rows = {
        line.split()[0]: line.split()[1:]
        for line in retried.output.splitlines()
        if line.split() and line.split()[0] == "invoices"
    }
    assert rows["invoices"][0] == "1", retried.output
    nothing = invoke(sync_app, "sync", "--retry-failed")
    assert nothing.exit_code == 0
    assert "no record is in the failed state" in nothing.output
    assert invoke(sync_app, "sync", "nonsense", "--retry-failed").exit_code == 2


def test_a_foreground_sync_reads_a_share_of_online_links(sync_app, xero_sandbox):
    """No queue behind `pxflask sync`: each run reads up to 10 wanted URLs itself."""
    import sqlalchemy as sa

    from pxflask.extensions import db
    from pxflask.models import XeroDocumentLink
    from pxflask.sync.entities.invoices.online_urls import ONLINE_PER_RUN
    from pxflask.sync.xero_documents import READ

    assert invoke(sync_app, "xero", "connect").exit_code == 0
    invoke(sync_app, "settings", "set", "payment_account.default", "090")
    result = invoke(sync_app, "sync")
    assert result.exit_code == 0, result.output
    calls = xero_sandbox.counters.snapshot()["calls"]
    online = calls.get("GET /Invoices/{InvoiceID}/OnlineInvoice", 0)
    with sync_app.app_context():
        read = db.session.scalar(
            sa.select(sa.func.count()).where(XeroDocumentLink.online_state == READ)
        )
    assert 0 < online == read <= ONLINE_PER_RUN
    assert f"online invoice links: {read} read" in result.output
    dry = invoke(sync_app, "sync", "invoices", "--dry-run")
    assert dry.exit_code == 0 and "online invoice links" not in dry.output


def test_foreground_syncs_in_a_row_read_online_links_once_a_minute(
    sync_app, xero_sandbox
):
    """A second run within the minute reads no URL; after a minute it reads again."""
    from datetime import timedelta

    from pxflask.extensions import db
    from pxflask.sync.console import ONLINE_CURSOR
    from pxflask.sync.links import read_cursor, write_cursor

    def online_calls() -> int:
        calls = xero_sandbox.counters.snapshot()["calls"]
        return calls.get("GET /Invoices/{InvoiceID}/OnlineInvoice", 0)

    assert invoke(sync_app, "xero", "connect").exit_code == 0
    invoke(sync_app, "settings", "set", "payment_account.default", "090")
    assert invoke(sync_app, "sync").exit_code == 0
    first = online_calls()
    assert first > 0
    again = invoke(sync_app, "sync")
    assert again.exit_code == 0 and "online invoice links" not in again.output
    assert online_calls() == first
    with sync_app.app_context():
        last = read_cursor(db.session, ONLINE_CURSOR)
        assert last is not None
        write_cursor(db.session, ONLINE_CURSOR, last - timedelta(seconds=61))
    later = invoke(sync_app, "sync")
    assert "online invoice links: " in later.output
    assert online_calls() > first
