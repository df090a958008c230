"""Payment modes pulled from Xero: not preselected, no bank details shown."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.sync.mappers.accounts import legacy_payment_mode_description

ENTITIES = ["accounts", "payment-modes"]


def _modes(env):
    """Mode id -> (name, description, selected_by_default)."""
    pm = env.perfex.tables.payment_modes
    with env.perfex.engine.connect() as conn:
        rows = conn.execute(
            sa.select(pm.c.id, pm.c.name, pm.c.description, pm.c.selected_by_default)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _bank_accounts(env):
    """The sandbox's bank accounts with an account number, by AccountID."""
    return {
        a["AccountID"]: a
        for a in env.xero("Accounts")
        if a.get("Type") == "BANK" and a.get("BankAccountNumber")
    }


def test_pulled_modes_are_not_preselected_and_name_only_the_code(env):
    """Every mode pulled from a Xero bank account: selected_by_default 0, no digits."""
    before = set(_modes(env))
    env.sync(entities=ENTITIES)
    pulled = {k: v for k, v in _modes(env).items() if k not in before}
    banks = _bank_accounts(env)
    assert pulled and banks
    numbers = {a["BankAccountNumber"] for a in banks.values()}
    for name, description, preselected in pulled.values():
        assert preselected == 0, name
        assert description.startswith("Xero bank account "), description
        assert not any(n[-6:] in description for n in numbers), description


def test_modes_pulled_by_an_earlier_version_are_corrected_once(env):
    """Old rows (bank details, preselected) are fixed; a hand-edited one is not."""
    env.sync(entities=ENTITIES)
    links = env.links("payment-modes")
    banks = _bank_accounts(env)
    ours = [
        (int(k), banks[link.xero_id])
        for k, link in links.items()
        if link.xero_id in banks and int(k) != 1
    ]
    assert len(ours) >= 2
    (old, old_account), (edited, _) = ours[0], ours[1]
    legacy = legacy_payment_mode_description(old_account)
    pm = env.perfex.tables.payment_modes
    env.execute(
        pm.update()
        .where(pm.c.id == old)
        .values(description=legacy, selected_by_default=1)
    )
    mine = "Pay by transfer, see your statement"
    env.execute(
        pm.update()
        .where(pm.c.id == edited)
        .values(description=mine, selected_by_default=1)
    )
    result = env.sync(entities=ENTITIES)
    assert result.report("payment-modes").updated == 1
    modes = _modes(env)
    assert modes[old][1:] == (f"Xero bank account {old_account['Code']}", 0)
    assert modes[edited][1:] == (mine, 1)
    assert env.sync(entities=ENTITIES).report("payment-modes").updated == 0
    assert len(reads.read_payment_modes(env.perfex)) == len(modes)
