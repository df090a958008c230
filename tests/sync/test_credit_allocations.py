"""Credit applications (tblcredits) -> allocations of Xero credit notes, to the cent."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.balances import invoice_balances
from pxflask.perfex.records import CreditApplication, Invoice
from pxflask.sync.entities.credit_notes.allocation_rules import (
    DELETED_IN_PERFEX,
    ENTITY,
    Todo,
    refusal,
)
from pxflask.sync.entities.credit_notes.mapper import map_credit_application
from pxflask.sync.registry import REGISTRY

from .conftest import NO_RETRY, Env, delta
from .factories import D

CENT = Decimal("0.01")
WRITES = ("PUT", "POST", "DELETE")
ON = date(2025, 6, 10)
PUT_ALLOCATIONS = "PUT /CreditNotes/{CreditNoteID}/Allocations"


def _writes(made: dict[str, int]) -> dict[str, int]:
    """The write calls among some calls."""
    return {k: n for k, n in made.items() if k.split()[0] in WRITES}


def _unpaid(env: Env, count: int = 1) -> list[Invoice]:
    """Synced unpaid invoices with nothing paid or credited, largest first."""
    balances = invoice_balances(
        env.perfex, [i.id for i in reads.read_invoices(env.perfex)]
    )
    found = [
        inv
        for inv in reads.read_invoices(env.perfex)
        if inv.status in (1, 4)
        and balances[inv.id].received == 0
        and inv.total > D("30.00")
        and env.link("invoices", inv.id) is not None
    ]
    found.sort(key=lambda inv: -inv.total)
    assert len(found) >= count, "the seed has too few unpaid invoices"
    return found[:count]


def _credit_note(env: Env, invoice: Invoice, amount: Decimal) -> int:
    """A goodwill credit note of `amount` for the invoice's customer -> its id."""
    cn = env.perfex.tables.creditnotes
    with env.perfex.engine.connect() as conn:
        row = dict(
            conn.execute(sa.select(cn).order_by(cn.c.id).limit(1)).one()._mapping
        )
        number = conn.execute(sa.select(sa.func.max(cn.c.number))).scalar() + 1
    row.pop("id")
    row.update(
        clientid=invoice.customer_id,
        currency=invoice.currency.id,
        number=number,
        date=ON,
        datecreated=datetime.combine(ON, time(9, 0)),
        subtotal=amount,
        total_tax=D("0.00"),
        total=amount,
        adjustment=D("0.00"),
        discount_percent=D("0.00"),
        discount_total=D("0.00"),
        discount_type="",
        status=1,
        reference_no=None,
    )
    if "formatted_number" in row:
        row["formatted_number"] = f"CN-{number:06d}"
    note_id = int(env.execute(cn.insert().values(**row)).inserted_primary_key[0])
    env.execute(
        env.perfex.tables.itemable.insert().values(
            rel_id=note_id,
            rel_type="credit_note",
            description="Goodwill credit",
            long_description=None,
            qty=D("1"),
            rate=amount,
            unit=None,
            item_order=1,
            is_optional=0,
            is_selected=1,
        )
    )
    return note_id


def _apply(env: Env, note_id: int, invoice: Invoice, amount: Decimal) -> int:
    """Apply credit to an invoice as Perfex does (tblcredits row, statuses)."""
    credits = env.perfex.tables.credits
    key = env.execute(
        credits.insert().values(
            invoice_id=invoice.id,
            credit_id=note_id,
            staff_id=1,
            date=ON,
            date_applied=datetime.combine(ON, time(10, 0)),
            amount=amount,
        )
    ).inserted_primary_key[0]
    _perfex_statuses(env, invoice.id)
    return int(key)


def _perfex_statuses(env: Env, invoice_id: int) -> None:
    """Perfex's update_invoice_status() and closed credit notes, after a change."""
    balance = invoice_balances(env.perfex, [invoice_id])[invoice_id]
    status = 2 if balance.due == 0 else 3 if balance.received > 0 else 1
    inv = env.perfex.tables.invoices
    env.execute(inv.update().where(inv.c.id == invoice_id).values(status=status))


def _due(env: Env, invoice: Invoice) -> Decimal:
    """What is left to pay on the invoice in Perfex (payments and credits off)."""
    return invoice_balances(env.perfex, [invoice.id])[invoice.id].due


def _xero_invoice(env: Env, invoice: Invoice) -> dict[str, Any]:
    """The Xero view of a synced invoice."""
    link = env.link("invoices", invoice.id)
    assert link is not None and link.xero_id
    return env.sandbox.inject.get("Invoices", link.xero_id)


def _xero_note(env: Env, note_id: int) -> dict[str, Any]:
    """The Xero view of a synced credit note."""
    link = env.link("credit-notes", note_id)
    assert link is not None and link.xero_id, link
    return env.sandbox.inject.get("CreditNotes", link.xero_id)


def test_registry_description_mentions_allocations():
    """credit-notes now carries the allocations (no 'not yet')."""
    description = REGISTRY.get("credit-notes").description
    assert "allocations" in description and "not yet" not in description


def test_allocation_payload_is_decimal_and_dated():
    """Amount as Decimal to the cent, the Perfex date, the Xero invoice id."""
    credit = CreditApplication(5, 2, 9, D("12.30"), ON)
    payload = map_credit_application(credit, "inv-1")
    assert payload == {
        "Invoice": {"InvoiceID": "inv-1"},
        "Amount": D("12.30"),
        "Date": "2025-06-10",
    }
    assert isinstance(payload["Amount"], Decimal)


@pytest.mark.parametrize(
    ("note", "invoice", "words"),
    [
        ({"Status": "DRAFT"}, {"Status": "AUTHORISED"}, "credit note 2 is DRAFT"),
        ({"Status": "PAID"}, {"Status": "AUTHORISED"}, "credit note 2 is PAID"),
        ({"Status": "AUTHORISED"}, {"Status": "PAID"}, "invoice 9 is PAID"),
        ({"Status": "AUTHORISED"}, None, "invoice 9 was not found"),
        (
            {"Status": "AUTHORISED", "Left": "12.29"},
            {"Status": "AUTHORISED"},
            "remaining credit 12.29",
        ),
        (
            {"Status": "AUTHORISED"},
            {"Status": "AUTHORISED", "Due": "1.00"},
            "amount due 1.00",
        ),
    ],
)
def test_refusals_say_why(note, invoice, words):
    """Not AUTHORISED, or above what is left on either side: the reason."""
    credit = CreditApplication(5, 2, 9, D("12.30"), ON)
    todo = Todo(credit, "cn-1", map_credit_application(credit, "inv-1"), "h")
    left = {"cn-1": D(note.pop("Left", "100.00"))}
    due = {"inv-1": D((invoice or {}).pop("Due", "100.00"))}
    reason = refusal(todo, note, invoice, left, due)
    assert reason is not None and words in reason
    fine = refusal(
        todo,
        {"Status": "AUTHORISED"},
        {"Status": "AUTHORISED"},
        {"cn-1": D("12.30")},
        {"inv-1": D("12.30")},
    )
    assert fine is None


def test_seeded_credits_allocated_and_every_amount_due_matches_perfex(aenv):
    """The seed's applied credits are allocated; every Xero AmountDue is Perfex's."""
    env = aenv
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    credits = reads.read_credit_applications(env.perfex)
    assert credits
    for credit in credits:
        link = env.link(ENTITY, credit.id)
        assert link is not None and link.state == "synced", (credit, link)
    invoices = [
        inv for inv in reads.read_invoices(env.perfex) if inv.status in (1, 2, 3, 4)
    ]
    due = invoice_balances(env.perfex, [inv.id for inv in invoices])
    for inv in invoices:
        assert _xero_invoice(env, inv)["AmountDue"] == due[inv.id].due, inv.id


def test_allocations_reduce_amount_due_to_perfex_and_rerun_writes_nothing(aenv):
    """Partial then full credit: Xero AmountDue is Perfex's due; rerun: no call."""
    env = aenv
    (invoice,) = _unpaid(env)
    first = (invoice.total / 3).quantize(CENT)
    rest = invoice.total - first
    cn1 = _credit_note(env, invoice, first)
    credit1 = _apply(env, cn1, invoice, first)
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    link = env.link(ENTITY, credit1)
    assert link is not None and link.state == "synced" and link.xero_id
    xero = _xero_invoice(env, invoice)
    assert xero["AmountDue"] == _due(env, invoice) == invoice.total - first
    assert xero["AmountCredited"] == first and xero["Status"] == "AUTHORISED"
    note = _xero_note(env, cn1)
    assert note["Status"] == "PAID" and note["RemainingCredit"] == 0
    assert [a["AllocationID"] for a in note["Allocations"]] == [link.xero_id]

    cn2 = _credit_note(env, invoice, rest + D("5.00"))
    credit2 = _apply(env, cn2, invoice, rest)
    assert env.sync(entities=["credit-notes"]).ok
    assert env.link(ENTITY, credit2).state == "synced"
    xero = _xero_invoice(env, invoice)
    assert xero["AmountDue"] == _due(env, invoice) == 0
    assert xero["Status"] == "PAID"
    note2 = _xero_note(env, cn2)
    assert note2["Status"] == "AUTHORISED" and note2["RemainingCredit"] == D("5.00")

    before = env.calls()
    again = env.sync(entities=["credit-notes"])
    assert again.ok and again.report("credit-notes").writes == 0
    assert _writes(delta(before, env.calls())) == {}


@pytest.mark.parametrize("fault", ["crash", "retried"])
def test_lost_answer_never_allocates_twice(aenv, fault):
    """Xero allocates, the answer is lost: the rerun (or retry) links that one."""
    env = aenv
    (invoice,) = _unpaid(env)
    amount = (invoice.total / 4).quantize(CENT)
    cn = _credit_note(env, invoice, amount)
    key = _apply(env, cn, invoice, amount)
    if fault == "crash":
        env.sandbox.faults.commit_then_fail(1, status=0, path_contains="/Allocations")
        lost = env.sync(gateway=env.make_gateway(NO_RETRY), entities=["credit-notes"])
        assert not lost.ok  # that allocation failed alone, the run went on
        assert env.link(ENTITY, key).state == "failed"
        assert len(_xero_note(env, cn)["Allocations"]) == 1
    else:
        env.sandbox.faults.commit_then_fail(1, status=504, path_contains="/Allocations")
    others = {  # one call per credit note with applications still to send
        c.credit_note_id
        for c in reads.read_credit_applications(env.perfex)
        if c.id != key and getattr(env.link(ENTITY, c.id), "state", None) != "synced"
    }
    replays = env.sandbox.sandbox.idempotency.replays
    before = env.calls()
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    sent = delta(before, env.calls()).get(PUT_ALLOCATIONS, 0)
    if fault == "crash":  # found on the credit note: not sent again
        assert sent == len(others)
    else:  # the gateway's retry carried the same Idempotency-Key: replayed
        assert sent == len(others) + 2
        assert env.sandbox.sandbox.idempotency.replays == replays + 1
    note = _xero_note(env, cn)
    link = env.link(ENTITY, key)
    assert link.state == "synced"
    assert [a["AllocationID"] for a in note["Allocations"]] == [link.xero_id]
    assert _xero_invoice(env, invoice)["AmountDue"] == _due(env, invoice)
    before = env.calls()
    assert env.sync(entities=["credit-notes"]).ok
    assert _writes(delta(before, env.calls())) == {}


def test_over_allocation_is_skipped_with_reason_then_retried(aenv):
    """Above the Xero amount due: skipped with why; sent once the payment is gone."""
    env = aenv
    (invoice,) = _unpaid(env)
    amount = (invoice.total / 2).quantize(CENT)
    cn = _credit_note(env, invoice, amount)
    key = _apply(env, cn, invoice, amount)
    xero_id = env.link("invoices", invoice.id).xero_id
    paid = env.sandbox.inject.payment(xero_id, invoice.total - amount + D("1.00"))
    entities = ["invoices", "credit-notes"]
    result = env.sync(entities=entities)
    assert result.ok, result.failed
    link = env.link(ENTITY, key)
    assert link.state == "skipped" and "above the amount due" in link.last_error
    assert result.report("credit-notes").skipped == 1
    assert _xero_note(env, cn)["Allocations"] == []

    before = env.calls()
    again = env.sync(entities=entities)
    assert again.report("credit-notes").skipped == 0
    assert _writes(delta(before, env.calls())) == {}

    env.sandbox.inject.delete_payment(paid["PaymentID"])
    result = env.sync(entities=entities)
    assert result.ok, result.failed
    assert env.link(ENTITY, key).state == "synced"
    assert _xero_invoice(env, invoice)["AmountDue"] == _due(env, invoice)


def test_edited_then_removed_application(aenv):
    """Edited amount: re-allocated once; removed in Perfex: deleted in Xero."""
    env = aenv
    (invoice,) = _unpaid(env)
    total = (invoice.total / 2).quantize(CENT)
    cn = _credit_note(env, invoice, total)
    key = _apply(env, cn, invoice, total)
    assert env.sync(entities=["credit-notes"]).ok
    first = env.link(ENTITY, key).xero_id
    credits = env.perfex.tables.credits
    smaller = total - D("1.01")
    env.execute(credits.update().where(credits.c.id == key).values(amount=smaller))
    assert env.sync(entities=["credit-notes"]).ok
    link = env.link(ENTITY, key)
    assert link.state == "synced" and link.xero_id != first
    note = _xero_note(env, cn)
    assert [a["Amount"] for a in note["Allocations"]] == [smaller]
    assert note["RemainingCredit"] == D("1.01")
    assert _xero_invoice(env, invoice)["AmountDue"] == _due(env, invoice)

    env.execute(credits.delete().where(credits.c.id == key))
    _perfex_statuses(env, invoice.id)
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    link = env.link(ENTITY, key)
    assert link.state == "deleted" and link.last_error == DELETED_IN_PERFEX
    note = _xero_note(env, cn)
    assert note["Allocations"] == [] and note["RemainingCredit"] == total
    assert note["Status"] == "AUTHORISED"
    xero = _xero_invoice(env, invoice)
    assert xero["AmountDue"] == _due(env, invoice) == invoice.total
    before = env.calls()
    assert env.sync(entities=["credit-notes"]).ok
    assert _writes(delta(before, env.calls())) == {}


def test_dry_run_plans_the_allocation_and_writes_nothing(aenv):
    """A dry run lists the allocation and makes no write call."""
    env = aenv
    (invoice,) = _unpaid(env)
    amount = D("10.00")
    cn = _credit_note(env, invoice, amount)
    assert env.sync(entities=["credit-notes"]).ok
    key = _apply(env, cn, invoice, amount)
    before = env.calls()
    result = env.sync(entities=["credit-notes"], dry_run=True)
    assert _writes(delta(before, env.calls())) == {}
    planned = [a for a in result.planned if a.entity == ENTITY]
    assert [(a.key, a.action) for a in planned] == [(str(key), "allocate")]
    assert planned[0].payload["Amount"] == amount
    assert env.link(ENTITY, key) is None


def test_removed_application_xero_refuses_to_delete_is_locked(aenv):
    """Xero refuses the delete: locked with the reason, never retried silently."""
    env = aenv
    (invoice,) = _unpaid(env)
    amount = D("12.34")
    cn = _credit_note(env, invoice, amount)
    key = _apply(env, cn, invoice, amount)
    assert env.sync(entities=["credit-notes"]).ok
    credits = env.perfex.tables.credits
    env.execute(credits.delete().where(credits.c.id == key))
    env.sandbox.faults.fail_next(1, status=400, path_contains="/Allocations/")
    result = env.sync(entities=["credit-notes"])
    assert result.ok and result.report("credit-notes").blocked == 1
    link = env.link(ENTITY, key)
    assert link.state == "locked" and "refused to delete" in link.last_error
    assert len(_xero_note(env, cn)["Allocations"]) == 1
    before = env.calls()
    assert env.sync(entities=["credit-notes"]).ok
    assert _writes(delta(before, env.calls())) == {}
