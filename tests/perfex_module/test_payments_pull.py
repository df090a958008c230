"""A payment made in Xero is recorded in Perfex through the module when it is set."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from werkzeug.serving import make_server

from pxflask.perfex.module_api import PerfexModule
from tests.perfex_module.php import free_port, php_server
from tests.sync.test_payments_from_xero import (
    World,
    open_invoice,
    rows_of,
    xero_payments_on,
)

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


@contextmanager
def hook_receiver(world: World) -> Iterator[tuple[str, list]]:
    """A stand-in panel whose /hooks/perfex runs the targeted sync before answering.

    So the hook's run settles the pull's claim while the pull still waits for the
    module's answer: the race of a second worker, made certain.
    """
    results: list = []

    def app(environ, start_response):
        body = json.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        gateway = world.make_gateway()
        keys = {body["entity"]: [str(body["id"])]}
        results.append(world.sync(gateway, record_keys=keys))
        start_response("202 Accepted", [("Content-Type", "application/json")])
        return [b"{}"]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}", results
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_a_hook_run_that_settles_the_claim_first_fails_nothing(world, tmp_path):
    """The hook's run links the pulled payment before the pull does: both runs ok."""
    state = tmp_path / "state.json"
    invoice_id, xero_id, _ = open_invoice(world)
    paid = world.sandbox.inject.payment(xero_id, Decimal("4.00"), on=date(2026, 3, 4))
    with hook_receiver(world) as (panel, hook_runs):
        options = [
            {"id": 1, "name": "pxflask_bearer_token", "value": TOKEN},
            {"id": 2, "name": "pxflask_panel_url", "value": panel},
        ]
        state.write_text(json.dumps({"tbloptions": options}))
        with php_server(state, perfex_sqlite=tmp_path / "perfex.db") as url:
            world.perfex.module = PerfexModule(url, TOKEN)
            pull = world.sync()
            again = world.sync()
    [hook] = hook_runs
    assert hook.ok and pull.ok and again.ok, (hook.failed, pull.failed, again.failed)
    assert pull.report("payments").pulled == 1
    assert again.report("payments").pulled == 0
    [row] = rows_of(world, invoice_id)
    link = world.links("payments")[str(row.id)]
    assert (link.state, link.xero_id.lower()) == ("synced", paid["PaymentID"].lower())
    assert not [k for k in world.links("payments") if k.startswith("xero:")]
    live = xero_payments_on(world, xero_id)
    assert [p["PaymentID"] for p in live] == [paid["PaymentID"]]
