"""A settings change never rewrites history; re-posting is explicit and previewed."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from pxflask.models import SyncLog
from pxflask.perfex import reads
from pxflask.sync import repost
from pxflask.sync.entities.payments.mapper import map_payment
from pxflask.sync.hashing import payload_hash
from pxflask.sync.history import payment_content

from .conftest import Env

MODE = "stripe"
SETTING = f"payment_account.{MODE}"


def _synced_of_mode(env: Env) -> list:
    """Perfex payments of MODE whose link is synced (their Xero payment exists)."""
    links = env.links("payments")
    return [
        p
        for p in reads.read_payments(env.perfex)
        if p.mode == MODE
        and links.get(str(p.id))
        and links[str(p.id)].state == "synced"
    ]


def _account_of(env: Env, payment_id: int) -> str:
    """The Xero account code of a synced Perfex payment."""
    link = env.link("payments", payment_id)
    return env.sandbox.inject.get("Payments", link.xero_id)["Account"]["Code"]


def _preview(env: Env) -> repost.RepostPreview:
    """The re-post preview of payments with this set-up's settings."""
    with env.sessions() as session:
        return repost.preview(session, env.perfex, env.gateway, env.settings)


def _history_writes(env: Env) -> int:
    """Write calls on invoices and payments so far (items are not history)."""
    return sum(
        n
        for k, n in env.calls().items()
        if k.split()[0] in ("PUT", "POST")
        and k.split()[1].split("/")[1] in ("Invoices", "Payments")
    )


def test_mapping_change_and_back_makes_no_write_call(env):
    """payment_account and sales_account changed and set back: 0 writes, --full too."""
    assert env.sync().ok
    assert len(_synced_of_mode(env)) >= 2
    before = _history_writes(env)
    env.settings[SETTING] = "091"
    env.settings["sales_account"] = "260"
    result = env.sync()
    assert result.ok and _history_writes(env) == before
    assert result.report("payments").writes == 0
    assert result.report("invoices").writes == 0
    assert env.sync(full=True).ok and _history_writes(env) == before
    del env.settings[SETTING]
    env.settings["sales_account"] = "200"
    assert env.sync().ok and _history_writes(env) == before
    assert env.sync().ok and _history_writes(env) == before
    with env.sessions() as session:
        said = session.scalars(
            sa.select(SyncLog.message).where(SyncLog.entity == "payments")
        ).all()
    assert not [m for m in said if m and "edited in Perfex" in m]


def test_perfex_edit_after_a_mapping_change_goes_to_the_new_account(env):
    """A payment edited in Perfex is recreated, on the account mapped now."""
    assert env.sync().ok
    edited, untouched = _synced_of_mode(env)[:2]
    env.settings[SETTING] = "091"
    pays = env.perfex.tables.invoicepaymentrecords
    env.execute(
        pays.update()
        .where(pays.c.id == edited.id)
        .values(amount=edited.amount - Decimal("1.00"))
    )
    assert env.sync().ok
    assert _account_of(env, edited.id) == "091"
    assert _account_of(env, untouched.id) == "090"


def test_hashes_of_an_earlier_version_are_adopted_without_writes(env):
    """Links hashed over the whole payload (before) stay unchanged: no write call."""
    assert env.sync().ok
    invoices = env.links("invoices")
    legacy, neutral = {}, {}
    for pay in _synced_of_mode(env):
        m = map_payment(
            pay,
            invoice_xero_id=invoices[str(pay.invoice_id)].xero_id,
            account_code="090",
        )
        legacy[str(pay.id)] = payload_hash(m.payload)
        neutral[str(pay.id)] = payload_hash(payment_content(m.payload, pay.mode))
    with env.sessions() as session:
        for key, value in legacy.items():
            session.execute(
                sa.text(
                    "UPDATE pxf_links SET payload_hash = :h"
                    " WHERE entity = 'payments' AND perfex_key = :k"
                ),
                {"h": value, "k": key},
            )
        session.commit()
    before = env.writes()
    assert env.sync().ok and env.writes() == before
    links = env.links("payments")
    assert {k: links[k].payload_hash for k in neutral} == neutral
    failed = next(iter(legacy))
    with env.sessions() as session:
        session.execute(
            sa.text(
                "UPDATE pxf_links SET payload_hash = :h, state = 'failed'"
                " WHERE entity = 'payments' AND perfex_key = :k"
            ),
            {"h": legacy[failed], "k": failed},
        )
        session.commit()
    assert env.sync().ok and env.writes() == before + 2  # still retried: delete, create
    assert env.link("payments", failed).state == "synced"


def test_repost_previews_exactly_the_changed_and_never_touches_reconciled(env):
    """Preview lists each payment of the remapped mode; reconciled/locked skipped."""
    assert env.sync().ok
    mine = _synced_of_mode(env)
    assert not _preview(env).items
    env.settings[SETTING] = "091"
    first = _preview(env)
    assert {i.key for i in first.reposts} == {str(p.id) for p in mine}
    assert {i.change for i in first.items} == {"account 090 → 091"}
    reconciled, oldest = mine[0], min(mine[1:], key=lambda p: p.date)
    env.sandbox.inject.reconcile_payment(env.link("payments", reconciled.id).xero_id)
    env.sandbox.inject.lock_dates(period=oldest.date)
    second = _preview(env)
    skips = {i.key: i.reason for i in second.skips}
    assert skips[str(reconciled.id)] == "reconciled in Xero"
    assert "period lock date" in skips[str(oldest.id)]
    assert len(second.reposts) == len(mine) - 2
    env.sandbox.inject.lock_dates(period=None)
    ids_before = {p.id: env.link("payments", p.id).xero_id for p in mine}
    with env.sessions() as session:
        flagged = repost.mark(session, "payments", [i.key for i in first.items])
    assert sorted(flagged, key=int) == sorted((str(p.id) for p in mine), key=int)
    result = env.sync(record_keys={"payments": flagged})
    assert result.ok, result.failed
    assert env.link("payments", reconciled.id).xero_id == ids_before[reconciled.id]
    assert _account_of(env, reconciled.id) == "090"
    for pay in mine:
        if pay.id != reconciled.id:
            assert env.link("payments", pay.id).xero_id != ids_before[pay.id]
            assert _account_of(env, pay.id) == "091"
    with env.sessions() as session:
        said = dict(
            session.execute(
                sa.select(SyncLog.perfex_key, SyncLog.message).where(
                    SyncLog.entity == "payments",
                    SyncLog.action.in_(["delete", "repost"]),
                )
            ).all()
        )
    assert said.pop(str(reconciled.id)) == "reconciled in Xero: not re-posted"
    assert set(said.values()) == {
        "re-posted with the current mappings (asked for): recreated"
    }
    before = env.writes()
    assert env.sync().ok and env.writes() == before
    assert [i.key for i in _preview(env).items] == [str(reconciled.id)]
