"""Every output of one report shows the same flagged rows, amounts and currencies.

Problems are staged on both sides of a synced set-up (a payment typed in Xero only,
a payment deleted in Xero, an invoice edited in Perfex after the sync, credits
applied in Perfex while credit notes are not synced, several currencies); then the
page's table, report.html, the XLSX sheets, the CSVs and the notebooks' helper
frames are read back and compared with each other, and money at stake is checked
per currency, once per amount, as the real gap.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pxflask.reconcile.notebook import (
    flagged_rows,
    money_at_stake,
    open_sources,
    run_from_parameters,
)
from tests.fixtures.webapp import AuthActions, csrf_token
from tests.reconcile.every_output import page_stake
from tests.reconcile.parse_outputs import (
    Rows,
    canonical,
    csv_rows,
    frame_rows,
    html_tables,
    money,
    records,
    xlsx_rows,
)
from tests.reconcile.staging import (
    EDIT,
    PARTIAL_CREDIT,
    TYPED_IN_XERO,
    stage_both_sides,
)
from tests.xero.helpers import TEST_KEY


@pytest.fixture
def admin(world_app):
    """A client of the world's panel, signed in as the seeded admin."""
    client = world_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def _page_rows(admin, scope: str) -> list[dict[str, str]]:
    """The flagged rows the page lists for a scope (every page of them)."""
    out: list[dict[str, str]] = []
    page = 1
    while True:
        body = admin.get(f"/reconcile/?scope={scope}&category=any&page={page}")
        text = body.get_data(as_text=True)
        table = next(t for t in html_tables(text) if t["id"] == "rows")
        out += records(table)
        if f"page {page} of" not in text or f"page {page} of {page}" in text:
            return out
        page += 1


def _html_rows(body: str, heading: str) -> list[dict[str, str]]:
    """The rows of report.html's table under a heading."""
    table = next(t for t in html_tables(body) if t["heading"] == heading)
    return records(table)


def _outputs(world, admin) -> dict[str, dict[str, Rows]]:
    """Every output's flagged rows, per scope."""
    out: dict[str, dict[str, Rows]] = {}
    get = admin.get
    html = get("/reconcile/download/report.html").get_data(as_text=True)
    xlsx = get("/reconcile/download/report.xlsx").data
    out["page"] = {s: canonical(_page_rows(admin, s), s) for s in SCOPES}
    out["report.html"] = {
        "invoices": canonical(_html_rows(html, "Invoice discrepancies"), "invoices"),
        "payments": canonical(_html_rows(html, "Payment discrepancies"), "payments"),
    }
    out["report.xlsx"] = {s: canonical(xlsx_rows(xlsx, s), s) for s in SCOPES}
    out["csv"] = {
        s: canonical(
            csv_rows(get(f"/reconcile/download/{s}.csv").get_data(as_text=True)), s
        )
        for s in SCOPES
    }
    sources = open_sources(
        world.perfex_url,
        world.module_url,
        world.instance_path,
        {
            **world.sandbox.config,
            "XERO_GRANT": "client_credentials",
            "PXFLASK_ENCRYPTION_KEY": TEST_KEY,
        },
    )
    try:
        run = run_from_parameters(sources, tolerance="0.01", refresh=False)
    finally:
        sources.close()
    out["notebook"] = {
        s: canonical(frame_rows(flagged_rows(run.report, s)), s) for s in SCOPES
    }
    out["notebook"]["stake"] = {
        (r["currency"],): (money(r["money_at_stake"]),)
        for r in frame_rows(money_at_stake(run.report))
    }
    return out


SCOPES = ("invoices", "payments")
ROLES = ("typed", "credited", "part_credited", "deleted", "edited")


def _row(rows: Rows, number: str) -> tuple[Any, ...]:
    """The one flagged invoice row of a number."""
    return rows[(number,)]


def _expected_stake(invoices: Rows, payments: Rows, counted: set[tuple]) -> dict:
    """Per currency: invoice gaps plus payment gaps not counted on their invoice."""
    out: dict[str, Decimal] = {}
    for currency, *amounts, _cats in invoices.values():
        out[currency] = out.get(currency, Decimal(0)) + Decimal(amounts[-1])
    for key, (currency, *amounts, _cats) in payments.items():
        if key not in counted:
            out[currency] = out.get(currency, Decimal(0)) + Decimal(amounts[-1])
    return {c: f"{v:.2f}" for c, v in sorted(out.items())}


def test_every_output_shows_the_same_numbers(world, admin):
    """Page, HTML, XLSX, CSV and notebook frames agree; money at stake is right."""
    staged = stage_both_sides(world)
    token = csrf_token(admin, "/reconcile/")
    done = admin.post(
        "/reconcile/refresh",
        data={"csrf_token": token, "tolerance": "0.01"},
        follow_redirects=True,
    )
    assert "discrepancies found" in done.get_data(as_text=True)

    outputs = _outputs(world, admin)
    reference = outputs["csv"]
    for name, scopes in outputs.items():
        for scope in SCOPES:
            assert scopes[scope] == reference[scope], (name, scope)

    invoices, payments = reference["invoices"], reference["payments"]
    number = {role: staged[role]["xero"]["InvoiceNumber"] for role in ROLES}
    # the staged problems, each on its own row with its own gap
    typed = _row(invoices, number["typed"])
    assert typed[-1] == ("paid_differs",) and typed[-2] == money(TYPED_IN_XERO)
    edited = _row(invoices, number["edited"])
    assert "total_differs" in edited[-1] and edited[-2] == money(EDIT)
    credited = _row(invoices, number["credited"])
    assert credited[-1] == ("credit_not_synced",)  # no false status/paid flags
    assert credited[-2] == money(staged["credited"]["xero"]["AmountDue"])
    part = _row(invoices, number["part_credited"])
    assert part[-1] == ("credit_not_synced",) and part[-2] == money(PARTIAL_CREDIT)
    gone = _row(invoices, number["deleted"])
    assert "paid_differs" in gone[-1]
    assert gone[-2] == money(staged["deleted_payment"]["xero"]["Amount"])
    assert set(invoices) == {(number[r],) for r in ROLES}
    assert len({row[0] for row in invoices.values()}) == 3  # USD, EUR and GBP

    # payments: their gap is on their invoice's row, so it is not counted again
    csv_pay = csv_rows(
        admin.get("/reconcile/download/payments.csv").get_data(as_text=True)
    )
    counted = {
        k
        for k, r in zip(canonical_keys(csv_pay), csv_pay, strict=True)
        if r["counted_on_invoice"] == "True" and k is not None
    }
    assert {k[0] for k in payments} == {number["typed"], number["deleted"]}
    assert set(payments) == counted  # both carried by their invoice's row

    # money at stake: per currency, each amount once, everywhere the same
    expected = _expected_stake(invoices, payments, counted)
    summary = csv_rows(
        admin.get("/reconcile/download/summary.csv").get_data(as_text=True)
    )
    for row in summary:
        assert ";" not in row["currency"], row  # never currencies added together
    totals = {
        r["currency"]: money(r["money_at_stake"])
        for r in summary
        if r["scope"] == "all" and int(r["count"])
    }
    assert totals == expected
    page = admin.get("/reconcile/").get_data(as_text=True)
    assert page_stake(page) == expected
    notebook = {k[0]: v[0] for k, v in outputs["notebook"]["stake"].items()}
    assert notebook == expected
    book = xlsx_rows(admin.get("/reconcile/download/report.xlsx").data, "summary")
    assert {
        r["currency"]: money(r["money_at_stake"])
        for r in book
        if r["scope"] == "all" and r["count"]
    } == expected
    assert "credit notes are not synced" in page.lower() or "not synced" in page


def canonical_keys(rows: list[dict[str, str]]) -> list[tuple[str, ...] | None]:
    """The payment key of each CSV row (None when the row is clean)."""
    keys = []
    for row in rows:
        found = canonical([row], "payments")
        keys.append(next(iter(found)) if found else None)
    return keys
