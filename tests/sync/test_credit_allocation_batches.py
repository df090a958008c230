"""The applications of one credit note go to Xero in one Allocations call."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.records import DRAFT_NUMBER, Invoice
from pxflask.sync.entities.credit_notes.allocation_rules import ENTITY

from .conftest import NO_RETRY, Env, delta
from .factories import D
from .test_credit_allocations import (
    CENT,
    PUT_ALLOCATIONS,
    _apply,
    _credit_note,
    _due,
    _unpaid,
    _writes,
    _xero_invoice,
    _xero_note,
)

SAME_CONTACT = "The credit note and invoice must be for the same contact."


def _twin(env: Env, invoice: Invoice) -> Invoice:
    """A new unpaid invoice of the same customer, lines and totals (synced)."""
    t = env.perfex.tables
    inv, items, taxes = t.invoices, t.itemable, t.item_tax
    with env.perfex.engine.connect() as conn:
        row = dict(
            conn.execute(sa.select(inv).where(inv.c.id == invoice.id)).one()._mapping
        )
        number = (
            conn.execute(
                sa.select(sa.func.max(inv.c.number)).where(inv.c.number < DRAFT_NUMBER)
            ).scalar()
            + 1
        )
        where = (items.c.rel_id == invoice.id, items.c.rel_type == "invoice")
        lines = [dict(r._mapping) for r in conn.execute(sa.select(items).where(*where))]
        line_taxes = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(taxes).where(
                    taxes.c.rel_id == invoice.id, taxes.c.rel_type == "invoice"
                )
            )
        ]
    row.pop("id")
    row.update(number=number, hash=uuid.uuid4().hex, status=1)
    if "formatted_number" in row:
        row["formatted_number"] = f"INV-{number:06d}"
    twin_id = int(env.execute(inv.insert().values(**row)).inserted_primary_key[0])
    for line in lines:
        old = line.pop("id")
        line["rel_id"] = twin_id
        new = int(env.execute(items.insert().values(**line)).inserted_primary_key[0])
        for tax in line_taxes:
            if tax["itemid"] == old:
                values = {k: v for k, v in tax.items() if k != "id"}
                values.update(itemid=new, rel_id=twin_id)
                env.execute(taxes.insert().values(**values))
    result = env.sync(entities=["invoices"])
    assert result.ok, result.failed
    return next(i for i in reads.read_invoices(env.perfex) if i.id == twin_id)


def _two_applications(
    env: Env, *, note_first: bool = False
) -> tuple[int, Invoice, Invoice, int, int]:
    """A credit note applied to two invoices of one customer: (note, a, b, keys).

    note_first: the credit note is synced before it is applied.
    """
    assert env.sync(entities=["credit-notes"]).ok  # the seed's own, out of the way
    (invoice,) = _unpaid(env)
    twin = _twin(env, invoice)
    first = (invoice.total / 4).quantize(CENT)
    second = (twin.total / 5).quantize(CENT)
    note = _credit_note(env, invoice, first + second + D("3.00"))
    if note_first:
        assert env.sync(entities=["credit-notes"]).ok
    return (
        note,
        invoice,
        twin,
        _apply(env, note, invoice, first),
        _apply(env, note, twin, second),
    )


def test_two_applications_go_in_one_call_and_are_both_linked(aenv):
    """One PUT .../Allocations with both elements; each linked to its allocation."""
    env = aenv
    note, invoice, twin, k1, k2 = _two_applications(env, note_first=True)
    before = env.calls()
    dry = env.sync(entities=["credit-notes"], dry_run=True)
    assert _writes(delta(before, env.calls())) == {}
    planned = [a for a in dry.planned if a.entity == ENTITY]
    assert [(a.key, a.action) for a in planned] == [
        (str(k1), "allocate"),
        (str(k2), "allocate"),
    ]
    assert all(isinstance(a.payload["Amount"], Decimal) for a in planned)
    assert env.link(ENTITY, k1) is None and env.link(ENTITY, k2) is None
    before = env.calls()
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    assert delta(before, env.calls()).get(PUT_ALLOCATIONS) == 1
    links = [env.link(ENTITY, k) for k in (k1, k2)]
    assert all(link.state == "synced" and link.xero_id for link in links)
    allocations = _xero_note(env, note)["Allocations"]
    assert sorted(a["AllocationID"] for a in allocations) == sorted(
        link.xero_id for link in links
    )
    assert _xero_note(env, note)["RemainingCredit"] == D("3.00")
    for inv in (invoice, twin):
        assert _xero_invoice(env, inv)["AmountDue"] == _due(env, inv)
    for full in (False, True):  # --full never re-creates a synced allocation
        before = env.calls()
        assert env.sync(entities=["credit-notes"], full=full).ok
        assert _writes(delta(before, env.calls())) == {}
    assert [env.link(ENTITY, k).xero_id for k in (k1, k2)] == [
        link.xero_id for link in links
    ]


def _move_to_other_contact(env: Env, invoice: Invoice) -> None:
    """A Xero user moves the synced invoice to another contact."""
    other = env.sandbox.inject.contact(f"Someone Else {uuid.uuid4().hex[:6]}")
    xero_id = env.link("invoices", invoice.id).xero_id
    env.sandbox.inject.update(
        "Invoices", xero_id, {"Contact": {"ContactID": other["ContactID"]}}
    )


def test_one_refused_element_fails_alone_with_xeros_message(aenv):
    """Xero refuses one element of the call: the other is linked, it fails."""
    env = aenv
    note, invoice, twin, k1, k2 = _two_applications(env)
    _move_to_other_contact(env, invoice)  # the first element: Xero refuses it
    before = env.calls()
    result = env.sync(entities=["credit-notes"])
    assert not result.ok
    assert delta(before, env.calls()).get(PUT_ALLOCATIONS) == 1
    refused, good = env.link(ENTITY, k1), env.link(ENTITY, k2)
    assert refused.state == "failed" and not refused.xero_id
    assert SAME_CONTACT in refused.last_error
    assert [SAME_CONTACT in e for _, e in result.report("credit-notes").errors] == [
        True
    ]
    assert good.state == "synced" and good.xero_id
    allocations = _xero_note(env, note)["Allocations"]
    assert [a["AllocationID"] for a in allocations] == [good.xero_id]
    assert _xero_invoice(env, twin)["AmountDue"] == _due(env, twin)


@pytest.mark.parametrize("refused", [False, True])
def test_crash_after_the_call_never_allocates_twice(aenv, refused):
    """The answer is lost: the rerun links what Xero holds, sends only the rest."""
    env = aenv
    note, invoice, twin, k1, k2 = _two_applications(env)
    if refused:  # Xero wrote the second element only
        _move_to_other_contact(env, invoice)
    env.sandbox.faults.commit_then_fail(1, status=0, path_contains="/Allocations")
    before = env.calls()
    lost = env.sync(gateway=env.make_gateway(NO_RETRY), entities=["credit-notes"])
    assert not lost.ok
    assert delta(before, env.calls()).get(PUT_ALLOCATIONS) == 1
    for key in (k1, k2):
        link = env.link(ENTITY, key)
        assert link.state == "failed" and "next run looks for it" in link.last_error
    written = 1 if refused else 2
    assert len(_xero_note(env, note)["Allocations"]) == written

    before = env.calls()
    result = env.sync(entities=["credit-notes"])
    assert result.ok is not refused
    assert delta(before, env.calls()).get(PUT_ALLOCATIONS, 0) == int(refused)
    allocations = _xero_note(env, note)["Allocations"]
    assert len(allocations) == written  # nothing allocated twice
    linked = [env.link(ENTITY, k) for k in ((k2,) if refused else (k1, k2))]
    assert all(link.state == "synced" for link in linked)
    assert sorted(a["AllocationID"] for a in allocations) == sorted(
        link.xero_id for link in linked
    )
    if refused:
        assert SAME_CONTACT in env.link(ENTITY, k1).last_error
    assert _xero_invoice(env, twin)["AmountDue"] == _due(env, twin)


def test_a_call_refused_as_a_whole_is_sent_one_allocation_a_call(aenv):
    """Xero refuses the two-element call outright: each goes alone, both linked."""
    env = aenv
    note, invoice, twin, k1, k2 = _two_applications(env)
    env.sandbox.faults.fail_next(1, 400, path_contains="/Allocations", method="PUT")
    before = env.calls()
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    assert delta(before, env.calls()).get(PUT_ALLOCATIONS) == 3  # refused + 2 alone
    links = [env.link(ENTITY, k) for k in (k1, k2)]
    assert all(link.state == "synced" and link.xero_id for link in links)
    allocations = _xero_note(env, note)["Allocations"]
    assert sorted(a["AllocationID"] for a in allocations) == sorted(
        link.xero_id for link in links
    )
    for inv in (invoice, twin):
        assert _xero_invoice(env, inv)["AmountDue"] == _due(env, inv)
