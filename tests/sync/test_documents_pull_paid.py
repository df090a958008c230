"""An invoice made in Xero already paid arrives in Perfex paid, its payments once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.models import SyncLog
from pxflask.perfex import reads, writes
from pxflask.perfex.records import INVOICE_PAID, INVOICE_PARTIALLY_PAID
from pxflask.sync.entities.documents_pull import ENTITY
from pxflask.sync.entities.payments.pull_rules import WANTED, claim_key
from pxflask.sync.links import PULLED_FROM_XERO, LinkStore, Outcome
from pxflask.sync.mappers.pulled import mode_for_account

from .conftest import Env, delta
from .test_documents_pull import (
    ON,
    lines,
    linked_contact,
    mapped_tax,
    pulled_doc,
    xero_credit_note,
    xero_invoice,
)

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based; documents made in Xero are in USD too."""

PAYMENTS_OFF = {"payments_from_xero": "no"}


@pytest.fixture
def both_on(env: Env) -> Env:
    """A first full run done (the payments cursor set), then both pulls on."""
    assert env.sync().ok
    env.settings.update({**ON, "payments_from_xero": "yes"})
    return env


def paid_invoice(env: Env, *amounts: str) -> tuple[dict[str, Any], list[dict]]:
    """A Xero invoice of 100.00 net paid in Xero by these amounts (in March)."""
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    inv = xero_invoice(env, contact, lines(tax_type, ("1", "100.00")))
    payments, paid = [], Decimal(0)
    for n, amount in enumerate(amounts):  # "all": what is left
        value = inv["Total"] - paid if amount == "all" else Decimal(amount)
        paid += value
        payments.append(
            env.sandbox.inject.payment(
                inv["InvoiceID"], value, on=date(2026, 3, 10 + n), Reference=f"bank {n}"
            )
        )
    return env.sandbox.inject.get("Invoices", inv["InvoiceID"]), payments


def perfex_payments(env: Env, inv: dict[str, Any]) -> list[Any]:
    """The Perfex payments of the invoice pulled from this Xero invoice."""
    invoice_id = pulled_doc(env, "invoices", inv["InvoiceID"])
    return reads.read_payments(env.perfex, invoice_ids=[invoice_id])


def status(env: Env, inv: dict[str, Any]) -> int:
    """The Perfex status of the invoice pulled from this Xero invoice."""
    [found] = reads.read_invoices(
        env.perfex, ids=[pulled_doc(env, "invoices", inv["InvoiceID"])]
    )
    return found.status


def expected_mode(env: Env) -> str | None:
    """The Perfex mode the payments pull maps the Xero bank account 090 to."""
    modes = reads.read_payment_modes(env.perfex, active_only=True)
    return mode_for_account(
        {"Code": "090"}, env.settings, env.links("payment-modes"), modes
    )


def assert_recorded_once(env: Env, inv: dict[str, Any], made: list[dict]) -> None:
    """Each Xero payment is one Perfex payment, linked as pulled; amounts agree."""
    rows = perfex_payments(env, inv)
    by_id = {r.transaction_id: r for r in rows}
    assert sorted(by_id) == sorted(p["PaymentID"].lower() for p in made)
    assert len(rows) == len(made)
    assert sum((r.amount for r in rows), Decimal(0)) == inv["AmountPaid"]
    links = env.links("payments")
    for p in made:
        row = by_id[p["PaymentID"].lower()]
        assert row.amount == p["Amount"] and row.date == date.fromisoformat(
            str(p["Date"])[:10]
        )
        assert row.mode == expected_mode(env)
        link = links[str(row.id)]
        assert link.state == "synced" and link.idempotency_key == PULLED_FROM_XERO
        assert link.xero_id.lower() == p["PaymentID"].lower()
    assert not [k for k in links if k.startswith(WANTED)]


def payment_reads(before: dict[str, int], env: Env) -> int:
    """GET /Payments calls since `before`."""
    return delta(before, env.calls()).get("GET /Payments", 0)


def test_paid_xero_invoice_arrives_paid_with_its_payment(both_on):
    """One run: the invoice, then its payment (mode, PaymentID), no extra read."""
    env = both_on
    inv, made = paid_invoice(env, "all")
    assert inv["Status"] == "PAID"
    before = env.calls()
    result = env.sync()
    assert result.ok, result.failed
    assert result.report(ENTITY).pulled == 1 and result.report("payments").pulled == 1
    assert status(env, inv) == INVOICE_PAID
    assert_recorded_once(env, inv, made)
    assert payment_reads(before, env) == 1  # the payments pass only
    made_calls = delta(before, env.calls())
    assert not [k for k in made_calls if k == "POST /Payments" or k == "PUT /Payments"]


def test_partly_paid_xero_invoice_arrives_partly_paid(both_on):
    """Two payments in Xero, less than the total: two Perfex payments, partly paid."""
    env = both_on
    inv, made = paid_invoice(env, "10.00", "25.50")
    assert inv["Status"] == "AUTHORISED" and inv["AmountPaid"] == Decimal("35.50")
    result = env.sync()
    assert result.ok, result.failed
    assert result.report("payments").pulled == 2
    assert status(env, inv) == INVOICE_PARTIALLY_PAID
    assert_recorded_once(env, inv, made)


def pay_a_linked_invoice(env: Env) -> None:
    """A later payment in Xero on an invoice pxflask sent (it moves the cursor)."""
    paid = {p.invoice_id for p in reads.read_payments(env.perfex)}
    links = env.links("invoices")
    for inv in reads.read_invoices(env.perfex):
        link = links.get(str(inv.id))
        if inv.id not in paid and link is not None and link.state == "synced":
            env.sandbox.inject.payment(link.xero_id, Decimal("1.00"))
            return
    raise AssertionError("no synced invoice without payments in the seed")


def test_payment_older_than_the_payments_cursor_still_follows(env):
    """documents_from_xero switched on later: the old payment is read by its id."""
    assert env.sync().ok
    inv, made = paid_invoice(env, "all")
    env.sandbox.advance_time(2)
    pay_a_linked_invoice(env)
    passed = env.sync()  # its cursor moves past the payment of the unknown invoice
    assert passed.ok and passed.report("payments").pulled == 1
    env.settings.update(ON)
    before = env.calls()
    result = env.sync()
    assert result.ok, result.failed
    assert result.report("payments").pulled == 1
    assert status(env, inv) == INVOICE_PAID
    assert_recorded_once(env, inv, made)
    assert payment_reads(before, env) == 2  # the pass, then one read by PaymentID


def test_payments_follow_when_each_entity_runs_alone(both_on):
    """Payments alone (its cursor passes), documents-pull alone, payments again."""
    env = both_on
    inv, made = paid_invoice(env, "60.00")
    env.sandbox.advance_time(2)
    pay_a_linked_invoice(env)
    assert env.sync(entities=["payments"]).report("payments").pulled == 1
    alone = env.sync(entities=[ENTITY])
    assert alone.ok and alone.report(ENTITY).pulled == 1
    assert perfex_payments(env, inv) == []  # the payments step was not in that run
    before = env.calls()
    result = env.sync(entities=["payments"])
    assert result.ok and result.report("payments").pulled == 1
    assert status(env, inv) == INVOICE_PARTIALLY_PAID
    assert_recorded_once(env, inv, made)
    assert payment_reads(before, env) == 2


def test_a_worker_killed_mid_way_records_each_payment_once(both_on):
    """Two old payments, the first inserted by a killed worker: each once, one read."""
    env = both_on
    inv, made = paid_invoice(env, "20.00", "30.00")
    env.sandbox.advance_time(2)
    pay_a_linked_invoice(env)
    assert env.sync(entities=["payments"]).report("payments").pulled == 1
    assert env.sync(entities=[ENTITY]).report(ENTITY).pulled == 1
    first = made[0]["PaymentID"]
    with env.sessions() as session:
        LinkStore(session, "payments").record([Outcome(claim_key(first), "pending")])
    writes.record_payment_once(
        env.perfex,
        pulled_doc(env, "invoices", inv["InvoiceID"]),
        Decimal("20.00"),
        date(2026, 3, 10),
        expected_mode(env),
        transaction_id=first.lower(),
    )
    before = env.calls()
    result = env.sync(entities=["payments"])
    assert result.ok and result.report("payments").pulled == 1
    assert_recorded_once(env, inv, made)
    assert payment_reads(before, env) == 2  # the pass, then the second one by id
    assert env.link("payments", claim_key(first)) is None


def test_rerun_writes_nothing_and_sends_nothing_back(both_on):
    """After the pull a rerun records nothing, writes nothing to Xero, reads once."""
    env = both_on
    inv, made = paid_invoice(env, "40.00")
    assert env.sync().ok
    assert_recorded_once(env, inv, made)
    rows = [(r.id, r.amount) for r in perfex_payments(env, inv)]
    writes = env.writes()
    before = env.calls()
    again = env.sync()
    assert again.ok and again.report("payments").pulled == 0
    assert again.report(ENTITY).pulled == 0
    assert [(r.id, r.amount) for r in perfex_payments(env, inv)] == rows
    assert env.writes() == writes
    assert payment_reads(before, env) == 1
    full = env.sync(entities=["payments"], full=True)
    assert full.ok and full.report("payments").pulled == 0
    assert [(r.id, r.amount) for r in perfex_payments(env, inv)] == rows
    assert env.writes() == writes


def test_dry_run_shows_the_payments_that_would_be_written(both_on):
    """A dry run lists each Xero payment of a pulled invoice; nothing is written."""
    env = both_on
    inv, made = paid_invoice(env, "30.00", "all")
    invoices = len(reads.read_invoices(env.perfex))
    result = env.sync(dry_run=True)
    assert result.ok, result.failed
    planned = {
        p.key: p
        for p in result.planned
        if p.entity == "payments" and p.action == "pull"
    }
    assert sorted(planned) == sorted(claim_key(p["PaymentID"]) for p in made)
    for p in made:
        plan = planned[claim_key(p["PaymentID"])]
        assert plan.payload["amount"] == str(p["Amount"])
        assert plan.payload["transactionid"] == p["PaymentID"].lower()
        assert inv["InvoiceNumber"] in plan.payload["invoice"]
    assert len(reads.read_invoices(env.perfex)) == invoices
    assert not [k for k in env.links("payments") if k.startswith(WANTED)]
    assert env.sync().report("payments").pulled == 2


def test_payments_from_xero_off_says_so_and_switching_on_brings_them(both_on):
    """Off: the invoice arrives unpaid, its log says why; on: the payment follows."""
    env = both_on
    env.settings.update(PAYMENTS_OFF)
    inv, made = paid_invoice(env, "all")
    dry = env.sync(dry_run=True)
    [plan] = [p for p in dry.planned if p.entity == ENTITY and p.action == "pull"]
    assert "switch on payments from Xero" in (plan.reason or "")
    assert not [p for p in dry.planned if p.entity == "payments" and p.action == "pull"]
    result = env.sync()
    assert result.ok and result.report(ENTITY).pulled == 1
    assert perfex_payments(env, inv) == []
    with env.sessions() as session:
        messages = list(
            session.scalars(
                sa.select(SyncLog.message).where(
                    SyncLog.entity == ENTITY, SyncLog.action == "pull"
                )
            )
        )
    [line] = [m for m in messages if inv["InvoiceNumber"] in (m or "")]
    assert f"paid in Xero {inv['AmountPaid']} of {inv['Total']}" in line
    assert "payments_from_xero" in line and "switch on payments from Xero" in line
    env.settings.update({"payments_from_xero": "yes"})
    assert env.sync().ok
    assert status(env, inv) == INVOICE_PAID
    assert_recorded_once(env, inv, made)


def test_refunded_credit_note_says_so_in_the_log(both_on):
    """A credit note made in Xero and refunded there: its log line says so."""
    env = both_on
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    note = xero_credit_note(env, contact, lines(tax_type, ("1", "50.00")))
    env.sandbox.inject.write(
        "Payments",
        {
            "CreditNote": {"CreditNoteID": note["CreditNoteID"]},
            "Account": {"Code": "090"},
            "Amount": Decimal("20.00"),
            "Date": "2026-03-12",
        },
    )
    assert env.sync().ok
    with env.sessions() as session:
        messages = list(
            session.scalars(sa.select(SyncLog.message).where(SyncLog.entity == ENTITY))
        )
    [line] = [m for m in messages if note["CreditNoteNumber"] in (m or "")]
    assert f"refunded 20.00 of {note['Total']}" in line
