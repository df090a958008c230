"""Payments made or deleted in Xero come back to Perfex (setting payments_from_xero)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import urllib3

from pxflask.models import SyncLog, SyncRun
from pxflask.perfex import reads, writes
from pxflask.perfex.records import (
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_PARTIALLY_PAID,
    INVOICE_UNPAID,
)
from pxflask.perfex.seed import seed_demo
from pxflask.sync.engine import run_sync
from pxflask.sync.entities.payments.pull_rules import (
    DELETED_IN_XERO,
    claim_key,
)
from pxflask.sync.links import PULLED_FROM_XERO, LinkStore, Outcome
from pxflask.sync.settings import InvalidSetting, defaults, validate

from .conftest import UrlEnv, delta

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based: its bank accounts in Xero must be USD too."""


class World(UrlEnv):
    """Env on a freshly seeded Perfex database (SQLite or MariaDB)."""

    def __init__(self, tmp_path: Path, perfex_url: str, sandbox: Any) -> None:
        """Seed Perfex at perfex_url, then set up as UrlEnv does."""
        seed_demo(perfex_url, customers=3, invoices=8, seed=5)
        super().__init__(tmp_path, perfex_url, sandbox)


@pytest.fixture
def world(tmp_path, perfex_url, xero_sandbox):
    """A first sync done: Perfex invoices and payments are in Xero."""
    w = World(tmp_path, perfex_url, xero_sandbox)
    assert w.sync().ok
    yield w
    w.close()


def open_invoice(w: World) -> tuple[int, str, Decimal]:
    """(Perfex id, Xero id, total) of a synced unpaid invoice with no payment."""
    paid = {p.invoice_id for p in reads.read_payments(w.perfex)}
    links = w.links("invoices")
    for inv in reads.read_invoices(w.perfex):
        link = links.get(str(inv.id))
        if (
            inv.status in (INVOICE_UNPAID, INVOICE_OVERDUE)
            and inv.id not in paid
            and link is not None
            and link.state == "synced"
        ):
            return inv.id, link.xero_id, inv.total
    raise AssertionError("no open synced invoice in the seed")


def rows_of(w: World, invoice_id: int) -> list:
    """Perfex payments of one invoice."""
    return reads.read_payments(w.perfex, invoice_ids=[invoice_id])


def status_of(w: World, invoice_id: int) -> int:
    """Perfex status of one invoice."""
    inv = w.perfex.tables.invoices
    with w.perfex.engine.connect() as conn:
        return conn.execute(
            sa.select(inv.c.status).where(inv.c.id == invoice_id)
        ).one()[0]


def xero_payments_on(w: World, xero_invoice_id: str) -> list[dict]:
    """Live Xero payments of one invoice."""
    return [
        p
        for p in w.xero("Payments")
        if p["Status"] != "DELETED"
        and p["Invoice"]["InvoiceID"].lower() == xero_invoice_id.lower()
    ]


def logs(w: World, **where: Any) -> list[SyncLog]:
    """Sync log rows of the payments entity matching column values."""
    with w.sessions() as session:
        stmt = sa.select(SyncLog).where(SyncLog.entity == "payments")
        for column, value in where.items():
            stmt = stmt.where(getattr(SyncLog, column) == value)
        return list(session.scalars(stmt))


def test_payment_made_in_xero_appears_once_and_marks_the_invoice(world):
    """Partial then full payment in Xero: two Perfex rows, partly paid then paid."""
    invoice_id, xero_id, total = open_invoice(world)
    first = world.sandbox.inject.payment(
        xero_id, Decimal("10.00"), on=date(2026, 3, 2), Reference="bank 77"
    )
    result = world.sync()
    assert result.ok, result.failed
    assert result.report("payments").pulled == 1
    [row] = rows_of(world, invoice_id)
    assert row.amount == Decimal("10.00") and isinstance(row.amount, Decimal)
    assert row.date == date(2026, 3, 2)
    assert row.transaction_id == first["PaymentID"].lower()
    assert first["PaymentID"] in row.note and "bank 77" in row.note
    modes = world.links("payment-modes")
    assert modes[row.mode].xero_number == "090"  # the mode linked to the account
    assert status_of(world, invoice_id) == INVOICE_PARTIALLY_PAID
    link = world.link("payments", row.id)
    assert link.state == "synced" and link.idempotency_key == PULLED_FROM_XERO
    assert link.xero_id == first["PaymentID"]
    world.sandbox.inject.payment(xero_id, total - Decimal("10.00"), on=date(2026, 3, 9))
    assert world.sync().report("payments").pulled == 1
    assert len(rows_of(world, invoice_id)) == 2
    assert status_of(world, invoice_id) == INVOICE_PAID


def test_rerun_pulls_nothing_twice_in_two_calls_and_never_pushes_back(world):
    """A rerun reads Xero payments once (If-Modified-Since) and writes nothing."""
    invoice_id, xero_id, _ = open_invoice(world)
    world.sandbox.inject.payment(xero_id, Decimal("12.34"), on=date(2026, 3, 2))
    assert world.sync().report("payments").pulled == 1
    for _ in range(2):
        before = world.calls()
        again = world.sync(entities=["payments"])
        made = delta(before, world.calls())
        assert again.ok and again.report("payments").pulled == 0
        assert again.report("payments").writes == 0
        assert sum(made.values()) <= 2, made
        assert made.get("GET /Payments") == 1, made
    before = world.writes()
    everything = world.sync()
    assert everything.ok and world.writes() == before
    assert len(rows_of(world, invoice_id)) == 1
    assert len(xero_payments_on(world, xero_id)) == 1


def test_pulled_payment_deleted_in_xero_is_removed_from_perfex(world):
    """Deleted in Xero after the pull: the Perfex row goes, the status comes back."""
    invoice_id, xero_id, _ = open_invoice(world)
    status = status_of(world, invoice_id)
    made = world.sandbox.inject.payment(xero_id, Decimal("20.00"), on=date(2026, 3, 2))
    world.sync()
    [row] = rows_of(world, invoice_id)
    world.sandbox.inject.delete_payment(made["PaymentID"])
    result = world.sync()
    assert result.ok and result.report("payments").pulled == 1
    assert rows_of(world, invoice_id) == []
    assert status_of(world, invoice_id) == status
    assert world.link("payments", row.id) is None
    assert logs(world, perfex_key=str(row.id), action="pull-delete")
    before = world.writes()
    assert world.sync().report("payments").pulled == 0
    assert world.writes() == before


def test_pushed_payment_deleted_in_xero_is_flagged_and_kept(world):
    """Pushed, then deleted in Xero: locked with the reason; Perfex keeps it."""
    links = world.links("payments")
    pushed = next(p for p in reads.read_payments(world.perfex) if str(p.id) in links)
    xero_payment = links[str(pushed.id)].xero_id
    world.sandbox.inject.delete_payment(xero_payment)
    before = world.writes()
    result = world.sync()
    assert result.report("payments").blocked == 1
    link = world.link("payments", pushed.id)
    assert link.state == "locked" and link.last_error == DELETED_IN_XERO
    assert "deleted in Xero; Perfex still has it" in DELETED_IN_XERO
    [entry] = logs(world, perfex_key=str(pushed.id), outcome="locked")
    assert entry.message == DELETED_IN_XERO and entry.xero_id == xero_payment
    assert pushed in reads.read_payments(world.perfex)
    assert world.writes() == before
    again = world.sync()
    assert world.writes() == before and again.report("payments").blocked == 0
    assert world.link("payments", pushed.id).state == "locked"
    with world.sessions() as session:
        run = SyncRun(scope="payments", trigger="retry", status="queued")
        session.add(run)
        session.commit()
        retried = run_sync(
            session,
            world.perfex,
            world.gateway,
            world.settings,
            ["payments"],
            run_id=run.id,
            record_keys={"payments": [pushed.id]},
        )
    assert retried.ok, retried.failed
    link = world.link("payments", pushed.id)
    assert link.state == "synced" and link.xero_id != xero_payment
    assert world.sandbox.inject.get("Payments", link.xero_id)["Status"] == "AUTHORISED"


def test_payment_above_amount_due_in_perfex_is_skipped_with_reason(world):
    """Perfex has less due than Xero: the Xero payment is skipped, once, with why."""
    invoice_id, xero_id, total = open_invoice(world)
    writes.insert_payment(world.perfex, invoice_id, total - 5, date(2026, 3, 1), "1")
    made = world.sandbox.inject.payment(xero_id, Decimal("50.00"), on=date(2026, 3, 2))
    result = world.sync()
    link = world.link("payments", claim_key(made["PaymentID"]))
    assert link.state == "skipped" and link.xero_id is None
    assert "above what is due in Perfex" in link.last_error
    assert "(5.00)" in link.last_error
    assert any("above what is due in Perfex" in (e.message or "") for e in logs(world))
    assert result.report("payments").pulled == 0
    assert [p.amount for p in rows_of(world, invoice_id)] == [total - 5]
    again = world.sync(entities=["payments"])
    assert again.report("payments").skipped == 0
    assert len(rows_of(world, invoice_id)) == 1


def test_setting_off_pulls_nothing(world):
    """payments_from_xero=no: no Xero payments read, nothing recorded in Perfex."""
    world.settings["payments_from_xero"] = "no"
    invoice_id, xero_id, _ = open_invoice(world)
    world.sandbox.inject.payment(xero_id, Decimal("10.00"), on=date(2026, 3, 2))
    before = world.calls()
    result = world.sync()
    assert result.ok and result.report("payments").pulled == 0
    assert "GET /Payments" not in delta(before, world.calls())
    assert rows_of(world, invoice_id) == []


def test_dry_run_plans_the_pull_but_writes_nothing(world):
    """A dry run lists the Perfex row it would record; no Perfex or link write."""
    invoice_id, xero_id, _ = open_invoice(world)
    status = status_of(world, invoice_id)
    made = world.sandbox.inject.payment(xero_id, Decimal("10.00"), on=date(2026, 3, 2))
    links_before = world.links("payments")
    result = world.sync(dry_run=True)
    pulls = result.report("payments").planned
    [planned] = [a for a in pulls if a.action == "pull"]
    assert planned.payload["transactionid"] == made["PaymentID"].lower()
    assert planned.payload["amount"] == Decimal("10.00")
    assert rows_of(world, invoice_id) == []
    assert status_of(world, invoice_id) == status
    assert world.links("payments").keys() == links_before.keys()
    assert world.sync().report("payments").pulled == 1


def test_worker_killed_after_the_perfex_insert_links_it_without_push(world):
    """Claim and Perfex row written, link not: the next run links it, sends nothing."""
    invoice_id, xero_id, _ = open_invoice(world)
    made = world.sandbox.inject.payment(xero_id, Decimal("10.00"), on=date(2026, 3, 2))
    payment_id = made["PaymentID"]
    with world.sessions() as session:
        LinkStore(session, "payments").record(
            [Outcome(claim_key(payment_id), "pending")]
        )
    writes.record_payment_once(
        world.perfex,
        invoice_id,
        Decimal("10.00"),
        date(2026, 3, 2),
        "1",
        transaction_id=payment_id.lower(),
    )
    before = world.writes()
    result = world.sync()
    assert result.ok, result.failed
    assert world.writes() == before
    [row] = rows_of(world, invoice_id)
    link = world.link("payments", row.id)
    assert link.state == "synced" and link.xero_id == payment_id
    assert world.link("payments", claim_key(payment_id)) is None
    assert len(xero_payments_on(world, xero_id)) == 1


def test_worker_killed_after_the_claim_records_the_payment_once(world):
    """Claim written, Perfex row not: the next run records it exactly once."""
    invoice_id, xero_id, _ = open_invoice(world)
    made = world.sandbox.inject.payment(xero_id, Decimal("10.00"), on=date(2026, 3, 2))
    with world.sessions() as session:
        LinkStore(session, "payments").record(
            [Outcome(claim_key(made["PaymentID"]), "pending")]
        )
    before = world.writes()
    assert world.sync().report("payments").pulled == 1
    assert world.sync().report("payments").pulled == 0
    [row] = rows_of(world, invoice_id)
    assert row.transaction_id == made["PaymentID"].lower()
    assert world.link("payments", row.id).xero_id == made["PaymentID"]
    assert world.writes() == before


def test_control_endpoints_type_and_delete_payments_in_xero(world):
    """POST /_sandbox/payments (another process's way in) is pulled, then removed."""
    invoice_id, xero_id, _ = open_invoice(world)
    base = world.sandbox.config["XERO_API_URL"].removesuffix("/api.xro/2.0")
    http = urllib3.PoolManager()
    body = {"invoice_id": xero_id, "amount": "7.50", "date": "2026-03-04"}
    made = http.request("POST", base + "/_sandbox/payments", json=body).json()
    refused = http.request("POST", base + "/_sandbox/payments", json={"amount": "1"})
    assert refused.status == 400 and refused.json()["error"]
    assert world.sync().report("payments").pulled == 1
    [row] = rows_of(world, invoice_id)
    assert row.amount == Decimal("7.50") and row.date == date(2026, 3, 4)
    url = f"{base}/_sandbox/payments/{made['PaymentID']}/delete"
    assert http.request("POST", url, json={}).json()["Status"] == "DELETED"
    assert world.sync().report("payments").pulled == 1
    assert rows_of(world, invoice_id) == []


def open_base_invoice(w: World) -> tuple[int, str]:
    """(Perfex id, Xero id) of an open synced invoice in the Xero base currency."""
    links = w.links("invoices")
    base = w.sandbox.sandbox.state.tenant().base_currency
    for inv in reads.read_invoices(w.perfex):
        link = links.get(str(inv.id))
        if link is None or link.state != "synced" or not link.xero_id:
            continue
        xero = w.sandbox.inject.get("Invoices", link.xero_id)
        if xero["Status"] == "AUTHORISED" and xero["CurrencyCode"] == base:
            return inv.id, link.xero_id
    raise AssertionError("no open synced base-currency invoice in the seed")


@pytest.mark.parametrize("kind", ["overpayment", "prepayment"])
def test_credit_applied_in_xero_is_skipped_with_reason_and_no_write(world, kind):
    """An overpayment/prepayment applied in Xero: no Perfex row, one skip, no write."""
    invoice_id, xero_id = open_base_invoice(world)
    inject = world.sandbox.inject
    contact_id = inject.get("Invoices", xero_id)["Contact"]["ContactID"]
    credit = inject.receive_credit(kind, contact_id, "500.00", on=date(2026, 3, 2))
    credit_id = credit["OverpaymentID" if kind == "overpayment" else "PrepaymentID"]
    inject.allocate_credit(kind, credit_id, xero_id, "25.00", on=date(2026, 3, 3))
    assert inject.get("Invoices", xero_id)["AmountCredited"] == Decimal("25.00")
    status, rows = status_of(world, invoice_id), rows_of(world, invoice_id)
    before = world.writes()
    result = world.sync()
    assert result.ok, result.failed
    assert world.writes() == before
    assert rows_of(world, invoice_id) == rows
    assert status_of(world, invoice_id) == status
    assert result.report("payments").pulled == 0
    key = claim_key(f"{credit_id}:{xero_id}")
    link = world.link("payments", key)
    assert link is not None and link.state == "skipped" and link.xero_id is None
    assert f"{kind} {credit_id} applied in Xero to invoice {invoice_id}" in (
        link.last_error
    )
    assert "(25.00)" in link.last_error and "not recorded in Perfex" in link.last_error
    [entry] = logs(world, perfex_key=key)
    assert entry.outcome == "skipped" and entry.xero_id == credit_id
    again = world.sync()
    assert again.ok and again.report("payments").skipped == 0
    assert world.writes() == before and rows_of(world, invoice_id) == rows
    assert len(logs(world, perfex_key=key)) == 1


def test_overpayment_refund_in_payments_is_skipped_with_reason(world):
    """A refund of an overpayment (AROVERPAYMENTPAYMENT) is not a Perfex payment."""
    invoice_id, xero_id = open_base_invoice(world)
    inject = world.sandbox.inject
    contact_id = inject.get("Invoices", xero_id)["Contact"]["ContactID"]
    credit = inject.overpayment(contact_id, "40.00", on=date(2026, 3, 2))
    refund = inject.refund_credit("overpayment", credit["OverpaymentID"], "15.00")
    assert refund["PaymentType"] == "AROVERPAYMENTPAYMENT"
    rows, before = rows_of(world, invoice_id), world.writes()
    result = world.sync()
    assert result.ok and world.writes() == before
    link = world.link("payments", claim_key(refund["PaymentID"]))
    assert link.state == "skipped"
    assert link.last_error == "overpayment refunds are not synced to Perfex"
    assert rows_of(world, invoice_id) == rows


def test_setting_key_is_validated_and_on_by_default():
    """payments_from_xero takes yes/no (on/off too) and defaults to yes."""
    assert defaults()["payments_from_xero"] == "yes"
    assert validate("payments_from_xero", "off") == "no"
    assert validate("payments_from_xero", "YES") == "yes"
    with pytest.raises(InvalidSetting):
        validate("payments_from_xero", "maybe")
