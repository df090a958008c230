"""`pxflask sync` names the records it did not sync; `pxflask sync-log` lists them."""

from __future__ import annotations

from tests.sync.test_cli import invoke


def test_summary_groups_failures_with_advice_and_sync_log_lists_them(sync_app):
    """Failed payments: one line with count, advice, records; sync-log lists all."""
    assert invoke(sync_app, "xero", "connect").exit_code == 0
    invoke(sync_app, "settings", "set", "payment_account.default", "090")
    invoke(sync_app, "settings", "set", "payment_account.1", "200")
    result = invoke(sync_app, "sync")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Not synced")))
    assert "10 failed" in lines[start] and "5 skipped" in lines[start]
    failed = [line for line in lines if line.startswith("  payments: 10 failed")]
    assert len(failed) == 1
    assert "Payments can only be made to bank accounts" in failed[0]
    assert "pxflask settings set payment_account.1 <bank account code>" in failed[0]
    assert "account 200 is not one" in failed[0] and ", …)" in failed[0]
    drafts = next(line for line in lines if line.startswith("  invoices: 2 skipped"))
    assert "drafts=skip" in drafts and "INV-DRAFT-" in drafts
    assert lines[-1] == "Every record: pxflask sync-log --run 1"

    log = invoke(sync_app, "sync-log", "--entity", "payments")
    assert log.exit_code == 0, log.output
    rows = log.output.splitlines()
    assert rows[0].startswith("run 1 (") and rows[0].endswith(": 10 record(s)")
    assert len(rows) == 11
    assert all(" failed create: Payments can only" in row for row in rows[1:])
    skipped = invoke(sync_app, "sync-log", "--run", "1", "--outcome", "skipped")
    assert skipped.output.splitlines()[0].endswith(": 2 record(s)")
    assert "invoices 37 (INV-DRAFT-37) skipped skip: draft" in skipped.output


def test_sync_log_on_an_empty_log_says_so(sync_app):
    """No run yet: sync-log says the log is empty and exits 0."""
    result = invoke(sync_app, "sync-log")
    assert result.exit_code == 0
    assert "the sync log is empty" in result.output
