"""`pxflask sync --dry-run` lists records; `--repost` previews, confirms, re-posts."""

from __future__ import annotations

from tests.sync.test_cli import invoke


def _ready(app) -> None:
    """Connected, payments on 090, everything synced once."""
    assert invoke(app, "xero", "connect").exit_code == 0
    assert (
        invoke(app, "settings", "set", "payment_account.default", "090").exit_code == 0
    )
    assert invoke(app, "sync").exit_code == 0


def test_dry_run_lists_each_record_capped_with_the_rest_counted(sync_app):
    """Per entity: counts, then up to 20 rows (action, key, number, reason)."""
    assert invoke(sync_app, "xero", "connect").exit_code == 0
    shown = invoke(sync_app, "sync", "customers", "items", "invoices", "--dry-run")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "dry run: customers: 12 create" in lines
    assert "dry run: invoices: 40 skip" in lines
    start = lines.index("dry run: invoices: 40 skip")
    rows = lines[start + 1 : start + 22]
    assert all(r.split()[0] == "skip" for r in rows[:20])
    assert all(r.split()[2].startswith("INV-") for r in rows[:20])
    assert all(r.endswith("is not synced") for r in rows[:20])
    assert rows[20] == "  … and 20 more (--out FILE lists them all)"


def test_repost_dry_run_then_confirm(sync_app, xero_sandbox):
    """--repost --dry-run lists; a refused prompt changes nothing; --yes re-posts."""
    _ready(sync_app)
    assert (
        invoke(sync_app, "settings", "set", "payment_account.stripe", "091").exit_code
        == 0
    )
    before = xero_sandbox.counters.calls_to("PUT", "/Payments")
    assert invoke(sync_app, "sync").exit_code == 0
    assert xero_sandbox.counters.calls_to("PUT", "/Payments") == before
    shown = invoke(sync_app, "sync", "payments", "--repost", "--dry-run")
    assert shown.exit_code == 0, shown.output
    listed = [line for line in shown.output.splitlines() if line.startswith("  repost")]
    assert listed and all("account 090 → 091" in line for line in listed)
    refused = sync_app.test_cli_runner().invoke(
        args=["sync", "payments", "--repost"], input="n\n"
    )
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert xero_sandbox.counters.calls_to("PUT", "/Payments") == before
    done = invoke(sync_app, "sync", "payments", "--repost", "--yes")
    assert done.exit_code == 0, done.output
    assert xero_sandbox.counters.calls_to("PUT", "/Payments") == before + 1
    again = invoke(sync_app, "sync", "payments", "--repost", "--dry-run")
    assert "has the current mapping" in again.output
    assert invoke(sync_app, "sync", "customers", "--repost").exit_code == 2
