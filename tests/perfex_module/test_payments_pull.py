"""A payment made in Xero is recorded in Perfex through the module when it is set."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from pxflask.perfex.module_api import PerfexModule
from tests.perfex_module.php import free_port, php_server
from tests.sync.test_payments_from_xero import World, open_invoice, rows_of

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
TOKEN = "pull-token-0123456789"  # noqa: S105 - a test token


@pytest.fixture
def world(tmp_path, xero_sandbox):
    """A first sync done on a seeded SQLite Perfex the PHP stand-in can write."""
    w = World(tmp_path, f"sqlite:///{tmp_path / 'perfex.db'}", xero_sandbox)
    assert w.sync().ok
    yield w
    w.close()


def test_the_pull_records_xero_payments_through_the_module(world, tmp_path):
    """Perfex's (stand-in) payment model writes the row; the pull links it, once."""
    state = tmp_path / "state.json"
    options = [{"id": 1, "name": "pxflask_bearer_token", "value": TOKEN}]
    state.write_text(json.dumps({"tbloptions": options}))
    invoice_id, xero_id, _ = open_invoice(world)
    paid = world.sandbox.inject.payment(xero_id, Decimal("10.00"), on=date(2026, 3, 2))
    with php_server(state, perfex_sqlite=tmp_path / "perfex.db") as url:
        world.perfex.module = PerfexModule(url, TOKEN)
        first = world.sync()
        again = world.sync()
    assert first.ok and again.ok, (first.failed, again.failed)
    assert first.report("payments").pulled == 1
    assert again.report("payments").pulled == 0
    calls = json.loads(state.read_text())["payments_model_calls"]
    assert [call["transactionid"] for call in calls] == [paid["PaymentID"].lower()]
    assert calls[0]["date"] == "02/03/2026"  # Perfex's date format, as its model takes
    [row] = rows_of(world, invoice_id)
    assert row.amount == Decimal("10.00")
    assert row.transaction_id == paid["PaymentID"].lower()
    payments = world.links("payments")
    assert payments[str(row.id)].xero_id.lower() == paid["PaymentID"].lower()


def test_the_pull_writes_directly_while_the_module_is_down(world):
    """The module configured but unreachable: the direct write records the payment."""
    invoice_id, xero_id, _ = open_invoice(world)
    paid = world.sandbox.inject.payment(xero_id, Decimal("5.00"), on=date(2026, 3, 3))
    world.perfex.module = PerfexModule(f"http://127.0.0.1:{free_port()}", TOKEN, 2.0)
    result = world.sync()
    assert result.ok, result.failed
    [row] = rows_of(world, invoice_id)
    assert row.transaction_id == paid["PaymentID"].lower()
