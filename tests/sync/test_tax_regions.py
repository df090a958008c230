"""Taxes fit the organisation: the seeded demo synced to each region's Xero."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.records import INVOICE_CANCELLED, INVOICE_DRAFT
from pxflask.perfex.seed import seed_demo
from tests.sync.conftest import NO_RETRY, REGION_TAXES, SETTINGS, Env, UrlEnv

ENTITIES = ["taxes", "customers", "items", "invoices"]
REPORTING = {"uk": "OUTPUT", "au": "OUTPUT", "nz": "OUTPUT", "us": None, "global": None}
REGIONS = [
    pytest.param(region, marks=pytest.mark.xero_sandbox(region=region), id=region)
    for region in REPORTING
]
PROPOSED = re.compile(r"proposed: ([A-Z0-9_]+)")


def automatic(env: Env) -> None:
    """Settings without any tax mapping (every choice left to pxflask).

    The suite region's tax answers go too (AU's no_tax_type names a rate other
    regions lack): this test's organisation is its own parameter's.
    """
    answers = {key for region in REGION_TAXES.values() for key in region}
    env.settings = {
        k: v
        for k, v in SETTINGS.items()
        if not k.startswith("tax_rate") and k not in answers
    }


def exempt_some_lines(env: Env) -> None:
    """Tax the untaxed lines of even-numbered invoices 'Exempt' 0% (same totals)."""
    t = env.perfex.tables
    lines, taxed = t.itemable, sa.select(t.item_tax.c.itemid)
    with env.perfex.engine.begin() as conn:
        rows = conn.execute(
            sa.select(lines.c.id, lines.c.rel_id).where(
                lines.c.rel_type == "invoice", lines.c.id.not_in(taxed)
            )
        ).all()
        marks = [
            {
                "itemid": line_id,
                "rel_id": invoice_id,
                "rel_type": "invoice",
                "taxrate": Decimal("0.00"),
                "taxname": "Exempt",
            }
            for line_id, invoice_id in rows
            if invoice_id % 2 == 0
        ]
        assert marks, "the seed has untaxed invoice lines"
        conn.execute(sa.insert(t.item_tax), marks)


def rates(env: Env) -> dict[str, dict[str, Any]]:
    """The sandbox's tax rates by TaxType."""
    return {r["TaxType"]: r for r in env.xero("TaxRates")}


def sent_invoices(env: Env) -> list[int]:
    """Perfex invoices that belong in Xero (not drafts, not cancelled)."""
    return [
        inv.id
        for inv in reads.read_invoices(env.perfex)
        if inv.status not in (INVOICE_DRAFT, INVOICE_CANCELLED)
    ]


def exempt_invoices(env: Env) -> set[str]:
    """Keys of the invoices with a line taxed only 'Exempt' 0%."""
    return {
        str(inv.id)
        for inv in reads.read_invoices(env.perfex)
        if inv.status not in (INVOICE_DRAFT, INVOICE_CANCELLED)
        and any(
            line.counts and [t.name for t in line.taxes] == ["Exempt"]
            for line in inv.lines
        )
    }


def line_tax_types(env: Env) -> list[str]:
    """The TaxType of every line of every ACCREC invoice in Xero."""
    return [
        line["TaxType"]
        for inv in env.xero("Invoices")
        if inv.get("Type") == "ACCREC"
        for line in inv.get("LineItems") or []
    ]


@pytest.mark.parametrize("region", REGIONS)
def test_first_sync_fits_the_region_then_the_set_up_step_syncs_the_rest(env, region):
    """Created rates carry the country's ReportTaxType; ambiguous taxes fail alone."""
    automatic(env)
    exempt_some_lines(env)
    seeded = set(rates(env))
    result = env.sync(entities=ENTITIES)
    org = rates(env)
    created = [r for t, r in org.items() if t not in seeded]
    assert created, "the VAT 20% + City Tax 5% combination has no rate anywhere"
    for r in created:
        assert r.get("ReportTaxType") == REPORTING[region], r
    used = line_tax_types(env)
    assert used
    for tax_type in used:
        assert org[tax_type]["CanApplyToRevenue"], tax_type
    if region == "au":
        assert "NONE" not in org and "NONE" not in used
    zero = [
        t
        for t, r in org.items()
        if r["CanApplyToRevenue"]
        and Decimal(str(r["EffectiveRate"])) == 0
        and r.get("Status", "ACTIVE") == "ACTIVE"
    ]
    failed = dict(result.report("invoices").errors)
    taxes_failed = dict(result.report("taxes").errors)
    if len(zero) > 1:
        assert "Exempt@0.00" in taxes_failed
        exempt = exempt_invoices(env)
        assert exempt and exempt <= set(failed)
        for key in exempt:
            assert "Perfex tax 'Exempt' (0%)" in failed[key]
            assert "tax_rate.4" in failed[key]
    assert result.ok == (not failed and not taxes_failed)
    for key, reason in failed.items():
        assert "Settings → Taxes" in reason, (key, reason)
        assert env.link("invoices", key).state == "failed"
    synced = {k for k, link in env.links("invoices").items() if link.state == "synced"}
    assert synced | set(failed) >= {str(i) for i in sent_invoices(env)}
    assert synced, "the invoices without a tax question synced"

    for reason in taxes_failed.values():
        setting = re.search(r"\((tax_rate\.\d+|no_tax_type)\)", reason)
        proposal = PROPOSED.search(reason)
        assert setting and proposal, reason
        env.settings[setting.group(1)] = proposal.group(1)
    again = env.sync(entities=ENTITIES)
    assert again.ok, again.failed
    links = env.links("invoices")
    for key in sent_invoices(env):
        assert links[str(key)].state == "synced", key
    assert "NONE" not in line_tax_types(env) or "NONE" in org
    invoices = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    for inv in reads.read_invoices(env.perfex, ids=sent_invoices(env)):
        assert invoices[links[str(inv.id)].xero_id]["Total"] == inv.total, inv.id


@pytest.mark.xero_sandbox(region="uk")
def test_a_tax_rate_xero_will_not_create_fails_only_its_invoices(
    perfex_url, tmp_path, xero_sandbox
):
    """Persistent 5xx on PUT /TaxRates: dependants fail, the rest sync, no raise."""
    seed_demo(perfex_url, customers=4, invoices=14, seed=5)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    try:
        _create_refused_then_retried(env)
    finally:
        env.close()


def _create_refused_then_retried(env: Env) -> None:
    """The body of the test above, on one Perfex database."""
    env.sandbox.faults.fail_next(10_000, 503, path_contains="TaxRates", method="PUT")
    result = env.sync(gateway=env.make_gateway(NO_RETRY), entities=ENTITIES)
    env.sandbox.faults.clear()
    assert not result.ok
    taxes_failed = dict(result.report("taxes").errors)
    assert "Xero did not create tax rate 'GST 10%'" in taxes_failed["GST@10.00"]
    failed = dict(result.report("invoices").errors)
    assert failed
    for reason in failed.values():
        assert "Xero did not create tax rate" in reason
    assert any("'City Tax 5% + VAT 20%'" in reason for reason in failed.values())
    synced = [k for k, link in env.links("invoices").items() if link.state == "synced"]
    assert synced, "invoices that need no new rate synced"
    again = env.sync(entities=ENTITIES)
    assert again.ok, again.failed
    links = env.links("invoices")
    assert all(links[str(k)].state == "synced" for k in sent_invoices(env))


@pytest.mark.xero_sandbox(region="uk")
def test_import_xero_taxes_brings_only_revenue_rates_perfex_lacks(env):
    """import_xero_taxes: the 5% sales rate comes to Perfex; expense and 0% do not."""
    taxes = env.perfex.tables.taxes
    env.execute(taxes.delete().where(taxes.c.name == "City Tax"))
    env.settings["import_xero_taxes"] = "yes"
    result = env.sync(entities=["taxes"])
    assert result.report("taxes").pulled == 1, result.report("taxes").planned
    after = {(t.name, t.rate) for t in reads.read_taxes(env.perfex)}
    assert ("5% (VAT on Income)", Decimal("5.00")) in after
    names = {name for name, _ in after}
    assert not [n for n in names if "Expenses" in n or "20%" in n]
    assert all(rate > 0 for name, rate in after if name != "Exempt")
    again = env.sync(entities=["taxes"])
    assert again.report("taxes").pulled == 0


@pytest.mark.xero_sandbox(region="uk")
def test_a_setting_naming_an_expense_rate_fails_its_invoices_with_the_setting(env):
    """tax_rate.1 = INPUT2 (expenses only): VAT invoices fail naming the setting."""
    env.settings["tax_rate.1"] = "INPUT2"
    result = env.sync(entities=ENTITIES)
    failed = dict(result.report("invoices").errors)
    assert failed, "the seed has invoices with VAT lines"
    for reason in failed.values():
        assert "setting tax_rate.1 = INPUT2" in reason
        assert "cannot be used on sales (revenue) lines" in reason
    assert "INPUT2" not in line_tax_types(env)
    env.settings["tax_rate.1"] = "OUTPUT2"
    again = env.sync(entities=ENTITIES)
    assert again.ok, again.failed
    assert "OUTPUT2" in line_tax_types(env)
