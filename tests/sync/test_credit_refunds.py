"""Credit-note refunds (tblcreditnote_refunds) <-> refunds of Xero credit notes."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.refunds import CreditRefund, read_credit_refunds
from pxflask.perfex.seed import seed_demo
from pxflask.sync import watcher
from pxflask.sync.entities.credit_refunds.mapper import map_refund
from pxflask.sync.entities.credit_refunds.step import ENTITY, NO_TABLE
from pxflask.sync.links import LinkRow
from pxflask.sync.registry import REGISTRY

from .conftest import NO_RETRY, Env, UrlEnv, delta
from .factories import D
from .test_credit_allocations import ON, _credit_note

WRITES = ("PUT", "POST", "DELETE")
TOTAL = D("50.00")
ONLY = ["credit-refunds"]


@pytest.fixture
def renv(perfex_url, tmp_path, xero_sandbox):
    """Seeded Perfex (SQLite or MariaDB) synced, its refunds too, and two synced 50.00
    credit notes."""
    seed_demo(perfex_url, customers=3, invoices=12, seed=1)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    result = env.sync()
    assert result.ok, result.failed
    invoice = next(
        i for i in reads.read_invoices(env.perfex) if env.link("invoices", i.id)
    )
    env.notes = [_credit_note(env, invoice, TOTAL) for _ in range(2)]  # type: ignore[attr-defined]
    result = env.sync(entities=["credit-notes", *ONLY])  # the seed's refunds too
    assert result.ok, result.failed
    seeded = read_credit_refunds(env.perfex)
    assert seeded and result.report(ENTITY).created == len(seeded)
    for note in env.notes:  # type: ignore[attr-defined]
        assert _xero_note(env, note)["Status"] == "AUTHORISED"
    yield env
    env.close()


def _writes(made: dict[str, int]) -> dict[str, int]:
    """The write calls among some calls."""
    return {k: n for k, n in made.items() if k.split()[0] in WRITES}


def _refund(
    env: Env, note_id: int, amount: Decimal, mode: str = "1", note: str = "Paid back"
) -> int:
    """A refund typed into Perfex on a credit note -> its id."""
    table = env.perfex.tables.creditnote_refunds
    result = env.execute(
        table.insert().values(
            credit_note_id=note_id,
            staff_id=1,
            refunded_on=ON,
            payment_mode=mode,
            note=note,
            amount=amount,
            created_at=datetime.combine(ON, time(11, 0)),
        )
    )
    return int(result.inserted_primary_key[0])


def _xero_note(env: Env, note_id: int) -> dict[str, Any]:
    """The Xero view of a synced credit note."""
    link = env.link("credit-notes", note_id)
    assert link is not None and link.xero_id, link
    return env.sandbox.inject.get("CreditNotes", link.xero_id)


def _xero_payment(env: Env, payment_id: str) -> dict[str, Any]:
    """The Xero view of one payment."""
    return env.sandbox.inject.get("Payments", payment_id)


def _perfex_status(env: Env, note_id: int) -> int:
    """The Perfex credit note's status (1 open, 2 closed)."""
    cn = env.perfex.tables.creditnotes
    with env.perfex.engine.connect() as conn:
        found = conn.execute(sa.select(cn.c.status).where(cn.c.id == note_id))
        return int(found.one()[0])


def test_unit_is_opt_in_after_credit_notes():
    """credit-refunds: both ways, off by default, after credit notes and modes."""
    unit = REGISTRY.get(ENTITY)
    assert unit.default is False and unit.direction == "both"
    assert set(unit.depends_on) == {"credit-notes", "payment-modes"}
    names = REGISTRY.names()
    assert names.index(ENTITY) > names.index("credit-notes")
    assert {w.table for w in unit.watches} == {"creditnote_refunds"}


def test_refund_payload_names_the_credit_note_in_decimal():
    """CreditNote by id, the mapped bank account, Decimal amount, date, reference."""
    refund = CreditRefund(7, 3, D("12.50"), ON, "2", "Cheque<br />\r\nsent")
    link = LinkRow("3", "synced", "cn-1")
    m = map_refund(refund, note=link, account_code="091")
    assert m.payload == {
        "CreditNote": {"CreditNoteID": "cn-1"},
        "Account": {"Code": "091"},
        "Amount": D("12.50"),
        "Date": "2025-06-10",
        "Reference": "Perfex refund #7: Cheque",
    }
    assert isinstance(m.payload["Amount"], Decimal)
    unsynced = map_refund(refund, note=None, account_code="091")
    assert unsynced.payload is None and "credit note 3 is not synced" in unsynced.skip


def test_refund_becomes_a_payment_and_a_rerun_writes_nothing(renv):
    """A refund is a Payment on the Xero credit note; RemainingCredit drops."""
    env = renv
    note = env.notes[0]
    key = _refund(env, note, D("20.00"))
    result = env.sync(entities=ONLY)
    assert result.ok, result.failed
    assert result.report(ENTITY).created == 1
    link = env.link(ENTITY, key)
    assert link.state == "synced" and link.xero_id
    payment = _xero_payment(env, link.xero_id)
    assert payment["PaymentType"] == "ARCREDITPAYMENT"
    assert payment["Amount"] == D("20.00") and payment["Account"]["Code"] == "090"
    xero = _xero_note(env, note)
    assert xero["RemainingCredit"] == D("30.00") and xero["Status"] == "AUTHORISED"
    assert [p["PaymentID"] for p in xero["Payments"]] == [link.xero_id]

    rest = _refund(env, note, D("30.00"))
    assert env.sync(entities=ONLY).ok
    xero = _xero_note(env, note)
    assert xero["RemainingCredit"] == 0 and xero["Status"] == "PAID"
    assert env.link(ENTITY, rest).state == "synced"

    before = env.calls()
    again = env.sync(entities=ONLY)
    assert again.ok and again.report(ENTITY).writes == 0
    assert _writes(delta(before, env.calls())) == {}


def test_a_new_bank_mapping_alone_resends_nothing(renv):
    """Changing the mode's account re-posts nothing Xero already has."""
    env = renv
    _refund(env, env.notes[0], D("20.00"))
    assert env.sync(entities=ONLY).ok
    env.settings["payment_account.1"] = "091"
    before = env.calls()
    result = env.sync(entities=ONLY)
    assert result.ok and result.report(ENTITY).writes == 0
    assert _writes(delta(before, env.calls())) == {}


def test_edited_refund_is_deleted_and_created_again(renv):
    """Xero payments cannot be edited: DELETED, then a new payment of the new amount."""
    env = renv
    note = env.notes[0]
    key = _refund(env, note, D("20.00"))
    assert env.sync(entities=ONLY).ok
    old = env.link(ENTITY, key).xero_id
    table = env.perfex.tables.creditnote_refunds
    env.execute(table.update().where(table.c.id == key).values(amount=D("35.00")))
    result = env.sync(entities=ONLY)
    assert result.ok, result.failed
    new = env.link(ENTITY, key)
    assert new.state == "synced" and new.xero_id and new.xero_id != old
    assert _xero_payment(env, old)["Status"] == "DELETED"
    assert _xero_payment(env, new.xero_id)["Amount"] == D("35.00")
    assert _xero_note(env, note)["RemainingCredit"] == D("15.00")


def test_deleted_refund_deletes_its_payment_and_gives_the_credit_back(renv):
    """A refund deleted in Perfex: its Xero payment DELETED, the credit restored."""
    env = renv
    note = env.notes[0]
    key = _refund(env, note, TOTAL)
    assert env.sync(entities=ONLY).ok
    assert _xero_note(env, note)["Status"] == "PAID"
    xero_id = env.link(ENTITY, key).xero_id
    table = env.perfex.tables.creditnote_refunds
    env.execute(table.delete().where(table.c.id == key))
    result = env.sync(entities=ONLY)
    assert result.ok, result.failed
    assert env.link(ENTITY, key).state == "deleted"
    assert _xero_payment(env, xero_id)["Status"] == "DELETED"
    xero = _xero_note(env, note)
    assert xero["RemainingCredit"] == TOTAL and xero["Status"] == "AUTHORISED"
    before = env.calls()
    assert env.sync(entities=ONLY).ok
    assert _writes(delta(before, env.calls())) == {}


def test_refund_above_remaining_credit_is_skipped_and_the_rest_goes_on(renv):
    """Too large for what Xero has left: skipped with why; the others are sent."""
    env = renv
    first, second = env.notes
    fits = _refund(env, first, D("40.00"))
    too_much = _refund(env, first, D("20.00"))
    other = _refund(env, second, D("5.00"))
    result = env.sync(entities=ONLY)
    assert result.ok, result.failed
    report = result.report(ENTITY)
    assert report.created == 2 and report.skipped == 1
    assert env.link(ENTITY, fits).state == "synced"
    assert env.link(ENTITY, other).state == "synced"
    link = env.link(ENTITY, too_much)
    assert link.state == "skipped" and not link.xero_id
    assert "above the remaining credit 10.00" in link.last_error
    assert f"refund {too_much} of 20.00" in link.last_error
    skips = [a for a in result.planned if a.key == str(too_much)]
    assert [a.action for a in skips] == ["skip"]
    before = env.calls()
    again = env.sync(entities=ONLY)
    assert again.report(ENTITY).skipped == 0
    assert _writes(delta(before, env.calls())) == {}
    table = env.perfex.tables.creditnote_refunds
    env.execute(table.update().where(table.c.id == too_much).values(amount=D("10.00")))
    assert env.sync(entities=ONLY).ok
    assert env.link(ENTITY, too_much).state == "synced"
    assert _xero_note(env, first)["Status"] == "PAID"


def test_lost_answer_never_refunds_twice(renv):
    """Xero records the refund, the answer is lost: the rerun links that one."""
    env = renv
    note = env.notes[0]
    key = _refund(env, note, D("12.00"))
    env.sandbox.faults.commit_then_fail(1, status=0, path_contains="/Payments")
    lost = env.sync(gateway=env.make_gateway(NO_RETRY), entities=ONLY)
    assert not lost.ok
    assert env.link(ENTITY, key).state == "failed"
    assert len(_xero_note(env, note)["Payments"]) == 1
    before = env.calls()
    result = env.sync(entities=ONLY)
    assert result.ok, result.failed
    assert _writes(delta(before, env.calls())) == {}
    link = env.link(ENTITY, key)
    payments = _xero_note(env, note)["Payments"]
    assert link.state == "synced" and [p["PaymentID"] for p in payments] == [
        link.xero_id
    ]
    assert _xero_note(env, note)["RemainingCredit"] == D("38.00")


def test_dry_run_writes_nothing(renv):
    """A dry run plans the refund payment and writes neither Xero nor links."""
    env = renv
    key = _refund(env, env.notes[0], D("20.00"))
    before = env.calls()
    result = env.sync(entities=ONLY, dry_run=True)
    assert result.ok
    planned = [a for a in result.planned if a.entity == ENTITY]
    assert [(a.key, a.action) for a in planned] == [(str(key), "create")]
    assert planned[0].payload["Amount"] == D("20.00")
    assert _writes(delta(before, env.calls())) == {}
    assert env.link(ENTITY, key) is None


def _refunds_of(env: Env, note_id: int) -> list[CreditRefund]:
    """The Perfex refunds of one credit note (the seed has refunds of its own)."""
    return [r for r in read_credit_refunds(env.perfex) if r.credit_note_id == note_id]


def _refund_in_xero(env: Env, note_id: int, amount: Decimal) -> dict[str, Any]:
    """A refund typed into Xero on a linked credit note (the GET view)."""
    link = env.link("credit-notes", note_id)
    return env.sandbox.inject.write(
        "Payments",
        {
            "CreditNote": {"CreditNoteID": link.xero_id},
            "Account": {"Code": "090"},
            "Amount": amount,
            "Date": "2025-06-12",
            "Reference": "cheque 42",
        },
    )


def test_refunds_made_in_xero_come_back_only_when_asked(renv):
    """Opt-in: off by default; a dry run shows the row; then recorded once."""
    env = renv
    note = env.notes[0]
    ours = _refund(env, note, D("10.00"))
    made = _refund_in_xero(env, note, D("15.00"))
    assert made["Invoice"]["InvoiceID"].lower() == (
        env.link("credit-notes", note).xero_id.lower()
    )  # GET /Payments names the credit note under Invoice, as real Xero does
    assert env.sync(entities=ONLY).ok
    assert [r.id for r in _refunds_of(env, note)] == [ours]

    env.settings["refunds_from_xero"] = "yes"
    dry = env.sync(entities=ONLY, dry_run=True)
    pulls = [a for a in dry.planned if a.action == "pull"]
    assert len(pulls) == 1 and pulls[0].payload["amount"] == D("15.00")
    assert made["PaymentID"].lower() in pulls[0].payload["note"]
    assert [r.id for r in _refunds_of(env, note)] == [ours]

    result = env.sync(entities=ONLY)
    assert result.ok and result.report(ENTITY).pulled == 1
    refunds = _refunds_of(env, note)
    assert len(refunds) == 2  # ours was not brought back
    pulled = refunds[-1]
    assert pulled.amount == D("15.00") and pulled.date == date(2025, 6, 12)
    assert made["PaymentID"].lower() in pulled.note
    link = env.link(ENTITY, pulled.id)
    assert link.state == "synced" and link.xero_id.lower() == made["PaymentID"].lower()

    before = env.calls()
    again = env.sync(entities=ONLY, full=True)
    assert again.ok and again.report(ENTITY).pulled == 0
    assert len(_refunds_of(env, note)) == 2
    assert _writes(delta(before, env.calls())) == {}

    env.sandbox.inject.delete_payment(made["PaymentID"])
    assert env.sync(entities=ONLY).ok
    assert [r.id for r in _refunds_of(env, note)] == [ours]


def test_refund_made_in_xero_above_perfex_credit_is_skipped(renv):
    """Perfex has less credit left than Xero: skipped with the reason, not written."""
    env = renv
    note = env.notes[0]
    _refund(env, note, D("45.00"))  # Perfex only; never sent
    _refund_in_xero(env, note, D("20.00"))
    env.settings["refunds_from_xero"] = "yes"
    table = env.perfex.tables.creditnote_refunds
    result = env.sync(entities=ONLY)
    skipped = [a for a in result.planned if a.action == "skip"]
    assert any("above the credit left in Perfex" in (a.reason or "") for a in skipped)
    with env.perfex.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.credit_note_id == note)
        ).scalar()
    assert count == 1


def test_pulled_refund_closes_the_perfex_credit_note(renv):
    """Perfex closes a credit note when refunds use up its total (status 2)."""
    env = renv
    note = env.notes[1]
    env.settings["refunds_from_xero"] = "yes"
    _refund_in_xero(env, note, TOTAL)
    assert _perfex_status(env, note) == 1
    assert env.sync(entities=ONLY).ok
    assert _perfex_status(env, note) == 2


def test_database_without_the_refunds_table_says_so(env):
    """Older Perfex lacks tblcreditnote_refunds: the entity says so, does nothing."""
    env.execute(sa.text("DROP TABLE tblcreditnote_refunds"))
    env.perfex.dispose()
    env.perfex = PerfexDB.connect(str(env.perfex.engine.url))
    before = env.calls()
    result = env.sync(entities=ONLY)
    report = result.report(ENTITY)
    assert report.skipped == 1 and report.writes == 0
    assert [a.reason for a in result.planned if a.entity == ENTITY] == [NO_TABLE]
    assert _writes(delta(before, env.calls())) == {}
    marks: dict[str, str] = {}
    found = watcher.detect_changes(env.perfex, [ENTITY], marks.get, marks.__setitem__)
    assert found == [] and not [k for k in marks if "creditnote_refunds" in k]


def test_seeded_refunds_are_synced_and_rerun_writes_nothing(
    perfex_url, tmp_path, xero_sandbox
):
    """The seed's refunds (in full and in part) become Xero refunds, to the cent."""
    seed_demo(perfex_url, customers=10, invoices=400, seed=3)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    try:
        assert env.sync().ok
        refunds = read_credit_refunds(env.perfex)
        assert len(refunds) >= 2
        result = env.sync(entities=["credit-notes", *ONLY])
        assert result.ok, result.failed
        assert result.report(ENTITY).created == len(refunds)
        notes = {n.id: n for n in reads.read_credit_notes(env.perfex)}
        for refund in refunds:
            link = env.link(ENTITY, refund.id)
            assert link is not None and link.state == "synced" and link.xero_id
            assert _xero_payment(env, link.xero_id)["Amount"] == refund.amount
            note = notes[refund.credit_note_id]
            xero = _xero_note(env, note.id)
            assert xero["RemainingCredit"] == note.total - refund.amount
            assert xero["Status"] == ("PAID" if note.status == 2 else "AUTHORISED")
        before = env.calls()
        again = env.sync(entities=["credit-notes", *ONLY])
        assert again.ok and again.report(ENTITY).writes == 0
        assert _writes(delta(before, env.calls())) == {}
    finally:
        env.close()
