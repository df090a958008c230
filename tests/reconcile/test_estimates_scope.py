"""The estimates scope: Perfex estimates against Xero quotes, and quotes invoiced."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.records import (
    ESTIMATE_ACCEPTED,
    ESTIMATE_DRAFT,
    ESTIMATE_SENT,
    INVOICE_DRAFT,
)
from pxflask.perfex.seed import seed_demo
from pxflask.reconcile.estimate_sources import (
    PERFEX_ESTIMATE_COLUMNS,
    SNAPSHOT,
    XERO_QUOTE_COLUMNS,
)
from pxflask.reconcile.estimates import check_estimates, estimate_rows
from pxflask.reconcile.export import write_csvs, write_xlsx
from pxflask.reconcile.scope_snapshot import typed_frame
from pxflask.reconcile.scopes import OPTIONAL_SCOPES
from pxflask.reconcile.service import run_reconciliation
from pxflask.sync.settings import set_setting
from tests.fixtures.databases import create_mariadb_database, drop_mariadb_database
from tests.reconcile.test_refunds import _page
from tests.sync.conftest import UrlEnv

D = Decimal
ON = date(2025, 6, 10)
ENTITIES = "customers,invoices,estimates"


def _perfex(*rows: tuple[int, str, int, str, int | None, int | None]) -> pd.DataFrame:
    """Perfex estimates (id, number, total cents, status, invoice id, its total)."""
    return typed_frame(
        [
            {
                "perfex_estimate_id": i,
                "number": number,
                "date": ON,
                "status": status,
                "currency": "GBP",
                "total_cents": total,
                "tax_cents": total // 6,
                "perfex_invoice_id": invoice,
                "xero_invoice_id": "inv" if invoice else None,
                "invoice_total_cents": invoice_total,
            }
            for i, number, total, status, invoice, invoice_total in rows
        ],
        PERFEX_ESTIMATE_COLUMNS,
    )


def _xero(*rows: tuple[str, str, int, str, int | None]) -> pd.DataFrame:
    """Xero quotes (id, number, total cents, status, reference id)."""
    return typed_frame(
        [
            {
                "xero_id": x,
                "number": number,
                "reference": f"PX-EST-{ref}" if ref else "",
                "reference_id": ref,
                "date": ON,
                "status": status,
                "currency": "GBP",
                "total_cents": total,
                "tax_cents": total // 6,
            }
            for x, number, total, status, ref in rows
        ],
        XERO_QUOTE_COLUMNS,
    )


def test_estimates_is_an_optional_scope_after_refunds():
    """The estimates unit names the scope; it comes after refunds."""
    assert OPTIONAL_SCOPES.index("estimates") > OPTIONAL_SCOPES.index("refunds")


def test_matched_by_link_reference_then_number_and_money_at_stake():
    """Each pairing method, each check on its own row, money per category."""
    perfex = _perfex(
        (1, "EST-1", 1200, "SENT", None, None),  # by link: agrees
        (2, "EST-2", 1200, "SENT", None, None),  # by reference: total differs
        (3, "EST-3", 600, "ACCEPTED", None, None),  # by number: status differs
        (4, "EST-4", 900, "INVOICED", 40, 1500),  # quote not invoiced, total
        (5, "EST-5", 300, "SENT", None, None),  # missing in Xero
    )
    xero = _xero(
        ("a", "EST-1", 1200, "SENT", 1),
        ("b", "EST-2", 1080, "SENT", 2),
        ("c", "EST-3", 600, "SENT", None),
        ("d", "EST-4", 900, "ACCEPTED", 4),
        ("e", "QU-0001", 700, "DRAFT", None),  # made in Xero
        ("f", "QU-0002", 800, "DELETED", None),  # deleted, unmatched: nothing
    )
    rows = estimate_rows(perfex, xero, {1: "a", 4: "d"})
    result = check_estimates(rows, 0)
    flags = {}
    for i in range(len(rows)):
        names = [n for n in result.categories if result.flagged(n)[i]]
        key = rows["perfex_estimate_id"][i]
        flags[int(key) if pd.notna(key) else rows["xero_quote_id"][i]] = names
    assert flags == {
        1: [],
        2: ["total_differs", "tax_differs"],
        3: ["status_differs"],
        4: ["quote_not_invoiced", "invoiced_total_differs"],
        5: ["missing_in_xero"],
        "e": ["only_in_xero"],
        "f": [],
    }
    by_quote = rows.set_index("xero_quote_id")
    assert list(by_quote.loc[["a", "b", "c"], "matched_by"]) == [
        "link",
        "reference",
        "number",
    ]
    money = dict(zip(rows["xero_quote_id"], result.row_money(), strict=True))
    assert money["b"] == 120 and money["c"] == 600 and money["e"] == 700
    assert money["d"] == 900  # the largest: the estimate's total (the gap: 600)


def _copy_lines(conn: Any, t: Any, rel_type: str, source: int, target: int) -> None:
    """Copy a document's lines and line taxes onto an estimate (as Perfex converts)."""
    item, tax = t.itemable, t.item_tax
    conn.execute(
        tax.delete().where(tax.c.rel_type == "estimate", tax.c.rel_id == target)
    )
    conn.execute(
        item.delete().where(item.c.rel_type == "estimate", item.c.rel_id == target)
    )
    lines = conn.execute(
        sa.select(item).where(item.c.rel_type == rel_type, item.c.rel_id == source)
    ).mappings()
    for line in list(lines):
        new = conn.execute(
            item.insert().values(
                {**{k: v for k, v in line.items() if k != "id"}, "rel_id": target}
                | {"rel_type": "estimate"}
            )
        ).inserted_primary_key[0]
        for row in conn.execute(
            sa.select(tax).where(tax.c.itemid == line["id"], tax.c.rel_type == rel_type)
        ).mappings():
            conn.execute(
                tax.insert().values(
                    itemid=new,
                    rel_id=target,
                    rel_type="estimate",
                    taxrate=row["taxrate"],
                    taxname=row["taxname"],
                )
            )


_COPIED = (
    "clientid",
    "currency",
    "subtotal",
    "total_tax",
    "total",
    "adjustment",
    "discount_percent",
    "discount_total",
    "discount_type",
)


def _convert(env: UrlEnv, estimate_id: int, invoice_id: int) -> None:
    """Make estimate ``estimate_id`` the one Perfex converted to ``invoice_id``."""
    t = env.perfex.tables
    with env.perfex.engine.begin() as conn:
        inv = conn.execute(
            sa.select(*(t.invoices.c[c] for c in _COPIED)).where(
                t.invoices.c.id == invoice_id
            )
        ).mappings()
        values = dict(next(iter(inv)))
        conn.execute(
            t.estimates.update()
            .where(t.estimates.c.id == estimate_id)
            .values({**values, "invoiceid": invoice_id, "status": ESTIMATE_ACCEPTED})
        )
        _copy_lines(conn, t, "invoice", invoice_id, estimate_id)


def _copy_estimate(env: UrlEnv, estimate_id: int) -> int:
    """A new Perfex estimate copied from another, lines and all; its id."""
    t = env.perfex.tables
    est = t.estimates
    with env.perfex.engine.begin() as conn:
        row = dict(
            conn.execute(sa.select(est).where(est.c.id == estimate_id)).mappings().one()
        )
        top = conn.execute(sa.select(sa.func.max(est.c.number))).scalar_one()
        row.pop("id")
        row.update(number=top + 1, hash=f"copy{top + 1:028d}", invoiceid=None)
        new = conn.execute(est.insert().values(row)).inserted_primary_key[0]
        _copy_lines(conn, t, "estimate", estimate_id, new)
    return int(new)


def _set(env: UrlEnv, estimate_id: int, **values: Any) -> None:
    """Change one Perfex estimate (a user's edit, not synced)."""
    est = env.perfex.tables.estimates
    env.execute(est.update().where(est.c.id == estimate_id).values(**values))


def _make_draft(env: UrlEnv, kept: int) -> None:
    """One unpaid invoice (not ``kept``) made a draft, so the sync leaves it out."""
    t = env.perfex.tables
    paid = sa.select(t.invoicepaymentrecords.c.invoiceid)
    with env.perfex.engine.begin() as conn:
        found = conn.execute(
            sa.select(sa.func.min(t.invoices.c.id)).where(
                t.invoices.c.id != kept, t.invoices.c.id.not_in(paid)
            )
        ).scalar_one()
        conn.execute(
            t.invoices.update()
            .where(t.invoices.c.id == found)
            .values(status=INVOICE_DRAFT)
        )


@pytest.fixture(params=["sqlite", "mariadb"])
def synced(request, tmp_path, xero_sandbox):
    """A seeded Perfex, invoices and estimates synced (one estimate converted)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'perfex.db'}"
    else:
        url = create_mariadb_database()
    seed_demo(url, customers=3, invoices=12, seed=1)
    env = UrlEnv(tmp_path, url, xero_sandbox)
    try:
        first = reads.read_estimates(env.perfex)
        converted = next(e for e in first if e.invoice_id)
        _convert(env, converted.id, converted.invoice_id)
        for e in first[:2]:
            _copy_estimate(env, e.id)
        _make_draft(env, converted.invoice_id)
        assert env.sync().ok
        result = env.sync(entities=["estimates"])
        assert result.ok, result.failed
        with env.sessions() as session:
            set_setting(session, "entities", ENTITIES)
            session.commit()
        env.converted = converted.id  # type: ignore[attr-defined]
        yield env
    finally:
        env.close()
        if request.param == "mariadb":
            drop_mariadb_database(url)


def _run(env: UrlEnv, instance: Path, **kw: Any):
    """One reconciliation with the snapshot refreshed."""
    with env.sessions() as session:
        return run_reconciliation(
            env.perfex, session, env.gateway, instance, refresh=True, **kw
        )


def _flags(report) -> dict[Any, set[str]]:
    """Flagged estimate rows: Perfex id (else QuoteID) -> its categories."""
    flagged = report.discrepancies("estimates")
    return {
        (
            int(r.perfex_estimate_id)
            if pd.notna(r.perfex_estimate_id)
            else r.xero_quote_id
        ): set(r.discrepancy.split(";"))
        for r in flagged.itertuples(index=False)
    }


def _draft_invoice(env: UrlEnv) -> int:
    """A Perfex draft invoice: the sync leaves it out of Xero (drafts=skip)."""
    inv = env.perfex.tables.invoices
    with env.perfex.engine.connect() as conn:
        found = conn.execute(
            sa.select(inv.c.id).where(inv.c.status == INVOICE_DRAFT).limit(1)
        ).scalar()
    link = env.link("invoices", found) if found is not None else None
    assert found is not None and (link is None or link.xero_id is None)
    return int(found)


def test_synced_estimates_agree_then_each_gap_is_flagged(synced, tmp_path):
    """Clean after a sync; then one real change per check, each in every output."""
    env = synced
    instance = tmp_path / "instance"
    clean = _run(env, instance).report
    estimates = reads.read_estimates(env.perfex)
    assert clean.estimates is not None and len(clean.estimates) == len(estimates)
    assert clean.discrepancies("estimates").empty, clean.discrepancies("estimates")
    row = clean.estimates.set_index("perfex_estimate_id").loc[env.converted]
    assert row["xero_status"] == "INVOICED" and pd.notna(row["xero_invoice_id"])
    later = _run(env, instance, date_from=date.today() + timedelta(days=1))
    assert later.report.estimates is not None and later.report.estimates.empty

    live = [e for e in estimates if not e.invoice_id]
    draft = next(e for e in live if e.status == ESTIMATE_DRAFT)
    rest = [e for e in live if e is not draft]
    edited, gone_in_xero, gone_in_perfex, to_invoice, unsynced_invoice = rest[:5]
    _convert(env, unsynced_invoice.id, _draft_invoice(env))  # synced: INVOICED
    assert env.sync(entities=["estimates"]).ok
    # From here on nothing is synced: each change is a gap for the report.
    _set(env, draft.id, status=ESTIMATE_SENT)
    _set(env, edited.id, total=edited.total + D("1.00"), total_tax=edited.total_tax + 1)
    quotes = env.links("estimates")
    env.sandbox.inject.set_status(
        "Quotes", quotes[str(gone_in_xero.id)].xero_id, "DELETED"
    )
    est = env.perfex.tables.estimates
    env.execute(est.delete().where(est.c.id == gone_in_perfex.id))
    synced_invoice = next(
        i for i in reads.read_invoices(env.perfex) if env.link("invoices", i.id)
    )
    _set(env, to_invoice.id, invoiceid=synced_invoice.id, status=ESTIMATE_ACCEPTED)
    inv = env.perfex.tables.invoices
    converted_invoice = next(e for e in estimates if e.id == env.converted).invoice_id
    env.execute(
        inv.update()
        .where(inv.c.id == converted_invoice)
        .values(total=inv.c.total + D("5.00"))
    )
    missing = _copy_estimate(env, draft.id)
    customer = next(iter(env.links("customers").values())).xero_id
    made = env.sandbox.inject.write(
        "Quotes",
        {
            "Contact": {"ContactID": customer},
            "Date": date.today().isoformat(),
            "LineItems": [
                {
                    "Description": "Typed in Xero",
                    "Quantity": 1,
                    "UnitAmount": "70.00",
                    "AccountCode": "200",
                }
            ],
        },
    )
    run = _run(env, instance)  # the quote snapshot of the first run, refreshed
    report = run.report
    again = SNAPSHOT.load(env.gateway, instance, run.tenant_id)
    assert again.mode == "incremental" and len(again.frame) == len(env.xero("Quotes"))
    gone_quote = quotes[str(gone_in_perfex.id)].xero_id.lower()
    expected_invoiced = {"quote_not_invoiced"}
    if to_invoice.total != synced_invoice.total:
        expected_invoiced.add("invoiced_total_differs")
    assert _flags(report) == {
        draft.id: {"status_differs"},
        edited.id: {"total_differs", "tax_differs"},
        gone_in_xero.id: {"deleted_in_xero"},
        gone_quote: {"only_in_xero"},
        made["QuoteID"].lower(): {"only_in_xero"},
        to_invoice.id: expected_invoiced,
        unsynced_invoice.id: {"invoice_not_in_xero"},
        env.converted: {"invoiced_total_differs"},
        missing: {"missing_in_xero"},
    }
    rows = report.estimates.set_index("perfex_estimate_id")
    assert rows.loc[to_invoice.id, "perfex_invoice_id"] == synced_invoice.id
    assert rows.loc[to_invoice.id, "xero_invoice_id"] == (
        env.link("invoices", synced_invoice.id).xero_id.lower()
    )
    assert rows.loc[env.converted, "money_at_stake_cents"] == 500
    assert rows.loc[edited.id, "money_at_stake_cents"] == 100
    flagged = report.discrepancies("estimates")
    what = dict(zip(flagged["perfex_estimate_id"], flagged["what"], strict=True))
    assert f"became Perfex invoice {_draft_invoice(env)}" in what[unsynced_invoice.id]
    summary = report.summary
    mine = summary[summary["scope"] == "estimates"]
    assert int(mine["count"].sum()) == sum(len(v) for v in _flags(report).values())
    written = {p.name for p in write_csvs(report, tmp_path)}
    assert "estimates.csv" in written
    assert len(pd.read_csv(tmp_path / "estimates.csv")) == len(report.estimates)
    xlsx = tmp_path / "report.xlsx"
    write_xlsx(report, xlsx)
    with pd.ExcelFile(xlsx) as book:
        assert "estimates" in book.sheet_names
    page = _page(tmp_path, str(env.perfex.engine.url), run)
    assert "Estimates with discrepancies" in page and 'id="estimates"' in page
    assert made["QuoteID"].lower() in page and "quote_not_invoiced" in page


def test_damaged_estimate_is_listed_and_its_quote_set_aside(tmp_path, xero_sandbox):
    """An estimate with an unreadable total is listed; its quote is not only_in_xero."""
    url = f"sqlite:///{tmp_path / 'perfex.db'}"
    seed_demo(url, customers=3, invoices=12, seed=1)
    env = UrlEnv(tmp_path, url, xero_sandbox)
    try:
        assert env.sync().ok and env.sync(entities=["estimates"]).ok
        with env.sessions() as session:
            set_setting(session, "entities", ENTITIES)
            session.commit()
        damaged = reads.read_estimates(env.perfex)[0]
        _set(env, damaged.id, total=sa.literal("12,50 EUR"))
        run = _run(env, tmp_path / "instance")
        listed = [u for u in run.unreadable if u.kind == "estimate"]
        assert [(u.perfex_id, u.label) for u in listed] == [
            (damaged.id, damaged.formatted_number)
        ]
        assert "total" in listed[0].reason
        rows = run.report.estimates
        assert damaged.id not in set(rows["perfex_estimate_id"].dropna())
        assert "only_in_xero" not in set(rows["discrepancy"])
    finally:
        env.close()


def test_estimates_off_means_no_scope(tmp_path, xero_sandbox):
    """Without ``estimates`` in the entities nothing is read or compared."""
    url = f"sqlite:///{tmp_path / 'perfex.db'}"
    seed_demo(url, customers=2, invoices=4, seed=1)
    env = UrlEnv(tmp_path, url, xero_sandbox)
    try:
        assert env.sync().ok
        with env.sessions() as session:
            set_setting(session, "entities", "customers,invoices")
            session.commit()
        before = env.calls()
        report = _run(env, tmp_path / "instance").report
        assert report.estimates is None
        assert not [k for k in env.calls() if "Quotes" in k and k not in before]
    finally:
        env.close()
