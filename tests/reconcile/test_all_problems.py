"""Every staged problem, in one world, found the same way by every output.

One synced world gets every problem issue 12 names, on both sides, through the real
sync and the sandbox: a payment typed in Xero only, a payment deleted in Xero, an
invoice edited in Perfex after the sync, credits applied in Perfex while credit
notes are not synced, an invoice dated inside Xero's lock date (skipped by the
sync), one whose sales account Xero does not have (refused), one deleted in Xero,
several currencies, and a wrong bank mapping, staged both ways finance makes it
in Settings. Refused: ``payment_account.<mode>`` names account 200 (Sales) instead
of the bank account 090, so Xero refuses the next payment of that mode ("Payments
can only be made to bank accounts ...") and the sync records the failure: a flagged
payment row with Xero's error. Accepted: the mode named another bank account (091)
when its payment was sent, and was corrected to 090 since: the invoice and payment
agree, and the month-end collections show the amount expected on 090 and landed on
091 (while the wrong mapping stands, both sides show 091: nothing to find).

The page, report.html, the XLSX, the CSVs and both executed notebooks are read
back; for every scope of the report each shows the same flagged rows with the same
amounts, currency, categories, reasons (what, why, action) and links (Perfex, Xero,
log entry). Each staged problem is then checked for its own category and reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.models import ReconcileReport, SyncLog
from pxflask.queueing import close_queue
from pxflask.reconcile.notebook import report_scopes
from pxflask.reconcile.reason_join import CREDITS_WHY
from pxflask.reconcile.reasons import REASON_COLUMNS
from pxflask.reconcile.service import load_report
from tests.fixtures.sandbox import (
    SandboxHandle,
    _patch_token_urls,
    _restore_token_urls,
)
from tests.fixtures.webapp import refreshed_report
from tests.reconcile import every_output as eo
from tests.reconcile.conftest import WORLD_TODAY, World
from tests.reconcile.staging import (
    CORRECT_BANK,
    EDIT,
    LOCK,
    LOCKED_DAY,
    OTHER_BANK,
    PARTIAL_CREDIT,
    TYPED_IN_XERO,
    UNKNOWN_ACCOUNT,
    WRONG_BANK_AMOUNT,
    stage_both_sides,
    stage_other_bank,
    stage_reasons,
    stage_wrong_bank,
)
from tests.xero.helpers import TEST_KEY

PERFEX = "https://crm.example.com"
XERO_REFUSES = "Payments can only be made to bank accounts"
MONTH_END = "/reconcile/month-end/"
NAMES = ("01_reconciliation_overview.ipynb", "02_investigate_mismatches.ipynb")


@dataclasses.dataclass
class Found:
    """The staged world and what every output shows."""

    world: World
    staged: dict[str, Any]
    scopes: list[str]
    outputs: dict[str, eo.Output]
    reasons: dict[str, eo.Output]  # outputs showing only the reason columns
    report: Any
    stakes: dict[str, dict[str, str]]  # output -> money at stake per currency
    drilled: str  # what notebook 02 printed of the invoice it drills into
    collected: dict[str, list[dict[str, str]]]  # month-end collections, this month


def _amounts(report: Any, scopes: list[str]) -> set[str]:
    """The public names of every money column of the scopes."""
    return {
        c.removesuffix("_cents")
        for s in scopes
        for c in getattr(report, s).columns
        if c.endswith("_cents")
    }


def _stage(world: World) -> dict[str, Any]:
    """Every problem on the world; the staged records by role."""
    reasons = stage_reasons(world)
    kept = {reasons.locked, reasons.unmapped, reasons.deleted}
    bank = stage_wrong_bank(world, exclude=kept)
    other = stage_other_bank(world, exclude=kept | {bank.invoice})
    both = stage_both_sides(world, exclude=kept | {bank.invoice, other.invoice})
    return {"reasons": reasons, "bank": bank, "other_bank": other, **both}


def _notebook_parameters(world: World) -> dict[str, Any]:
    """The notebooks' parameters for the world (same tolerance as the panel)."""
    return {
        "perfex_url": world.perfex_url,
        "module_db_url": world.module_url,
        "instance_path": str(world.instance_path),
        "date_from": None,
        "date_to": None,
        "tolerance": "0",
        "xero_settings": {
            **world.sandbox.config,
            "XERO_GRANT": "client_credentials",
            "PXFLASK_ENCRYPTION_KEY": TEST_KEY,
        },
        "refresh": True,
    }


def _read(world: World, client: Any, folder: Any) -> Found:
    """Every output of the refreshed report, and both notebooks run on the world."""
    report = load_report(world.instance_path).report
    scopes = report_scopes(report)
    money = _amounts(report, scopes)
    get = client.get
    html = get("/reconcile/download/report.html").get_data(as_text=True)
    outputs = {
        "csv": eo.csv_output(client, scopes, money),
        "page": eo.page_output(client, scopes, money),
        "report.html": eo.report_html_output(html, scopes, money),
        "report.xlsx": eo.xlsx_output(
            get("/reconcile/download/report.xlsx").data, scopes, money
        ),
    }
    with world.session() as session:
        kept = session.scalar(sa.select(sa.func.max(ReconcileReport.id)))
    outputs["kept report's csv"] = eo.csv_output(
        client, scopes, money, f"/reconcile/reports/{kept}"
    )
    params = _notebook_parameters(world)
    overview = eo.execute(NAMES[0], {**params, "as_at": None}, folder)
    drill = eo.execute(
        NAMES[1], {**params, "invoice_number": None, "customer": None}, folder
    )
    outputs["notebook 01"] = eo.notebook_output(overview, "Flagged", scopes, money)
    reasons = {
        "notebook 01": eo.notebook_output(overview, "Why", scopes, money),
        "notebook 02": {
            "payments": eo.notebook_table(
                drill, 'reasons_table(report, "payments")', money
            )
        },
    }
    outputs["notebook 02"] = {
        "payments": eo.notebook_table(drill, 'flagged_rows(report, "payments")', money)
    }
    xlsx = get("/reconcile/download/report.xlsx").data
    summary = get("/reconcile/download/summary.csv").get_data(as_text=True)
    stake = eo.notebook_records(overview, "money_at_stake(report)")
    stakes = {
        "summary.csv": eo.summary_stake(eo.csv_rows(summary)),
        "report.xlsx": eo.summary_stake(eo.xlsx_rows(xlsx, "summary")),
        "page": eo.page_stake(get("/reconcile/").get_data(as_text=True)),
        "report.html": eo.html_stake(html),
        "notebook 01": {r["currency"]: eo.money(r["money_at_stake"]) for r in stake},
    }
    month = f"{MONTH_END}?as_at={WORLD_TODAY}&from={WORLD_TODAY:%Y-%m}-01"
    collected = {
        "page": _month_end_rows(get(month).get_data(as_text=True)),
        "collections.csv": eo.csv_rows(
            get(MONTH_END + "collections.csv" + month[len(MONTH_END) :]).get_data(
                as_text=True
            )
        ),
    }
    drilled = eo.notebook_text(drill, "if invoice_number is None and len(flagged)")
    return Found(
        world, {}, scopes, outputs, reasons, report, stakes, drilled, collected
    )


@pytest.fixture(scope="module")
def found(synced_world, xero_sandbox_server, tmp_path_factory) -> Iterator[Found]:
    """The world with every problem, the panel's report refreshed, outputs read."""
    handle = SandboxHandle(xero_sandbox_server)
    handle.reset()
    saved = _patch_token_urls(handle)
    folder = tmp_path_factory.mktemp("all-problems")
    world = World(synced_world, folder, handle)
    # the operator's config: the panel and the notebooks read the same file
    (world.instance_path / "pxflask.toml").write_text(f'PERFEX_URL = "{PERFEX}/"\n')
    app = None
    try:
        staged = _stage(world)
        app = world.app()
        client = refreshed_report(app)
        out = _read(world, client, folder)
        out.staged = staged
        yield out
    finally:
        if app is not None:
            close_queue(app)
            with app.app_context():
                db.engine.dispose()
        world.close()
        _restore_token_urls(saved)
        leftover = handle.clear_violations()
        assert not leftover, leftover


def test_the_report_has_the_scopes(found):
    """Invoices and payments at least, both with flagged rows in every output."""
    assert {"invoices", "payments"} <= set(found.scopes)
    for output, scopes in found.outputs.items():
        for scope in ("invoices", "payments"):
            assert scope not in scopes or scopes[scope], (output, scope)
        assert set(scopes) == set(found.scopes) or output == "notebook 02", output


@pytest.mark.parametrize(
    "output",
    [
        "page",
        "report.html",
        "report.xlsx",
        "kept report's csv",
        "notebook 01",
        "notebook 02",
    ],
)
def test_every_output_shows_the_same_rows(found, output):
    """Same flagged rows, amounts, currency, categories, reasons and links as the CSV.

    Compared on every column the output shares with the CSV; each output has at
    least the page's columns (the narrowest output: the categories, the reasons,
    the links, the currency and the amounts).
    """
    reference = found.outputs["csv"]
    shown = found.outputs[output]
    for scope, rows in shown.items():
        page = found.outputs["page"][scope]
        needed = list(page[0]) if page else []
        lead = ["discrepancy", *REASON_COLUMNS, "currency", "money_at_stake"]
        assert not page or set(lead) <= set(needed), (scope, needed)
        lacking = [c for c in needed if rows and c not in rows[0]]
        assert not lacking, f"{output} {scope}: no column {lacking}"
        known = list(reference[scope][0]) if reference[scope] else []
        columns = [c for c in known if rows and c in rows[0]]
        want = eo.projected(reference[scope], columns)
        got = eo.projected(rows, columns)
        assert got == want, _diff(output, scope, columns, got, want)


def test_notebooks_show_the_same_reasons_and_links(found):
    """The notebooks' reasons tables: same rows, categories, reasons and links."""
    for output, scopes in found.reasons.items():
        for scope, rows in scopes.items():
            assert rows, (output, scope)
            columns = [c for c in rows[0] if c in found.outputs["csv"][scope][0]]
            assert {"discrepancy", *REASON_COLUMNS} <= set(columns), columns
            assert any(c.endswith("_id") for c in columns), "rows not identified"
            want = eo.projected(found.outputs["csv"][scope], columns)
            got = eo.projected(rows, columns)
            assert got == want, _diff(output, scope, columns, got, want)


def _diff(output: str, scope: str, columns: list[str], got: list, want: list) -> str:
    """What one output shows differently from the CSV."""
    extra = [dict(zip(columns, r, strict=True)) for r in got if r not in want]
    missing = [dict(zip(columns, r, strict=True)) for r in want if r not in got]
    return f"{output} {scope}: shown but not in CSV {extra}; in CSV not shown {missing}"


def _rows(found: Found, scope: str, **match: str) -> list[eo.Row]:
    """The CSV's flagged rows of a scope whose columns have the given values."""
    rows = found.outputs["csv"][scope]
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def _one(found: Found, scope: str, **match: str) -> eo.Row:
    """The one flagged row that matches."""
    rows = _rows(found, scope, **match)
    assert len(rows) == 1, (scope, match, rows)
    return rows[0]


def _newest_log(world: World, entity: str, key: int) -> str:
    """The panel path of the newest sync log entry of a record."""
    with world.session() as session:
        found = session.scalar(
            sa.select(sa.func.max(SyncLog.id)).where(
                SyncLog.entity == entity, SyncLog.perfex_key == str(key)
            )
        )
    assert found is not None, (entity, key)
    return f"/sync/log/{found}"


def _perfex(kind: str, key: int) -> str:
    """The Perfex admin URL of a record."""
    return f"{PERFEX}/admin/{kind}/{key}"


def test_sync_reasons_are_found(found):
    """Lock date, unmapped account, deleted in Xero: the sync's reason, the log link."""
    staged, world = found.staged["reasons"], found.world
    locked = _one(found, "invoices", invoice_number=staged.locked_number)
    assert locked["discrepancy"] == "missing_in_xero"
    assert f"Xero's period lock date {LOCK}" in locked["why"]
    assert f"dated {LOCKED_DAY}" in locked["why"]
    assert locked["log_url"] == _newest_log(world, "invoices", staged.locked)
    assert locked["perfex_url"] == _perfex("invoices/list_invoices", staged.locked)
    assert locked["xero_url"] == ""
    unmapped = _one(found, "invoices", invoice_number=staged.unmapped_number)
    assert unmapped["discrepancy"] == "missing_in_xero"
    assert f"Account code '{UNKNOWN_ACCOUNT}'" in unmapped["why"]
    assert unmapped["log_url"] == _newest_log(world, "invoices", staged.unmapped)
    gone = _one(found, "invoices", invoice_number=staged.deleted_number)
    assert gone["discrepancy"] == "status_differs"
    assert "deleted in Xero" in gone["why"]
    assert gone["xero_url"].endswith(f"InvoiceID={staged.deleted_xero_id}")
    assert gone["log_url"] == _newest_log(world, "invoices", staged.deleted)


def test_wrong_bank_mapping_is_found(found):
    """The refused payment: missing in Xero, Xero's error as the why, its log entry."""
    bank, world = found.staged["bank"], found.world
    pay = _one(found, "payments", perfex_payment_id=str(bank.payment))
    assert pay["discrepancy"] == "missing_in_xero"
    assert pay["perfex_amount"] == f"{WRONG_BANK_AMOUNT:.2f}"
    assert XERO_REFUSES in pay["why"], pay["why"]
    assert pay["log_url"] == _newest_log(world, "payments", bank.payment)
    assert pay["perfex_url"].startswith(PERFEX + "/admin/")
    invoice = _one(found, "invoices", invoice_number=bank.invoice_number)
    assert "paid_differs" in invoice["discrepancy"].split(";")
    assert invoice["money_at_stake"] == f"{WRONG_BANK_AMOUNT:.2f}"
    # the invoice's row says why: its payment's failure, joined from the payments
    assert invoice["why"].startswith("Its payments differ: " + pay["what"])
    assert XERO_REFUSES in invoice["why"] and invoice["action"] == pay["action"]


def test_both_sides_problems_are_found(found):
    """Typed and deleted in Xero, edited in Perfex, credits: category and amount."""
    staged = found.staged
    roles = ("typed", "credited", "part_credited", "deleted", "edited")
    number = {r: staged[r]["xero"]["InvoiceNumber"] for r in roles}
    typed = _one(found, "invoices", invoice_number=number["typed"])
    assert typed["discrepancy"] == "paid_differs"
    assert typed["money_at_stake"] == f"{TYPED_IN_XERO:.2f}"
    only = _one(found, "payments", invoice_number=number["typed"])
    assert only["discrepancy"] == "only_in_xero" and only["perfex_url"] == ""
    assert only["xero_amount"] == f"{TYPED_IN_XERO:.2f}" and only["xero_url"]
    assert only["why"] == "Entered in Xero directly: the sync has no link to it"
    assert only["log_url"] == ""  # the sync never saw it
    assert typed["why"] == f"Its payments differ: {only['what']}: {only['why']}"
    assert typed["action"] == only["action"]
    edited = _one(found, "invoices", invoice_number=number["edited"])
    assert "total_differs" in edited["discrepancy"].split(";")
    assert edited["money_at_stake"] == f"{EDIT:.2f}"
    part = _one(found, "invoices", invoice_number=number["part_credited"])
    assert part["discrepancy"] == "credit_not_synced"
    assert part["money_at_stake"] == f"{PARTIAL_CREDIT:.2f}"
    credited = _one(found, "invoices", invoice_number=number["credited"])
    assert credited["discrepancy"] == "credit_not_synced"
    for row in (part, credited):
        assert row["why"] == CREDITS_WHY, row["why"]
        assert "credit-notes entity" in row["action"]
    deleted = staged["deleted_payment"]["xero"]
    gone = _one(found, "invoices", invoice_number=number["deleted"])
    assert "paid_differs" in gone["discrepancy"].split(";")
    assert gone["money_at_stake"] == f"{Decimal(str(deleted['Amount'])):.2f}"
    pay = _one(found, "payments", invoice_number=number["deleted"])
    assert pay["discrepancy"] == "missing_in_xero"
    assert "deleted in Xero" in pay["what"] and "DELETED in Xero" in pay["why"]
    assert pay["xero_url"].endswith(deleted["PaymentID"])
    assert gone["why"].startswith("Its payments differ: " + pay["what"])
    assert "Synced" in edited["why"] and "edited since" in edited["why"]


def test_every_flagged_row_is_actionable(found):
    """Each flagged row says what, why (or the category's words) and what to do."""
    currencies = set()
    for scope in found.scopes:
        for row in found.outputs["csv"][scope]:
            assert row["what"] and row["action"], (scope, row)
            assert row["perfex_url"] or row["xero_url"], (scope, row)
            currencies.add(row["currency"])
    assert len(currencies) >= 3, currencies


def test_money_at_stake_is_the_same_everywhere(found):
    """Per currency, each flagged amount once: the same figure in every output."""
    expected: dict[str, Decimal] = {}
    for scope in found.scopes:
        for row in found.outputs["csv"][scope]:
            if row.get("counted_on_invoice") != "True":  # not on its invoice's row
                gap = Decimal(row["money_at_stake"] or 0)
                expected[row["currency"]] = expected.get(row["currency"], 0) + gap
    want = {c: f"{v:.2f}" for c, v in expected.items() if v}
    assert len(want) >= 3, want
    for output, stake in found.stakes.items():
        assert stake == want, output


def test_drill_down_prints_the_rows_reason_and_links(found):
    """Notebook 02's invoice (the most at stake): the CSV's what, why, action, links."""
    rows = found.outputs["csv"]["invoices"]
    top = max(rows, key=lambda r: Decimal(r["money_at_stake"] or 0))
    row = _one(found, "invoices", invoice_number=top["invoice_number"])
    assert f"Invoice {row['invoice_number']}: 1 row(s)" in found.drilled
    assert f"what: {row['what']}\nwhy: {row['why']}\naction: {row['action']}\n" in (
        found.drilled
    )
    links = f"links: {row['perfex_url']} {row['xero_url']} {row['log_url']}"
    assert links in found.drilled and row["perfex_url"].startswith(PERFEX)


def _month_end_rows(body: str) -> list[dict[str, str]]:
    """The month-end page's collections table."""
    tables = eo.html_tables(body)
    table = next(
        t for t in tables if t["id"] == "collections" or "Collections" in t["heading"]
    )
    return eo.records(table)


def test_payment_on_another_bank_account_shows_in_collections(found):
    """Sent to 091 under a wrong mapping, expected on 090 since: both rows differ."""
    other, world = found.staged["other_bank"], found.world
    with world.perfex.engine.connect() as conn:
        name = conn.execute(
            sa.text("SELECT name FROM tblpayment_modes WHERE id = :m"),
            {"m": other.mode},
        ).scalar()
    amount = f"{WRONG_BANK_AMOUNT:.2f}"
    for output, rows in found.collected.items():
        mine = {
            r["bank_account"].split(" ")[0]: r
            for r in rows
            if r["payment_mode"] == name
        }
        assert set(mine) == {CORRECT_BANK, OTHER_BANK}, (output, mine)
        expected, landed = mine[CORRECT_BANK], mine[OTHER_BANK]
        assert eo.money(expected["perfex"]) == amount, (output, expected)
        assert eo.money(expected["xero"] or 0) == "0.00", (output, expected)
        assert eo.money(landed["xero"]) == amount, (output, landed)
        assert eo.money(landed["perfex"] or 0) == "0.00", (output, landed)
    # the reconciliation itself agrees: the payment is in Xero, with its amount
    assert not _rows(found, "payments", perfex_payment_id=str(other.payment))
