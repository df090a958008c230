"""A number Perfex reuses after a deletion is sent as <number>-2, linked and logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.models import Link, SyncLog
from pxflask.reconcile.service import run_reconciliation

from .conftest import UrlEnv, duplicates


@pytest.fixture
def renv(perfex_url, tmp_path, xero_sandbox):
    """A small seeded Perfex DB (SQLite and MariaDB), everything synced once."""
    from pxflask.perfex.seed import seed_demo

    seed_demo(perfex_url, customers=3, invoices=8, seed=11)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    env.settings["payment_account.default"] = "090"
    result = env.sync()
    assert result.ok, result.failed
    yield env
    env.close()


def _last_unpaid(env: UrlEnv) -> int:
    """The highest invoice id that is unpaid (status 1) and has no payment."""
    t = env.perfex.tables
    paid = sa.select(t.invoicepaymentrecords.c.invoiceid)
    query = (
        sa.select(sa.func.max(t.invoices.c.id))
        .where(t.invoices.c.status == 1)
        .where(t.invoices.c.id.not_in(paid))
    )
    return int(env.execute(query).scalar_one())


def _take_out(env: UrlEnv, invoice_id: int) -> dict[str, Any]:
    """Delete an invoice, its lines and line taxes; return them for a copy."""
    t = env.perfex.tables
    lines = t.itemable.c
    taxes = t.item_tax.c
    row = env.execute(sa.select(t.invoices).where(t.invoices.c.id == invoice_id))
    header = dict(row.mappings().one())
    where = (lines.rel_type == "invoice") & (lines.rel_id == invoice_id)
    items = [
        dict(r) for r in env.execute(sa.select(t.itemable).where(where)).mappings()
    ]
    twhere = (taxes.rel_type == "invoice") & (taxes.rel_id == invoice_id)
    line_taxes = [
        dict(r) for r in env.execute(sa.select(t.item_tax).where(twhere)).mappings()
    ]
    env.execute(t.item_tax.delete().where(twhere))
    env.execute(t.itemable.delete().where(where))
    env.execute(t.invoices.delete().where(t.invoices.c.id == invoice_id))
    return {"header": header, "items": items, "taxes": line_taxes}


def _put_back_as_new(env: UrlEnv, saved: dict[str, Any]) -> int:
    """Insert the saved invoice under a new id (same number); the new id.

    The id is given: SQLite would hand out the deleted invoice's id again, which
    MariaDB's AUTO_INCREMENT (what Perfex runs on) does not.
    """
    t = env.perfex.tables
    header = {**saved["header"], "id": saved["header"]["id"] + 1000}
    new_id = env.execute(t.invoices.insert().values(**header)).inserted_primary_key[0]
    ids: dict[int, int] = {}
    for item in saved["items"]:
        values = {k: v for k, v in item.items() if k != "id"}
        values["rel_id"] = new_id
        ids[item["id"]] = env.execute(
            t.itemable.insert().values(**values)
        ).inserted_primary_key[0]
    for tax in saved["taxes"]:
        values = {k: v for k, v in tax.items() if k != "id"}
        values.update(rel_id=new_id, itemid=ids[tax["itemid"]])
        env.execute(t.item_tax.insert().values(**values))
    return int(new_id)


def test_reused_number_is_sent_with_a_suffix_linked_logged_and_reconciled(renv):
    """Deleted invoice voided in Xero; its number's new invoice goes as <n>-2."""
    env = renv
    old_id = _last_unpaid(env)
    number = env.link("invoices", old_id).xero_number
    saved = _take_out(env, old_id)
    result = env.sync()
    assert result.ok, result.failed
    assert env.link("invoices", old_id).state == "voided"

    new_id = _put_back_as_new(env, saved)
    result = env.sync()
    assert result.ok, result.failed
    link = env.link("invoices", new_id)
    assert link.state == "synced" and link.xero_number == f"{number}-2"
    xero = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    assert xero[link.xero_id]["InvoiceNumber"] == f"{number}-2"
    assert xero[link.xero_id]["Reference"] == f"PX-I-{new_id}"
    assert xero[link.xero_id]["Status"] == "AUTHORISED"
    held = [i for i in xero.values() if i["InvoiceNumber"] == number]
    assert [i["Status"] for i in held] == ["VOIDED"]
    with env.sessions() as session:
        notes = session.scalars(
            sa.select(SyncLog.message).where(
                SyncLog.entity == "invoices", SyncLog.perfex_key == str(new_id)
            )
        ).all()
    expected = f"sent as {number}-2: {number} is held by a voided invoice in Xero"
    assert any(expected in (n or "") for n in notes), notes
    assert duplicates(env) == {}

    again = env.sync()
    assert again.ok and again.report("invoices").writes == 0
    env.execute(
        env.perfex.tables.invoices.update()
        .where(env.perfex.tables.invoices.c.id == new_id)
        .values(duedate=saved["header"]["date"] + timedelta(days=90))
    )
    edited = env.sync()
    assert edited.ok, edited.failed
    assert edited.report("invoices").updated == 1
    assert env.link("invoices", new_id).xero_number == f"{number}-2"

    with env.sessions() as session:
        run = run_reconciliation(
            env.perfex, session, env.gateway, str(env.engine.url.database) + ".rec"
        )
    rows = run.report.invoices
    row = rows[rows["perfex_id"] == new_id].iloc[0]
    assert row["matched_by"] == "link" and row["discrepancy"] == ""
    assert row["xero_invoice_number"] == f"{number}-2"
    flagged = run.report.discrepancies("invoices")
    mine = flagged[
        flagged["xero_invoice_number"].isin([number, f"{number}-2"])
        | (flagged["perfex_id"] == new_id)
    ]
    assert mine.empty, mine.to_dict("records")


def test_a_live_invoice_holding_the_number_fails_the_record_with_the_reason(renv):
    """A live Xero invoice (not this one) holds the number: fail, never link."""
    env = renv
    old_id = _last_unpaid(env)
    number = env.link("invoices", old_id).xero_number
    saved = _take_out(env, old_id)
    with env.sessions() as session:
        session.execute(
            sa.delete(Link).where(
                Link.entity == "invoices", Link.perfex_key == str(old_id)
            )
        )
        session.commit()
    new_id = _put_back_as_new(env, saved)
    result = env.sync()
    failed = {k: e for entity, k, e in result.failed if entity == "invoices"}
    assert set(failed) == {str(new_id)}
    reason = failed[str(new_id)]
    assert f"invoice number {number} is already used in Xero" in reason
    assert "AUTHORISED" in reason and f"Reference PX-I-{old_id}" in reason
    assert "possibly a duplicate" in reason
    assert env.link("invoices", new_id).xero_id is None


def test_number_freed_and_reused_between_two_runs_is_renumbered_in_one(renv):
    """Deleted and recreated before the next run: voided first, then sent as -2."""
    env = renv
    old_id = _last_unpaid(env)
    number = env.link("invoices", old_id).xero_number
    new_id = _put_back_as_new(env, _take_out(env, old_id))
    result = env.sync()
    assert result.ok, result.failed
    assert env.link("invoices", old_id).state == "voided"
    link = env.link("invoices", new_id)
    assert link.state == "synced" and link.xero_number == f"{number}-2"
    assert duplicates(env) == {}
