"""Expenses in the reconciliation: Perfex expenses synced to the sandbox, broken."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pxflask.extensions import db
from pxflask.models import Link
from pxflask.perfex.db import PerfexDB
from pxflask.queueing import close_queue
from pxflask.reconcile.expense_sources import load_xero_expenses
from pxflask.reconcile.export import write_outputs
from pxflask.reconcile.reasons import BILL_CHANGED, BILL_GONE, XERO_BILL
from pxflask.reconcile.service import run_reconciliation
from pxflask.sync.engine import run_sync
from pxflask.sync.entities.expenses.mapper import expense_marker
from pxflask.sync.entities.expenses_pull.step import ENTITY as PULL_ENTITY
from pxflask.sync.entities.expenses_pull.step import link_key
from tests.fixtures.sandbox import (
    SandboxHandle,
)
from tests.fixtures.webapp import AuthActions

from . import every_output as eo
from .conftest import SYNC_SETTINGS, Synced, World
from .entity_world import sync_one_more

USD_BANK = {
    "Code": "094",
    "Name": "Dollar Account",
    "Type": "BANK",
    "BankAccountNumber": "40440412345678",
    "CurrencyCode": "USD",
}
"""The seeded Perfex is USD-based: its expenses are spent from a USD account."""


def _usd_bank(handle: SandboxHandle, perfex: PerfexDB) -> dict[str, str]:
    """Spend from a USD bank account (added unless the organisation is USD-based)."""
    if handle.state.tenant().base_currency == "USD":
        return SYNC_SETTINGS
    handle.inject.write("Accounts", USD_BANK)
    return {**SYNC_SETTINGS, "payment_account.default": "094"}


@pytest.fixture(scope="session")
def expense_synced(synced_world, tmp_path_factory, xero_sandbox_server) -> Synced:
    """The synced world with its Perfex expenses synced too (unsyncable ones gone)."""
    folder = tmp_path_factory.mktemp("reconcile-expenses")
    return sync_one_more(
        synced_world, folder, xero_sandbox_server, "expenses", "expenses", _usd_bank
    )


@pytest.fixture
def xworld(expense_synced, tmp_path, xero_sandbox) -> Iterator[World]:
    """A private copy of the world with expenses synced and enabled."""
    w = World(expense_synced, tmp_path, xero_sandbox)
    yield w
    w.close()


def _run(world: World, **kw):
    """One reconciliation run of the world (snapshot refreshed)."""
    with world.session() as session:
        return run_reconciliation(
            world.perfex, session, world.gateway, world.instance_path, **kw
        )


def _flagged(report) -> dict[str, str]:
    """{perfex id or Xero id: discrepancy} of the flagged expense rows."""
    rows = report.discrepancies("expenses")
    return {
        str(r.xero_bank_transaction_id)
        if pd.isna(r.perfex_expense_id)
        else str(r.perfex_expense_id): str(r.discrepancy)
        for r in rows.itertuples(index=False)
    }


def _expense_ids(world: World) -> list[int]:
    """The Perfex expense ids, in order."""
    table = world.perfex.tables.expenses
    with world.perfex.engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(table.c.id).order_by(table.c.id))]


def _update_expense(world: World, key: int, **values) -> None:
    """Change a Perfex expense in place."""
    table = world.perfex.tables.expenses
    with world.perfex.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == key).values(**values))


def test_clean_run_has_expenses_and_no_discrepancy(xworld):
    """Every synced expense matched by its link, nothing flagged."""
    run = _run(xworld)
    report = run.report
    assert report.expenses is not None
    assert len(report.expenses) == len(_expense_ids(xworld))
    assert set(report.expenses["matched_by"]) == {"link"}
    expense_rows = report.summary[report.summary["scope"] == "expenses"]
    assert len(expense_rows) == 6 and expense_rows["count"].sum() == 0
    assert not report.has_discrepancies, report.summary[report.summary["count"] > 0]


def test_disabled_entity_leaves_expenses_out(world, tmp_path):
    """Expenses off (the default): no rows, no summary scope, no file."""
    run = _run(world)
    assert run.report.expenses is None
    assert "expenses" not in set(run.report.summary["scope"])
    paths = write_outputs(run.report, tmp_path / "out")
    assert "expenses.csv" not in paths
    assert not (tmp_path / "out" / "expenses.csv").exists()


def _break(world: World, category: str) -> str:
    """Inject one discrepancy of ``category``; return the row key expected."""
    key = _expense_ids(world)[0]
    inject = world.sandbox.inject
    if category == "missing_in_xero":
        table = world.perfex.tables.expenses
        with world.perfex.engine.begin() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == key)).mappings()
            values = dict(row.one())
            values.pop("id")
            new = conn.execute(table.insert().values(**values)).inserted_primary_key
        return str(new[0])
    if category == "only_in_xero":
        sent = inject.get("BankTransactions", world.link("expenses", key))
        payload = {
            "Type": "SPEND",
            "Contact": {"ContactID": sent["Contact"]["ContactID"]},
            "BankAccount": {"Code": sent["BankAccount"]["Code"]},
            "LineItems": [
                {
                    "Description": f"Lost {expense_marker(987654)}",
                    "Quantity": 1,
                    "UnitAmount": "12.50",
                    "AccountCode": sent["LineItems"][0]["AccountCode"],
                }
            ],
        }
        made = inject.write("BankTransactions", payload)
        fee = {**payload, "LineItems": [{**payload["LineItems"][0]}]}
        fee["LineItems"][0]["Description"] = "Bank fee"
        inject.write("BankTransactions", fee)  # not pxflask's: never flagged
        return str(made["BankTransactionID"]).lower()
    if category == "total_differs":
        _update_expense(world, key, amount=Decimal("98765.43"))
    elif category == "date_differs":
        _update_expense(world, key, date=dt.date(2020, 1, 2))
    elif category == "currency_differs":
        cur = world.perfex.tables.currencies
        with world.perfex.engine.begin() as conn:
            table = world.perfex.tables.expenses
            now = conn.execute(
                sa.select(table.c.currency).where(table.c.id == key)
            ).scalar()
            other = conn.execute(
                sa.select(cur.c.id).where(cur.c.id != now).limit(1)
            ).scalar()
        _update_expense(world, key, currency=other)
    elif category == "deleted_in_xero":
        inject.set_status(
            "BankTransactions", world.link("expenses", key), "DELETED", force=True
        )
    return str(key)


@pytest.mark.parametrize(
    "category",
    [
        "missing_in_xero",
        "only_in_xero",
        "total_differs",
        "date_differs",
        "currency_differs",
        "deleted_in_xero",
    ],
)
def test_each_category_flags_exactly_that_expense(xworld, category):
    """One injected discrepancy: exactly that row carries exactly that category."""
    _run(xworld)  # a first run builds the snapshot: the next one is incremental
    key = _break(xworld, category)
    run = _run(xworld)
    assert _flagged(run.report) == {key: category}
    summary = run.report.summary.set_index(["scope", "category"])
    assert summary.loc[("expenses", category), "count"] == 1
    assert run.report.discrepancies("invoices").empty
    assert run.report.discrepancies("payments").empty


def test_marker_matches_when_the_link_is_gone(xworld):
    """Without the sync link the line marker still pairs the expense."""
    key = _expense_ids(xworld)[0]
    with xworld.session() as session:
        session.execute(
            sa.delete(Link).where(
                Link.entity == "expenses", Link.perfex_key == str(key)
            )
        )
        session.commit()
    report = _run(xworld).report
    row = report.expenses[report.expenses["perfex_expense_id"] == key].iloc[0]
    assert row["matched_by"] == "marker" and row["discrepancy"] == ""
    assert not report.has_discrepancies


def test_rerun_costs_at_most_two_calls(xworld):
    """The SPEND snapshot is refreshed incrementally."""
    first = load_xero_expenses(
        xworld.gateway, xworld.instance_path, xworld.sandbox.sandbox.tenant_id
    )
    assert first.mode == "full" and len(first.transactions) >= 2
    again = load_xero_expenses(
        xworld.gateway, xworld.instance_path, xworld.sandbox.sandbox.tenant_id
    )
    assert again.mode == "incremental" and again.calls <= 2
    assert len(again.transactions) == len(first.transactions)
    _run(xworld)
    rerun = _run(xworld)
    assert rerun.xero_calls <= 2 + 2  # invoices + payments, then ≤ 2 for expenses


def test_outputs_and_exit_code(xworld, tmp_path):
    """expenses.csv, the sheet, the HTML section and exit 1 on a discrepancy."""
    key = _break(xworld, "total_differs")
    app = xworld.app()
    try:
        out = tmp_path / "out"
        result = app.test_cli_runner().invoke(args=["reconcile", "--out", str(out)])
        assert result.exit_code == 1, result.output
        assert "expenses compared" in result.output
        with (out / "expenses.csv").open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        bad = [r for r in rows if r["discrepancy"]]
        assert [(r["perfex_expense_id"], r["discrepancy"]) for r in bad] == [
            (key, "total_differs")
        ]
        with (out / "summary.csv").open(newline="", encoding="utf-8-sig") as fh:
            scopes = [r for r in csv.DictReader(fh) if r["scope"] == "expenses"]
        assert {r["category"]: r["count"] for r in scopes}["total_differs"] == "1"
        assert "expenses" in load_workbook(out / "report.xlsx").sheetnames
        assert "Expense discrepancies" in (out / "report.html").read_text("utf-8")
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        page = client.get("/reconcile/").get_data(as_text=True)
        assert 'id="expenses"' in page and "total_differs" in page
        download = client.get("/reconcile/download/expenses.csv")
        assert download.status_code == 200
        assert "total_differs" in download.get_data(as_text=True)
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_expenses_join_a_report_with_invoice_discrepancies():
    """Summary and per-currency rows of both scopes; the date window applies."""
    from pxflask.reconcile import reconcile
    from pxflask.reconcile.expense_sources import PERFEX_EXPENSE_COLUMNS
    from pxflask.reconcile.expenses import reconcile_expenses, with_expenses

    from .helpers import clean_inputs

    inputs = clean_inputs()
    report = reconcile(*inputs.with_(xero_invoices=inputs.xero_invoices[1:]).args())
    perfex = pd.DataFrame(
        {
            "perfex_expense_id": [1, 2],
            "reference": ["EXP-1", "EXP-2"],
            "date": pd.to_datetime(["2025-01-05", "2025-03-05"]),
            "currency": ["USD", "EUR"],
            "total_cents": [1000, 2500],
        }
    ).astype(PERFEX_EXPENSE_COLUMNS)
    xero = pd.DataFrame(
        {
            "xero_id": ["a"],
            "reference": ["EXP-1"],
            "marker_id": pd.array([1], dtype="Int64"),
            "date": pd.to_datetime(["2025-01-05"]),
            "currency": ["USD"],
            "total_cents": [1001],
            "status": ["AUTHORISED"],
        }
    )
    rows, result = reconcile_expenses(perfex, xero, {}, 1, dt.date(2025, 3, 1))
    assert rows["perfex_expense_id"].tolist() == [2]  # 1 is before the window
    rows, result = reconcile_expenses(perfex, xero, {}, 0)
    assert rows["discrepancy"].tolist() == ["total_differs", "missing_in_xero"]
    assert rows["money_at_stake_cents"].tolist() == [1, 2500]
    full = with_expenses(report, rows, result)
    assert full.has_discrepancies and report.summary_by_currency["count"].sum() > 0
    by_cur = full.summary_by_currency.set_index(["scope", "category", "currency"])
    assert by_cur.loc[("expenses", "missing_in_xero", "EUR"), "count"] == 1
    assert by_cur["count"].dtype == "int64"
    assert len(full.summary) == len(report.summary) + 6 + 2  # and the totals
    totals = full.summary[full.summary["scope"] == "all"].set_index("currency")
    before = report.summary[report.summary["scope"] == "all"].set_index("currency")
    assert totals.loc["EUR", "money_at_stake_cents"] == 2500
    assert totals.loc["USD", "money_at_stake_cents"] == 1
    assert (
        totals.loc["GBP", "money_at_stake_cents"]
        == before.loc["GBP", "money_at_stake_cents"]
    )


def _pull_bill(world: World, **fields) -> tuple[dict, int]:
    """A USD bill made in Xero (no tax) and pulled into Perfex by expenses-pull."""
    inject = world.sandbox.inject
    line = {"Description": "Paper", "Quantity": 1, "UnitAmount": "64.20"}
    line["AccountCode"] = "429"
    bill = inject.invoice(
        inject.contact("Acme Supplies")["ContactID"],
        [line],
        Type="ACCPAY",
        InvoiceNumber="SUP-77",
        Date="2026-11-20",
        CurrencyCode="USD",
        LineAmountTypes="NoTax",
        **fields,
    )
    settings = {**SYNC_SETTINGS, "expenses_from_xero": "yes"}  # 429: linked
    with world.session() as session:
        result = run_sync(
            session, world.perfex, world.gateway, settings, entities=[PULL_ENTITY]
        )
        assert result.ok and result.report(PULL_ENTITY).pulled == 1, result.failed
        link = session.scalar(
            sa.select(Link).where(
                Link.entity == PULL_ENTITY,
                Link.perfex_key == link_key("bill", bill["InvoiceID"]),
            )
        )
    return bill, int(link.xero_number)


def _bill_row(report, key: int) -> pd.Series:
    """The expense row of a Perfex expense."""
    rows = report.expenses[report.expenses["perfex_expense_id"] == key]
    assert len(rows) == 1, report.expenses
    return rows.iloc[0]


def test_a_pulled_bill_is_reconciled_against_its_bill(xworld):
    """Clean, origin xero, from the invoice pages alone; unpulled bills: no row."""
    bill, key = _pull_bill(xworld)
    inject = xworld.sandbox.inject
    inject.invoice(  # never pulled (a draft): Perfex expenses are no bill register
        inject.contact("Other Supplier")["ContactID"],
        [
            {
                "Description": "Ink",
                "Quantity": 1,
                "UnitAmount": "5",
                "AccountCode": "429",
            }
        ],
        status="DRAFT",
        Type="ACCPAY",
    )
    _run(xworld)
    counters = xworld.sandbox.sandbox.counters
    before = dict(counters.snapshot()["calls"])
    run = _run(xworld)
    calls = {
        k: n - before.get(k, 0)
        for k, n in counters.snapshot()["calls"].items()
        if n != before.get(k)
    }
    assert calls == {
        "GET /Invoices": 1,
        "GET /Payments": 1,
        "GET /BankTransactions": 1,
    }, calls
    row = _bill_row(run.report, key)
    assert row["xero_bank_transaction_id"] == bill["InvoiceID"].lower()
    assert (row["matched_by"], row["origin"], row["discrepancy"]) == (
        "bill",
        "xero",
        "",
    )
    assert row["xero_total_cents"] == row["perfex_total_cents"] == 6420
    assert len(run.report.expenses) == len(_expense_ids(xworld))
    assert not run.report.has_discrepancies, run.report.summary


@pytest.mark.parametrize(
    ("change", "category"),
    [
        ("total", "total_differs"),
        ("date", "date_differs"),
        ("VOIDED", "deleted_in_xero"),
        ("DELETED", "deleted_in_xero"),
        ("gone", "missing_in_xero"),
    ],
)
def test_a_pulled_bill_changed_in_xero_is_flagged(xworld, change, category):
    """The bill edited, voided or deleted in Xero (not pulled again): flagged."""
    bill, key = _pull_bill(xworld, Status="AUTHORISED")
    _run(xworld)  # the snapshot, then an incremental refresh sees the change
    inject, bill_id = xworld.sandbox.inject, bill["InvoiceID"]
    if change == "total":
        line = {**bill["LineItems"][0], "UnitAmount": "70.00"}
        inject.update("Invoices", bill_id, {"LineItems": [line]})
    elif change == "date":
        inject.update("Invoices", bill_id, {"Date": "2026-11-02"})
    elif change == "gone":
        with xworld.session() as session:
            session.execute(sa.delete(Link).where(Link.entity == PULL_ENTITY))
            session.commit()
    else:
        inject.set_status("Invoices", bill_id, change, force=True)
    report = _run(xworld).report
    assert _flagged(report) == {str(key): category}
    row = _bill_row(report, key)
    assert (row["matched_by"], row["origin"]) == (
        "" if change == "gone" else "bill",
        "xero",
    )
    if change == "total":
        assert row["money_at_stake_cents"] == 7000 - 6420
    if change != "gone":  # the bill's page, not a bank transaction's
        assert row["xero_url"] == XERO_BILL.format(id=bill_id.lower())
        story = BILL_GONE if category == "deleted_in_xero" else BILL_CHANGED
        assert (row["why"], row["action"]) == story  # the bill's, not a push log's


def test_a_flagged_bill_reads_the_same_in_every_output(xworld, tmp_path):
    """The bill row: same cells (origin, link, amounts) in CSV, XLSX, page, HTML."""
    bill, key = _pull_bill(xworld)
    line = {**bill["LineItems"][0], "UnitAmount": "70.00"}
    xworld.sandbox.inject.update("Invoices", bill["InvoiceID"], {"LineItems": [line]})
    app = xworld.app()
    try:
        out = tmp_path / "out"
        result = app.test_cli_runner().invoke(args=["reconcile", "--out", str(out)])
        assert result.exit_code == 1, result.output
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        money = {"perfex_total", "xero_total", "money_at_stake"}
        html = (out / "report.html").read_text("utf-8")
        outputs = {
            "csv": eo.csv_output(client, ["expenses"], money),
            "page": eo.page_output(client, ["expenses"], money),
            "report.html": eo.report_html_output(html, ["expenses"], money),
            "report.xlsx": eo.xlsx_output(
                (out / "report.xlsx").read_bytes(), ["expenses"], money
            ),
        }
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
    [row] = outputs["csv"]["expenses"]
    assert (row["perfex_expense_id"], row["discrepancy"]) == (str(key), "total_differs")
    assert (row["matched_by"], row["origin"], row["money_at_stake"]) == (
        "bill",
        "xero",
        "5.80",
    )
    assert row["xero_url"] == XERO_BILL.format(id=bill["InvoiceID"].lower())
    for name, found in outputs.items():
        shown = found["expenses"]
        assert len(shown) == 1, (name, shown)
        common = set(shown[0]) & set(row)
        assert {c: shown[0][c] for c in common} == {c: row[c] for c in common}, name
