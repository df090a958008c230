"""Month-end views end to end: collections, as at a date, aged receivables, tax.

The synced world (tests/reconcile/conftest.py) has payments on both sides of the
November 2025 month end, EUR, GBP and USD invoices, overdue invoices of different
ages and VAT 20%, GST 10%, City Tax 5% and Exempt 0% lines.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pandas as pd

from pxflask.models import Setting
from pxflask.reconcile.month_end import build_month_end, refresh_xero
from pxflask.sandbox.regions import profile
from tests.fixtures.sandbox import TEST_REGION
from tests.reconcile.conftest import SYNC_SETTINGS

NOV_START, NOV_END = dt.date(2025, 11, 1), dt.date(2025, 11, 30)
BANK = "090 Business Bank Account"


def _store_settings(world) -> None:
    """The settings the sync ran with, stored as the panel keeps them."""
    with world.session() as session:
        for key, value in SYNC_SETTINGS.items():
            session.merge(Setting(key=key, value=value))
        session.commit()


def _views(world, as_at=NOV_END, date_from=NOV_START, refresh=True):
    """Refresh Xero (snapshot and extras) and build the views."""
    _store_settings(world)
    if refresh:
        refresh_xero(world.gateway, world.instance_path)
    with world.session() as session:
        return build_month_end(
            world.perfex, session, world.instance_path, as_at, date_from
        )


def _row(frame: pd.DataFrame, **where) -> pd.Series:
    """The one row matching every column value."""
    mask = pd.Series(True, index=frame.index)
    for col, value in where.items():
        mask &= frame[col] == value
    rows = frame[mask]
    assert len(rows) == 1, (where, rows)
    return rows.iloc[0]


def _xero_invoice(world, number: str) -> str:
    """The Xero id of a synced invoice by number."""
    found = [i for i in world.xero("Invoices") if i.get("InvoiceNumber") == number]
    return found[0]["InvoiceID"]


def test_synced_month_agrees_on_every_view(world):
    """Synced: collections, as at, aging and tax agree; values are the real ones."""
    month_end = _views(world)
    assert month_end.differences() == {
        "collections": 0,
        "as_at": 0,
        "aging": 0,
        "tax": 0,
    }, month_end.frames
    coll = month_end.frames["collections"]
    assert set(coll["month"]) == {"2025-11"}  # October and December are outside
    assert set(coll["currency"]) == {"EUR", "USD"}
    cheque = _row(coll, currency="USD", payment_mode="Cheque")
    assert cheque["customer"] == "Acme Corporation"
    assert cheque["bank_account"] == BANK
    assert cheque["perfex_cents"] == cheque["xero_cents"] == 299750
    stripe = _row(coll, currency="EUR", payment_mode="stripe")
    assert stripe["perfex_cents"] == stripe["xero_cents"] == 1249148
    tax = month_end.frames["tax"]
    assert (tax["perfex_net_cents"] == tax["xero_net_cents"]).all()
    assert (tax["perfex_tax_cents"] == tax["xero_tax_cents"]).all()
    rates = set(tax["perfex_taxes"])
    assert {"City Tax 5% + GST 10%", "VAT 20%"} <= rates, rates
    vat = _row(tax, currency="USD", perfex_taxes="VAT 20%")
    assert vat["perfex_tax_cents"] > 0 and vat["tax_type"]


def test_as_at_leaves_later_payments_out_on_both_sides(world):
    """As at 30 November, December payments do not settle November invoices."""
    month_end = _views(world)
    as_at = month_end.frames["as_at"]
    inv8 = _row(as_at, invoice_number="INV-000008")  # paid 2025-12-15
    assert inv8["status_perfex"] == inv8["status_xero"] == "unpaid"
    assert inv8["due_cents_perfex"] == inv8["due_cents_xero"] == 886470
    inv9 = _row(as_at, invoice_number="INV-000009")  # paid 2025-12-05 and 2026-01-01
    assert inv9["paid_cents_perfex"] == inv9["paid_cents_xero"] == 0
    assert "INV-000010" not in set(as_at["invoice_number"])  # dated 2025-12-23
    later = _views(world, as_at=dt.date(2025, 12, 31), refresh=False)
    inv8 = _row(later.frames["as_at"], invoice_number="INV-000008")
    assert inv8["status_perfex"] == inv8["status_xero"] == "paid"
    assert later.differences()["as_at"] == 0


def test_aging_buckets_per_currency(world):
    """Overdue invoices of different ages land in their buckets, per currency."""
    aging = _views(world).frames["aging"]
    expect = {
        ("EUR", "90+"): 101528,  # INV-000003, due 2025-08-31: 91 days
        ("GBP", "61-90"): 159450,  # INV-000005, due 2025-09-02: 89 days
        ("USD", "current"): 886470 + 175343,  # INV-000008 and -9, due in December
    }
    for (currency, bucket), cents in expect.items():
        row = _row(aging, currency=currency, bucket=bucket)
        assert row["perfex_cents"] == row["xero_cents"] == cents
    totals = aging[aging["bucket"] == "total"].set_index("currency")["perfex_cents"]
    assert totals.to_dict() == {"EUR": 101528, "GBP": 159450, "USD": 1061813}
    assert (aging["difference_cents"] == 0).all()


def test_payment_only_in_xero_shows_in_collections_as_at_and_aging(world):
    """A payment typed in Xero in November differs; one in December not as at Nov."""
    inv9 = _xero_invoice(world, "INV-000009")
    world.sandbox.inject.payment(inv9, Decimal("10.00"), on=dt.date(2025, 11, 28))
    inv5 = _xero_invoice(world, "INV-000005")
    world.sandbox.inject.payment(inv5, Decimal("20.00"), on=dt.date(2025, 12, 3))
    month_end = _views(world)
    coll = month_end.frames["collections"]
    extra = _row(coll, payment_mode="(no Perfex payment)")
    assert (extra["currency"], extra["customer"]) == ("USD", "Acme Corporation")
    assert extra["bank_account"] == BANK
    assert (extra["perfex_cents"], extra["xero_cents"]) == (0, 1000)
    assert extra["difference_cents"] == 1000
    as_at = month_end.frames["as_at"]
    flagged = set(as_at.loc[as_at["differs"], "invoice_number"])
    assert flagged == {"INV-000009"}  # the December payment on INV-000005 waits
    row = _row(as_at, invoice_number="INV-000009")
    assert (row["status_perfex"], row["status_xero"]) == ("unpaid", "partially_paid")
    usd = _row(month_end.frames["aging"], currency="USD", bucket="current")
    assert usd["difference_cents"] == -1000
    december = _views(world, as_at=dt.date(2025, 12, 31), refresh=False)
    flagged = december.frames["as_at"]
    assert "INV-000005" in set(flagged.loc[flagged["differs"], "invoice_number"])


def test_tax_rate_changed_in_xero_differs_per_rate(world):
    """A line moved to another tax rate in Xero shows under both rates."""
    xero_id = _xero_invoice(world, "INV-000023")
    invoice = world.sandbox.inject.get("Invoices", xero_id)
    before = _views(world, dt.date(2026, 11, 30), dt.date(2026, 11, 1))
    assert before.differences()["tax"] == 0
    lines = invoice["LineItems"]
    old_type = lines[0]["TaxType"]
    region = profile(TEST_REGION)  # UK OUTPUT2 (20%), AU OUTPUT (GST 10%)
    new_type = region.sales_tax if old_type != region.sales_tax else region.no_tax
    changed = [
        {k: v for k, v in line.items() if k not in ("TaxAmount", "LineItemID")}
        for line in lines
    ]
    changed[0]["TaxType"] = new_type
    world.sandbox.inject.update("Invoices", xero_id, {"LineItems": changed})
    after = _views(world, dt.date(2026, 11, 30), dt.date(2026, 11, 1))
    tax = after.frames["tax"]
    moved = _row(tax, currency="EUR", tax_type=new_type)
    assert moved["xero_net_cents"] - moved["perfex_net_cents"] > 0
    gone = _row(tax, currency="EUR", tax_type=old_type)
    assert gone["net_difference_cents"] == -moved["net_difference_cents"]
    assert after.differences()["tax"] == 2


def test_extras_rerun_costs_two_calls(world):
    """Unchanged Xero: the extras refresh asks one page of invoices and payments."""
    from pxflask.reconcile.month_end import refresh_month_end

    assert refresh_month_end(world.gateway, world.instance_path) >= 2
    assert refresh_month_end(world.gateway, world.instance_path) == 2


def test_stale_lines_are_said_and_cli_reconcile_reads_them(world, world_app):
    """Lines older than the snapshot: a note; `pxflask reconcile` reads both."""
    from pxflask.reconcile.loaders import load_xero
    from pxflask.reconcile.month_end import refresh_month_end

    _store_settings(world)
    refresh_month_end(world.gateway, world.instance_path)
    time.sleep(1.1)  # the stamps have whole seconds
    load_xero(world.gateway, world.instance_path)
    stale = _views(world, refresh=False)
    assert any("older than its invoices" in n for n in stale.notes), stale.notes
    result = world_app.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output
    assert _views(world, refresh=False).notes == []


def test_tax_view_maps_rates_the_sync_matched_without_a_setting_or_link(world):
    """Rates matched by the sync (no tax_rate.<id>, no taxes link) map as it maps."""
    from sqlalchemy import delete, func, select

    from pxflask.models import Link, XeroTaxRate

    refresh_xero(world.gateway, world.instance_path)
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(XeroTaxRate)) > 0
        session.execute(delete(Link).where(Link.entity == "taxes"))
        session.commit()
        month_end = build_month_end(
            world.perfex, session, world.instance_path, NOV_END, NOV_START
        )
    vat = _row(month_end.frames["tax"], currency="USD", perfex_taxes="VAT 20%")
    assert vat["tax_type"] not in ("", "(not mapped)"), vat
    assert vat["perfex_tax_cents"] == vat["xero_tax_cents"]
