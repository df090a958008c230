"""Incremental storage and reads: source hashes, cursors, the chart, targeted runs."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from pxflask.models import Link, SyncCursor, XeroAccount
from pxflask.panel.maintenance import reset_links
from pxflask.perfex import reads
from pxflask.perfex.records import INVOICE_UNPAID
from pxflask.sync.registry import entity_names

from .conftest import Env, delta


def writes_in(made: dict[str, int]) -> dict[str, int]:
    """The PUT/POST calls of a calls delta."""
    return {k: n for k, n in made.items() if k.split()[0] in ("PUT", "POST")}


def cursors(env: Env) -> dict[str, str]:
    """Every stored cursor by name."""
    with env.sessions() as session:
        return dict(session.execute(sa.select(SyncCursor.name, SyncCursor.value)).all())


def expense_accounts(env: Env) -> list[dict]:
    """The active EXPENSE-class accounts of the sandbox chart."""
    return [
        a
        for a in env.xero("Accounts")
        if a.get("Class") == "EXPENSE" and a.get("Status") == "ACTIVE"
    ]


def category_names(env: Env) -> set[str]:
    """Perfex expense category names."""
    return {c.name for c in reads.read_expense_categories(env.perfex)}


def test_source_hash_and_cursors_have_their_own_storage(env):
    """Fingerprint in source_hash, run key kept, cursors in pxf_sync_cursors."""
    result = env.sync()
    assert result.ok, result.failed
    links = env.links("invoices")
    synced = [link for link in links.values() if link.state == "synced"]
    assert synced
    for link in synced:
        assert re.fullmatch(r"[0-9a-f]{32}", link.source_hash or ""), link
        assert link.idempotency_key == f"run-{result.run_id}"
    stored = cursors(env)
    assert {"xero.accounts.modified", "xero.accounts.expense-categories"} <= set(stored)
    env.sync()  # the first rerun reads back the invoices the first run wrote
    assert "xero.invoices.modified" in cursors(env)
    with env.sessions() as session:
        odd = session.scalar(
            sa.select(sa.func.count())
            .select_from(Link)
            .where(Link.entity.not_in(entity_names()))
        )
        assert odd == 0
        summary = reset_links(session)
        assert summary.links > 0
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncCursor)) == 0


def test_chart_rerun_reads_only_what_changed_since(env):
    """Accounts are read with If-Modified-Since; renamed ones reach Perfex."""
    assert env.sync().ok
    env.sync()
    total = len(env.xero("Accounts"))
    first, second = expense_accounts(env)[:2]
    env.sandbox.advance_time(5)
    env.sandbox.inject.update("Accounts", first["AccountID"], {"Name": "Fuel 2"})
    assert env.sync().ok  # the cursor was the seeded chart's: all of it comes back
    assert "Fuel 2" in category_names(env)
    env.sandbox.advance_time(5)
    env.sandbox.inject.update("Accounts", second["AccountID"], {"Name": "Fuel 3"})
    before = env.calls()
    result = env.sync()
    made = delta(before, env.calls())
    assert result.ok, result.failed
    assert writes_in(made) == {}, made
    assert made.get("GET /Accounts") == 1, made
    # Since the newest change (floored to the second): the two renamed accounts.
    assert result.report("accounts").pulled == 2 < total
    assert result.report("expense-categories").pulled == 1
    assert "Fuel 3" in category_names(env)
    with env.sessions() as session:
        cached = session.get(XeroAccount, second["AccountID"])
        assert cached is not None and cached.name == "Fuel 3"
        count = session.scalar(sa.select(sa.func.count(XeroAccount.account_id)))
        assert count == total


def test_skipped_chart_consumer_catches_up_with_one_full_read(env):
    """Expense categories not run while the chart moved on: read it whole once."""
    assert env.sync(entities=["accounts"]).ok
    assert env.sync(entities=["accounts"]).ok
    before = env.calls()
    result = env.sync(entities=["accounts", "expense-categories"])
    made = delta(before, env.calls())
    assert made.get("GET /Accounts") == 2, made  # If-Modified-Since, then full
    expected = {a["Name"] for a in expense_accounts(env)}
    assert expected and expected <= category_names(env)
    assert result.report("expense-categories").pulled == len(expected)
    before = env.calls()
    env.sync(entities=["accounts", "expense-categories"])
    assert delta(before, env.calls()).get("GET /Accounts") == 1


def an_invoice_with_payments(env: Env) -> tuple[int, int, list[int]]:
    """(invoice id, customer id, payment ids) of an authorised invoice with payments."""
    payments = reads.read_payments(env.perfex)
    by_invoice: dict[int, list[int]] = {}
    for p in payments:
        by_invoice.setdefault(p.invoice_id, []).append(p.id)
    invoice = next(
        i
        for i in reads.read_invoices(env.perfex)
        if i.id in by_invoice and i.status not in (5, 6)
    )
    return invoice.id, invoice.customer_id, sorted(by_invoice[invoice.id])


def test_targeted_invoice_syncs_it_and_its_customer_only(env):
    """record_keys: one invoice plus its customer, no scan of Xero's changes."""
    invoice_id, customer_id, _ = an_invoice_with_payments(env)
    before = env.calls()
    result = env.sync(entities=["invoices"], record_keys={"invoices": [invoice_id]})
    made = delta(before, env.calls())
    assert result.ok, result.failed
    assert [r.entity for r in result.reports] == ["customers", "invoices"]
    assert set(env.links("customers")) == {str(customer_id)}
    assert set(env.links("invoices")) == {str(invoice_id)}
    assert env.links("payments") == {}
    assert made.get("PUT /Contacts") == 1 and made.get("PUT /Invoices") == 1, made
    assert "GET /Invoices" not in made and "GET /Accounts" not in made, made


def test_targeted_invoice_with_payments_and_a_payment_alone(env):
    """Payments asked for: the invoice's payments too; a payment brings its invoice."""
    invoice_id, customer_id, payment_ids = an_invoice_with_payments(env)
    result = env.sync(
        entities=["invoices", "payments"], record_keys={"invoices": [invoice_id]}
    )
    assert result.ok, result.failed
    assert set(env.links("payments")) == {str(p) for p in payment_ids}
    assert all(link.state == "synced" for link in env.links("payments").values())
    others = [
        p
        for p in reads.read_payments(env.perfex)
        if p.invoice_id != invoice_id
        and p.invoice_id not in {int(k) for k in env.links("invoices")}
    ]
    lone = others[0]
    result = env.sync(entities=["payments"], record_keys={"payments": [str(lone.id)]})
    assert result.ok, result.failed
    assert env.link("payments", lone.id).state == "synced"
    assert env.link("invoices", lone.invoice_id).state == "synced"
    assert str(customer_id) in env.links("customers")
    assert len(env.links("payments")) == len(payment_ids) + 1


def test_targeted_edit_and_delete_after_a_full_sync(env):
    """A hook about an edited invoice updates that one; a deleted payment goes."""
    assert env.sync().ok
    env.sync()
    paid = {p.invoice_id for p in reads.read_payments(env.perfex)}
    target = next(
        i.id
        for i in reads.read_invoices(env.perfex)
        if i.status == INVOICE_UNPAID and i.id not in paid
    )
    inv = env.perfex.tables.invoices
    env.execute(inv.update().where(inv.c.id == target).values(duedate=date(2031, 3, 3)))
    before = env.calls()
    result = env.sync(entities=["invoices"], record_keys={"invoices": [target]})
    made = delta(before, env.calls())
    assert result.ok, result.failed
    report = result.report("invoices")
    assert (report.updated, report.unchanged, report.created) == (1, 0, 0)
    assert writes_in(made) == {"POST /Invoices": 1}, made
    xero_id = env.link("invoices", target).xero_id
    assert str(env.sandbox.inject.get("Invoices", xero_id)["DueDate"])[:10] == (
        "2031-03-03"
    )
    payment = reads.read_payments(env.perfex)[0]
    pay = env.perfex.tables.invoicepaymentrecords
    env.execute(pay.delete().where(pay.c.id == payment.id))
    result = env.sync(entities=["payments"], record_keys={"payments": [payment.id]})
    assert result.ok, result.failed
    assert env.link("payments", payment.id).state == "deleted"
    gone = env.sandbox.inject.get("Payments", env.link("payments", payment.id).xero_id)
    assert gone["Status"] == "DELETED"
