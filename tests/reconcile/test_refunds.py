"""The refunds scope: Perfex credit-note refunds against Xero's refund payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pxflask.extensions import db
from pxflask.perfex import reads
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import close_queue
from pxflask.reconcile.export import write_csvs, write_xlsx
from pxflask.reconcile.refunds import (
    PERFEX_REFUND_COLUMNS,
    XERO_REFUND_COLUMNS,
    check_refunds,
    refund_rows,
)
from pxflask.reconcile.scope_snapshot import typed_frame
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.service import run_reconciliation, save_report
from pxflask.sync.settings import set_setting
from tests.fixtures.webapp import AuthActions, make_test_app
from tests.sync.conftest import UrlEnv
from tests.sync.test_credit_allocations import _credit_note
from tests.sync.test_credit_refunds import _refund, _refund_in_xero

D = Decimal
ON = date(2025, 6, 10)


def _perfex(*rows: tuple[int, int, int]) -> pd.DataFrame:
    """Perfex refunds (id, amount cents, day of June 2025)."""
    return typed_frame(
        [
            {
                "perfex_refund_id": i,
                "perfex_credit_note_id": 1,
                "xero_credit_note_id": "cn",
                "date": date(2025, 6, day),
                "currency": "GBP",
                "amount_cents": amount,
            }
            for i, amount, day in rows
        ],
        PERFEX_REFUND_COLUMNS,
    )


def _xero(*rows: tuple[str, int, int, str, int | None]) -> pd.DataFrame:
    """Xero refunds (id, amount cents, day of June 2025, status, reference id)."""
    return typed_frame(
        [
            {
                "xero_id": x,
                "credit_note_id": "cn",
                "reference_id": ref,
                "date": date(2025, 6, day),
                "status": status,
                "currency": "GBP",
                "amount_cents": amount,
            }
            for x, amount, day, status, ref in rows
        ],
        XERO_REFUND_COLUMNS,
    )


def test_refunds_is_an_optional_scope_after_credit_notes():
    """The credit-refunds unit names the scope; it comes after credit notes."""
    assert OPTIONAL_SCOPES.index("refunds") > OPTIONAL_SCOPES.index("credit_notes")


def test_each_category_is_found_and_matched_by_link_or_reference():
    """Missing, only in Xero, deleted, amount and date: each on its own row."""
    perfex = _perfex((1, 1000, 10), (2, 500, 10), (3, 700, 10), (4, 900, 10), (5, 1, 1))
    xero = _xero(
        ("a", 1000, 10, "AUTHORISED", None),  # 1 by link: agrees
        ("b", 450, 10, "AUTHORISED", 2),  # 2 by reference: amount differs
        ("c", 700, 10, "DELETED", None),  # 3 by link: deleted in Xero
        ("d", 900, 11, "AUTHORISED", 4),  # 4 by reference: date differs
        ("e", 300, 12, "AUTHORISED", None),  # only in Xero
        ("f", 200, 12, "DELETED", None),  # deleted, unmatched: nothing to flag
    )
    rows = refund_rows(perfex, xero, {1: "a", 3: "c"})
    result = check_refunds(rows, 0)
    flags = {}
    for i in range(len(rows)):
        names = [n for n in result.categories if result.flagged(n)[i]]
        key = rows["perfex_refund_id"][i]
        flags[int(key) if pd.notna(key) else rows["xero_payment_id"][i]] = names
    assert flags == {
        1: [],
        2: ["amount_differs"],
        3: ["deleted_in_xero"],
        4: ["date_differs"],
        5: ["missing_in_xero"],
        "e": ["only_in_xero"],
        "f": [],
    }
    assert rows.set_index("xero_payment_id").loc["b", "matched_by"] == "reference"
    money = dict(zip(rows["xero_payment_id"], result.row_money(), strict=True))
    assert money["b"] == 50 and money["e"] == 300 and money["c"] == 700


@pytest.fixture
def synced(tmp_path, xero_sandbox):
    """A seeded SQLite Perfex, synced, with a synced credit note and one refund."""
    url = f"sqlite:///{tmp_path / 'perfex.db'}"
    seed_demo(url, customers=3, invoices=12, seed=1)
    env = UrlEnv(tmp_path, url, xero_sandbox)
    assert env.sync().ok
    invoice = next(
        i for i in reads.read_invoices(env.perfex) if env.link("invoices", i.id)
    )
    env.note = _credit_note(env, invoice, D("50.00"))  # type: ignore[attr-defined]
    assert env.sync(entities=["credit-notes"]).ok
    env.refund = _refund(env, env.note, D("20.00"))  # type: ignore[attr-defined]
    assert env.sync(entities=["credit-refunds"]).ok
    with env.sessions() as session:
        set_setting(session, "entities", "customers,invoices,credit-refunds")
        session.commit()
    yield env
    env.close()


def _run(env: UrlEnv, instance: Path):
    """One reconciliation with the snapshot refreshed."""
    with env.sessions() as session:
        return run_reconciliation(
            env.perfex, session, env.gateway, instance, refresh=True
        )


def test_synced_refunds_agree_then_gaps_are_flagged_in_every_output(synced, tmp_path):
    """Clean after a sync; a refund deleted in Xero, one made only there, one unsent."""
    env = synced
    report = _run(env, tmp_path / "instance").report
    seeded = [
        r for r in reads.read_credit_refunds(env.perfex) if r.credit_note_id != env.note
    ]
    assert seeded  # the seed's own refunds, synced by the fixture, agree too
    assert report.refunds is not None and len(report.refunds) == 1 + len(seeded)
    assert report.discrepancies("refunds").empty
    link = env.link("credit-refunds", env.refund)
    env.sandbox.inject.delete_payment(link.xero_id)
    made = _refund_in_xero(env, env.note, D("5.00"))
    unsent = _refund(env, env.note, D("3.00"))
    run = _run(env, tmp_path / "instance")
    report = run.report
    flagged = report.discrepancies("refunds")
    by_key = {
        (
            int(r.perfex_refund_id)
            if pd.notna(r.perfex_refund_id)
            else r.xero_payment_id
        ): r.discrepancy
        for r in flagged.itertuples(index=False)
    }
    assert by_key == {
        env.refund: "deleted_in_xero",
        unsent: "missing_in_xero",
        made["PaymentID"].lower(): "only_in_xero",
    }
    summary = report.summary
    mine = summary[summary["scope"] == "refunds"]
    assert int(mine["count"].sum()) == 3
    written = {p.name for p in write_csvs(report, tmp_path)}
    assert "refunds.csv" in written
    xlsx = tmp_path / "report.xlsx"
    write_xlsx(report, xlsx)
    with pd.ExcelFile(xlsx) as book:
        assert "refunds" in book.sheet_names
    assert len(pd.read_csv(tmp_path / "refunds.csv")) == 3 + len(seeded)  # + clean
    page = _page(tmp_path, str(env.perfex.engine.url), run)
    assert "Refunds with discrepancies" in page and 'id="refunds"' in page
    assert made["PaymentID"].lower() in page


def _page(tmp_path: Path, perfex_url: str, run) -> str:
    """The /reconcile/ page of a panel whose current report is ``run``."""
    (tmp_path / "panel").mkdir()
    app = make_test_app(tmp_path / "panel", perfex_url)
    try:
        with app.app_context():
            save_report(run, app.instance_path)
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        return client.get("/reconcile/").get_data(as_text=True)
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
