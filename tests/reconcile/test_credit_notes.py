"""The credit-notes scope: Perfex credit notes synced to the sandbox, then broken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook

from pxflask.extensions import db
from pxflask.perfex.db import PerfexDB
from pxflask.queueing import close_queue
from pxflask.reconcile.credit_notes import CREDIT_NOTES_OFF
from pxflask.reconcile.export import write_outputs
from pxflask.reconcile.notebook import flagged_rows
from pxflask.reconcile.service import run_reconciliation, save_report, summary_table
from pxflask.sandbox.accounting.credit_notes import CreditNotes
from pxflask.sandbox.accounting.payments import allocate
from tests.fixtures.sandbox import (
    SandboxHandle,
)
from tests.fixtures.webapp import AuthActions

from .conftest import SYNC_SETTINGS, Synced, World
from .entity_world import sync_one_more
from .parse_outputs import (
    categories,
    csv_rows,
    frame_rows,
    html_tables,
    money,
    records,
    text,
    xlsx_rows,
)

APPLIED = Decimal("10.00")
"""The credit applied in Perfex (and allocated by the sync) per prepared note."""
GOODWILL = Decimal("25.00")
"""The total of each prepared (open) credit note."""
AMOUNTS = (
    "perfex_total",
    "xero_total",
    "perfex_allocated",
    "xero_allocated",
    "money_at_stake",
)


def _apply_credits(perfex: PerfexDB) -> int:
    """Goodwill credit notes for open invoices, APPLIED of each applied to its invoice.

    The world's own credit notes are closed or void (their credits became payments
    in ``conftest``): these open ones give the sync allocations to make.
    """
    t = perfex.tables
    with perfex.engine.begin() as conn:
        template = dict(
            conn.execute(sa.select(t.creditnotes).order_by(t.creditnotes.c.id))
            .mappings()
            .first()
        )
        invoices = conn.execute(
            sa.select(t.invoices.c.id, t.invoices.c.clientid, t.invoices.c.currency)
            .where(t.invoices.c.status.in_((1, 3, 4)), t.invoices.c.total > 40)
            .order_by(t.invoices.c.id)
        ).all()
        number = conn.execute(sa.select(sa.func.max(t.creditnotes.c.number))).scalar()
        for n, (invoice_id, client, currency) in enumerate(invoices[:4], start=1):
            values = {
                **template,
                "number": number + n,
                "formatted_number": None,
                "clientid": client,
                "currency": currency,
                "date": dt.date(2026, 11, 20),
                "subtotal": GOODWILL,
                "total_tax": 0,
                "total": GOODWILL,
                "adjustment": 0,
                "discount_percent": 0,
                "discount_total": 0,
                "status": 1,
                "reference_no": None,
            }
            values.pop("id")
            note_id = conn.execute(t.creditnotes.insert().values(**values)).lastrowid
            conn.execute(
                t.itemable.insert().values(
                    rel_id=note_id,
                    rel_type="credit_note",
                    description="Goodwill credit",
                    qty=1,
                    rate=GOODWILL,
                    item_order=1,
                )
            )
            conn.execute(
                t.credits.insert().values(
                    invoice_id=invoice_id,
                    credit_id=note_id,
                    staff_id=1,
                    date=dt.date(2026, 11, 30),
                    date_applied=dt.datetime(2026, 11, 30, 15, 0),
                    amount=APPLIED,
                )
            )
    return min(len(invoices), 4)


def _prepare(handle: SandboxHandle, perfex: PerfexDB) -> Mapping[str, str]:
    """Open credit notes with applied credits to sync; the world's settings."""
    assert _apply_credits(perfex) >= 3
    return SYNC_SETTINGS


@pytest.fixture(scope="session")
def credit_synced(synced_world, tmp_path_factory, xero_sandbox_server) -> Synced:
    """The synced world with its credit notes and some applied credits synced too."""
    folder = tmp_path_factory.mktemp("reconcile-credit-notes")
    return sync_one_more(
        synced_world,
        folder,
        xero_sandbox_server,
        "credit-notes",
        "creditnotes",
        _prepare,
        at_least=3,
    )


@pytest.fixture
def cworld(credit_synced, tmp_path, xero_sandbox) -> Iterator[World]:
    """A private copy of the world with credit notes synced and enabled."""
    w = World(credit_synced, tmp_path, xero_sandbox)
    yield w
    w.close()


def _run(world: World, **kw: Any):
    """One reconciliation run of the world (snapshot refreshed)."""
    with world.session() as session:
        return run_reconciliation(
            world.perfex, session, world.gateway, world.instance_path, **kw
        )


def _flagged(report) -> dict[str, str]:
    """{credit note number: discrepancy} of the flagged credit note rows."""
    rows = report.discrepancies("credit_notes")
    return {
        str(r.credit_note_number): str(r.discrepancy)
        for r in rows.itertuples(index=False)
    }


def _notes(world: World) -> list[tuple[int, str, int]]:
    """(id, formatted number, status) of the Perfex credit notes, applied ones first."""
    from pxflask.perfex.reads import read_credit_applications, read_credit_notes

    applied = {a.credit_note_id for a in read_credit_applications(world.perfex)}
    notes = read_credit_notes(world.perfex)
    return sorted(
        ((n.id, n.formatted_number, n.status) for n in notes),
        key=lambda n: (n[0] not in applied, n[0]),
    )


@contextmanager
def _panel(world: World, run: Any) -> Iterator[tuple[Flask, Any]]:
    """The panel showing ``run`` as its current report, and a signed-in client."""
    app = world.app()
    try:
        with app.app_context():
            save_report(run, app.instance_path)
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        yield app, client
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_clean_run_compares_credit_notes_and_flags_nothing(cworld):
    """Every synced credit note matched by its link, allocations agree, no flag."""
    report = _run(cworld).report
    assert report.credit_notes is not None
    assert len(report.credit_notes) == len(_notes(cworld))
    assert set(report.credit_notes["matched_by"]) == {"link"}
    allocated = report.credit_notes["perfex_allocated_cents"]
    assert (allocated > 0).sum() >= 1
    assert (
        report.credit_notes["perfex_allocated_cents"]
        == report.credit_notes["xero_allocated_cents"]
    ).all()
    assert (
        report.credit_notes["perfex_remaining_cents"]
        == report.credit_notes["xero_remaining_cents"]
    ).all()
    assert not report.has_discrepancies, report.summary[report.summary["count"] > 0]
    scopes = set(report.summary["scope"])
    assert "credit_notes" in scopes
    assert "not_compared" not in set(report.summary["category"])
    assert "credit notes compared" in summary_table(report)


def _break_all(world: World) -> dict[str, Any]:
    """Break four credit notes: edited, voided, Perfex-only, Xero-only allocation."""
    notes = _notes(world)
    applied_id, applied_number, _ = notes[0]
    rest = [n for n in notes[1:] if n[2] == 1]
    edited, voided = rest[0], rest[1]
    t = world.perfex.tables
    with world.perfex.engine.begin() as conn:
        # edited in Perfex after the sync: total and tax change, Xero keeps the old
        row = (
            conn.execute(
                sa.select(t.creditnotes).where(t.creditnotes.c.id == edited[0])
            )
            .mappings()
            .one()
        )
        conn.execute(
            t.creditnotes.update()
            .where(t.creditnotes.c.id == edited[0])
            .values(
                total=Decimal(str(row["total"])) + Decimal("7.00"),
                total_tax=Decimal(str(row["total_tax"])) + Decimal("7.00"),
            )
        )
        # only in Perfex: a copy of the edited note with a number of its own
        values = dict(row)
        values.pop("id")
        values["number"] = 9001
        new_id = conn.execute(t.creditnotes.insert().values(**values)).lastrowid
        currency = conn.execute(
            sa.select(t.currencies.c.name).where(t.currencies.c.id == row["currency"])
        ).scalar()
    # voided in Xero while Perfex still has it open
    world.sandbox.inject.set_status(
        "CreditNotes", world.link("credit-notes", voided[0]), "VOIDED", force=True
    )
    # an allocation made only in Xero, from the applied note to its invoice
    note_xid = world.link("credit-notes", applied_id)
    sb = world.sandbox.sandbox
    with sb.lock:
        ctx = world.sandbox.inject._ctx(None)
        note = CreditNotes().get(ctx, note_xid)
        invoice_xid = note["Allocations"][0]["InvoiceID"]
        allocate(
            ctx, note, {"Invoice": {"InvoiceID": invoice_xid}, "Amount": Decimal("3")}
        )
    return {
        "edited": edited[1],
        "voided": voided[1],
        "only": new_id,
        "only_total": Decimal(str(row["total"])),
        "currency": str(currency).upper(),
        "allocated": applied_number,
        "invoice_xid": invoice_xid,
    }


def test_broken_credit_notes_are_flagged_with_their_gaps(cworld):
    """Categories, money per currency, reasons and links of four broken notes."""
    _run(cworld)  # the first run builds the snapshot: the next one is incremental
    broken = _break_all(cworld)
    report = _run(cworld).report
    flagged = _flagged(report)
    only_number = next(
        str(r.credit_note_number)
        for r in report.credit_notes.itertuples(index=False)
        if r.perfex_credit_note_id == broken["only"]
    )
    assert flagged == {
        broken["edited"]: "total_differs;tax_differs",
        broken["voided"]: "deleted_in_xero",
        only_number: "missing_in_xero",
        broken["allocated"]: "allocated_differs",
    }
    rows = report.credit_notes.set_index("credit_note_number")
    assert rows.loc[broken["edited"], "money_at_stake_cents"] == 700
    assert rows.loc[only_number, "money_at_stake_cents"] == int(
        broken["only_total"] * 100
    )
    alloc = rows.loc[broken["allocated"]]
    assert alloc["xero_allocated_cents"] - alloc["perfex_allocated_cents"] == 300
    assert alloc["xero_remaining_cents"] == alloc["perfex_remaining_cents"] - 300
    # the same 3.00 is the invoice's paid gap: counted there, not twice
    invoices = report.invoices
    invoice = invoices[invoices["xero_invoice_id"] == broken["invoice_xid"]]
    assert "paid_differs" in str(invoice["discrepancy"].iloc[0])
    assert bool(alloc["counted_on_invoice"]) and alloc["money_at_stake_cents"] == 300
    # money at stake per currency: each amount once (the allocation's 3.00 once)
    summary = report.summary
    total = summary[summary["scope"] == "all"].set_index("currency")
    notes = report.credit_notes
    parts = [
        report.discrepancies("invoices"),
        report.discrepancies("payments").query("not counted_on_invoice"),
        notes[(notes["discrepancy"] != "") & ~notes["counted_on_invoice"]],
    ]
    for currency, at_stake in total["money_at_stake_cents"].items():
        added = sum(
            int(p.loc[p["currency"] == currency, "money_at_stake_cents"].sum())
            for p in parts
        )
        assert at_stake == added, currency
    invoice_currency = str(invoice["currency"].iloc[0])
    assert total.loc[invoice_currency, "money_at_stake_cents"] >= 300
    cn = summary[(summary["scope"] == "credit_notes") & (summary["count"] > 0)]
    by_category = cn.set_index("category")["money_at_stake_cents"]
    assert by_category["allocated_differs"] == 300
    # reasons and links
    edited = rows.loc[broken["edited"]]
    assert "Total: Perfex" in edited["what"] and "Tax: Perfex" in edited["what"]
    assert edited["xero_url"].startswith(
        "https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID="
    )
    assert edited["log_url"].startswith("/sync/log/")
    assert "edited since" in edited["why"]
    voided = rows.loc[broken["voided"]]
    assert "VOIDED in Xero" in voided["why"]
    assert "Credit applied: Perfex" in alloc["what"]
    assert "not in Xero" in rows.loc[only_number, "what"]
    assert "Never synced" in rows.loc[only_number, "why"]


def _canonical(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Flagged credit note rows as {number: (currency, amounts..., categories)}."""
    out = {}
    for row in rows:
        found = categories(row.get("discrepancy"))
        if found:
            key = text(row.get("credit_note_number"))
            assert key not in out, key
            amounts = tuple(money(row.get(a)) for a in AMOUNTS)
            out[key] = (text(row.get("currency")), *amounts, found)
    return out


def test_every_output_shows_the_same_credit_note_rows(cworld, tmp_path):
    """CSV, XLSX, HTML, the page and the notebook helper: same rows and amounts."""
    _break_all(cworld)
    run = _run(cworld)
    report = run.report
    expected = _canonical(frame_rows(flagged_rows(report, "credit_notes")))
    assert len(expected) == 4
    from pxflask.reconcile.notebook_views import reasons_table

    reasons = reasons_table(report, "credit_notes")
    assert sorted(reasons["credit_note_number"]) == sorted(expected)
    assert reasons["xero_url"].str.contains("ViewCreditNote").sum() == 3
    paths = write_outputs(report, tmp_path / "out")
    assert "credit_notes.csv" in paths
    body = paths["credit_notes.csv"].read_text("utf-8-sig")
    assert _canonical(csv_rows(body)) == expected
    book = paths["report.xlsx"].read_bytes()
    assert _canonical(xlsx_rows(book, "credit notes")) == expected
    html = paths["report.html"].read_text("utf-8")
    table = next(t for t in html_tables(html) if t["heading"].startswith("Credit note"))
    assert _canonical(records(table)) == expected
    sheet = load_workbook(paths["report.xlsx"])["credit notes"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    header = [c.value for c in sheet[1]]
    assert header[0] == "discrepancy"
    money_col = header.index("perfex_total") + 1
    assert sheet.cell(row=2, column=money_col).number_format == "0.00"
    assert any(
        str(sheet.cell(row=r, column=1).value or "").startswith("total ")
        for r in range(2, sheet.max_row + 1)
    )
    with _panel(cworld, run) as (app, client):
        page = client.get("/reconcile/").get_data(as_text=True)
        table = next(t for t in html_tables(page) if t["id"] == "credit-note-rows")
        assert table["rows"][0][0] == "discrepancy"
        page_rows = _canonical(records(table))
        assert page_rows == expected
        assert "credit_notes.csv" in page
        download = client.get("/reconcile/download/credit_notes.csv")
        assert download.status_code == 200
        assert _canonical(csv_rows(download.get_data(as_text=True))) == expected


def test_history_counts_credit_notes(cworld):
    """The history's figures carry the scope's counts; its page lists the CSV."""
    from pxflask.reconcile.frames import from_cents
    from pxflask.reconcile.history import figures_of, record_run
    from pxflask.reconcile.stake import stake_by_currency

    _break_all(cworld)
    run = _run(cworld)
    figures = figures_of(run.report)
    assert figures["counts"]["credit_notes/total_differs"] == 1
    assert figures["counts"]["credit_notes/allocated_differs"] == 1
    assert figures["compared"]["credit_notes"] >= 4
    # Money at stake per currency, each amount once: the summary's totals rows (a
    # row flagged for both total and tax, or counted on its invoice, adds once).
    totals = {c: str(from_cents(v)) for c, v in stake_by_currency(run.report.summary)}
    assert figures["money_at_stake"] == totals
    with cworld.session() as session:
        entry, _ = record_run(
            session,
            run,
            cworld.instance_path,
            generated_by="test",
            trigger="cli",
            organisation="Demo",
        )
        entry_id = entry.id
    with _panel(cworld, run) as (_, client):
        page = client.get(f"/reconcile/reports/{entry_id}").get_data(as_text=True)
        assert "credit_notes.csv" in page
        got = client.get(f"/reconcile/reports/{entry_id}/download/credit_notes.csv")
        assert got.status_code == 200
        assert len(_canonical(csv_rows(got.get_data(as_text=True)))) == 4


def test_rerun_refreshes_credit_notes_incrementally(cworld):
    """The credit note snapshot costs one call when nothing changed."""
    first = _run(cworld)
    again = _run(cworld)
    assert first.counts["xero_credit_notes"] == again.counts["xero_credit_notes"]
    assert again.xero_calls <= 3  # invoices, payments and credit notes: one each


def test_entity_off_says_so_and_flags_nothing(world, tmp_path):
    """Credit notes off (the default): not compared, said plainly in every output."""
    run = _run(world)
    report = run.report
    assert report.credit_notes is None
    rows = report.summary[report.summary["scope"] == "credit_notes"]
    assert rows[["category", "count"]].values.tolist() == [["not_compared", 0]]
    assert CREDIT_NOTES_OFF in summary_table(report)
    paths = write_outputs(report, tmp_path / "out")
    assert "credit_notes.csv" not in paths
    summary_csv = csv_rows(paths["summary.csv"].read_text("utf-8-sig"))
    assert [
        (r["scope"], r["category"], r["count"])
        for r in summary_csv
        if r["scope"] == "credit_notes"
    ] == [("credit_notes", "not_compared", "0")]
    html = paths["report.html"].read_text("utf-8")
    assert "id='credit-notes-off'" in html and "Credit notes: not compared" in html
    assert "Credit note discrepancies" not in html
    book = paths["report.xlsx"].read_bytes()
    cover = {r["field"]: r["value"] for r in xlsx_rows(book, "cover")}
    assert cover["Credit notes"] == CREDIT_NOTES_OFF
    assert cover["credit_notes: not_compared"] == "0"
    summary_sheet = xlsx_rows(book, "summary")
    assert any(r["category"] == "not_compared" for r in summary_sheet)
    assert "credit notes" not in load_workbook(paths["report.xlsx"]).sheetnames
    assert flagged_rows(report, "credit_notes").empty
    with _panel(world, run) as (app, client):
        page = client.get("/reconcile/").get_data(as_text=True)
        assert 'id="credit-notes-off"' in page and "Credit notes: not compared" in page
        assert 'id="credit-note-rows"' not in page
        assert "credit_notes.csv" not in page
        assert client.get("/reconcile/download/credit_notes.csv").status_code == 404
        out = tmp_path / "cli"
        result = app.test_cli_runner().invoke(args=["reconcile", "--out", str(out)])
        assert "Credit notes: not compared" in result.output, result.output
        assert not (out / "credit_notes.csv").exists()


def test_damaged_credit_note_is_listed_not_flagged(cworld):
    """A credit note with an unreadable total is listed; its Xero copy is set aside."""
    note_id, number, _ = _notes(cworld)[0]
    t = cworld.perfex.tables
    with cworld.perfex.engine.begin() as conn:
        conn.execute(
            t.creditnotes.update()
            .where(t.creditnotes.c.id == note_id)
            .values(total=sa.literal("12,50 EUR"))
        )
        first_credit = conn.execute(sa.select(sa.func.min(t.credits.c.id))).scalar()
        conn.execute(
            t.credits.update()
            .where(t.credits.c.id == first_credit)
            .values(amount=sa.literal("lots"))
        )
    run = _run(cworld)
    listed = {(u.kind, u.perfex_id) for u in run.unreadable}
    assert ("credit note", note_id) in listed and ("credit", first_credit) in listed
    assert len([u for u in run.unreadable if u.kind == "credit"]) == 1  # once
    notes = run.report.credit_notes
    assert number not in set(notes["credit_note_number"])
    assert "only_in_xero" not in set(notes["discrepancy"])
