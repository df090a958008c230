"""Expense mappings changed and set back re-send no bank transaction."""

from __future__ import annotations

import pytest

from .conftest import delta
from .test_expenses import Perfex, _bank_writes, _xero
from .test_expenses import xenv as xenv  # the fixture (SQLite and MariaDB)

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based: its bank accounts in Xero must be USD too."""


def test_expense_mapping_change_applies_only_to_what_is_sent_after(xenv):
    """Bank, account and tax mappings changed: 0 writes; a new expense uses them."""
    env, px = xenv, Perfex(xenv)
    vat = px.tax["VAT"]
    first = px.add("100.00", reference_no="EXP-1")
    taxed = px.add("10.05", tax=vat, reference_no="EXP-2")
    assert env.sync(entities=["expenses"]).ok
    before = env.calls()
    env.settings["payment_account.1"] = "091"
    env.settings[f"expense_account.{px.category}"] = "412"
    result = env.sync(entities=["expenses"])
    assert result.ok and result.report("expenses").writes == 0
    assert _bank_writes(delta(before, env.calls())) == {}
    assert _xero(env, first)["BankAccount"]["Code"] == "090"
    assert _xero(env, taxed)["LineItems"][0]["AccountCode"] == px.account_code
    later = px.add("7.00", reference_no="EXP-3")
    assert env.sync(entities=["expenses"]).ok
    assert _xero(env, later)["BankAccount"]["Code"] == "091"
    assert _xero(env, later)["LineItems"][0]["AccountCode"] == "412"
    del env.settings["payment_account.1"]
    del env.settings[f"expense_account.{px.category}"]
    before = env.calls()
    assert env.sync(entities=["expenses"]).ok
    assert _bank_writes(delta(before, env.calls())) == {}
