"""The round trip: a Xero payment recorded through the module comes back as a hook.

A running panel (embedded queue, the Xero sandbox) pulls a payment made in Xero
and records it through the module's API on the PHP stand-ins; Perfex's (stand-in)
payments_model->add fires after_payment_added, whose handler posts to the panel's
/hooks/perfex. The hook's targeted run and the next full sync find the payment
linked: nothing is written twice, in Xero or in Perfex.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from pxflask.extensions import db
from pxflask.jobs import request_sync
from pxflask.models import SyncLog, SyncRun
from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import get_queue
from pxflask.sync.engine import SyncResult, run_sync
from pxflask.sync.links import LinkRow, LinkStore
from pxflask.sync.settings import load_settings, set_setting
from pxflask.web.runtime import perfex_db, xero_gateway
from tests.fixtures.webapp import make_test_app
from tests.perfex_module.php import php_server, served
from tests.sync.conftest import SETTINGS
from tests.sync.test_payments_from_xero import open_invoice, xero_payments_on

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
TOKEN = "round-trip-token-0123456789"  # noqa: S105 - a test token
WAIT = 120.0  # seconds for one run on a loaded 2-core machine


@dataclass
class Stack:
    """The running panel, the module's state file and the sandbox."""

    app: Flask
    state: Path
    sandbox: Any

    def sync(self, trigger: str = "manual") -> SyncRun:
        """Run a full sync through the panel's queue; its finished run."""
        run = request_sync(self.app, None, trigger).run
        return self.finish(run.id)

    def sync_in_foreground(self) -> SyncResult:
        """A full sync in this thread, as `pxflask sync` runs beside the worker."""
        with self.app.app_context():
            settings = load_settings(db.session)
            gateway = xero_gateway(self.app)
            return run_sync(db.session, self.perfex, gateway, settings)

    def finish(self, run_id: int) -> SyncRun:
        """Wait for a queued run; the row once its job ended."""
        with self.app.app_context():
            job_id = db.session.get(SyncRun, run_id).job_id
        get_queue(self.app).wait(job_id, timeout=WAIT)
        with self.app.app_context():
            run = db.session.get(SyncRun, run_id)
            db.session.expunge(run)
        return run

    def runs(self, trigger: str) -> list[SyncRun]:
        """The runs a trigger made, oldest first."""
        with self.app.app_context():
            rows = db.session.scalars(
                sa.select(SyncRun)
                .where(SyncRun.trigger == trigger)
                .order_by(SyncRun.id)
            ).all()
            for row in rows:
                db.session.expunge(row)
        return list(rows)

    def written(self, run_id: int) -> list[tuple[str, str, str]]:
        """(entity, action, outcome) of every write a run logged."""
        with self.app.app_context():
            rows = db.session.execute(
                sa.select(SyncLog.entity, SyncLog.action, SyncLog.outcome).where(
                    SyncLog.run_id == run_id,
                    SyncLog.outcome.not_in(("skipped", "unchanged")),
                )
            ).all()
        return [tuple(row) for row in rows]

    @property
    def perfex(self) -> PerfexDB:
        """The Perfex database the panel uses."""
        return perfex_db(self.app)

    def links(self, entity: str) -> dict[str, LinkRow]:
        """The panel's links of an entity by Perfex key."""
        with self.app.app_context():
            return LinkStore(db.session, entity).links

    def xero(self, resource: str) -> list[dict[str, Any]]:
        """Every record of a sandbox resource (Xero's view)."""
        return self.sandbox.inject.all(resource)

    def xero_writes(self) -> int:
        """PUT/POST calls the sandbox has seen."""
        calls = self.sandbox.counters.snapshot()["calls"]
        return sum(n for k, n in calls.items() if k.split()[0] in ("PUT", "POST"))

    def model_calls(self) -> list[dict]:
        """What Perfex's (stand-in) payments_model->add was given."""
        return json.loads(self.state.read_text()).get("payments_model_calls", [])


@pytest.fixture
def stack(tmp_path, xero_sandbox) -> Iterator[Stack]:
    """Perfex (SQLite + the module on `php -S`) and the panel, wired both ways."""
    perfex_file = tmp_path / "perfex.db"
    seed_demo(f"sqlite:///{perfex_file}", customers=3, invoices=8, seed=5)
    state = tmp_path / "state.json"
    options = {"bearer_token": TOKEN, "panel_url": ""}
    _write_options(state, options)
    with php_server(state, perfex_sqlite=perfex_file) as api:
        app = make_test_app(
            tmp_path,
            f"sqlite:///{perfex_file}",
            XERO_GRANT="client_credentials",
            PERFEX_MODULE_URL=api,
            PXFLASK_HOOK_TOKEN=TOKEN,
            **xero_sandbox.config,
        )
        xero_gateway(app).connect_client_credentials()
        with app.app_context():
            for key, value in SETTINGS.items():
                set_setting(db.session, key, value)
            db.session.commit()
        with served(app) as panel:
            _write_options(state, {**options, "panel_url": panel})
            yield Stack(app, state, xero_sandbox)


def _write_options(state: Path, options: dict[str, str]) -> None:
    """The module's options in the stand-in Perfex's state (other tables kept)."""
    tables = json.loads(state.read_text()) if state.exists() else {}
    tables["tbloptions"] = [
        {"id": n, "name": f"pxflask_{k}", "value": v}
        for n, (k, v) in enumerate(options.items(), 1)
    ]
    state.write_text(json.dumps(tables))


def test_a_pulled_payment_s_hook_and_the_next_sync_write_nothing_twice(stack):
    """Xero -> module API -> after_payment_added -> /hooks/perfex: linked, once."""
    first = stack.sync()
    assert first.status == "done", first.error
    invoice_id, xero_invoice, _ = open_invoice(stack)
    paid = stack.sandbox.inject.payment(
        xero_invoice, Decimal("10.00"), on=date(2026, 3, 2)
    )
    payment_id = paid["PaymentID"].lower()

    pull = stack.sync()
    assert pull.status == "done", pull.error
    assert ("payments", "pull", "synced") in stack.written(pull.id)
    [call] = stack.model_calls()  # through Perfex's payment model, once
    assert call["transactionid"] == payment_id
    [row] = reads.read_payments(stack.perfex, invoice_ids=[invoice_id])
    assert row.transaction_id == payment_id

    [hook] = stack.runs("hook")  # the module's after_payment_added reached the panel
    assert hook.scope == f"payments#payments:{row.id}"
    before = stack.xero_writes()
    hook = stack.finish(hook.id)
    assert hook.status == "done", hook.error
    assert stack.written(hook.id) == []
    assert stack.xero_writes() == before  # not sent back to Xero

    again = stack.sync()
    assert again.status == "done", again.error
    assert stack.written(again.id) == []
    assert stack.xero_writes() == before
    assert len(stack.model_calls()) == 1
    assert len(reads.read_payments(stack.perfex, invoice_ids=[invoice_id])) == 1
    live = xero_payments_on(stack, xero_invoice)
    assert [p["PaymentID"].lower() for p in live] == [payment_id]
    link = stack.links("payments").get(str(row.id))
    assert link is not None and link.state == "synced"
    assert str(link.xero_id).lower() == payment_id


def test_the_hook_s_run_beside_a_foreground_pull_writes_nothing_twice(stack):
    """`pxflask sync` pulls while the panel's queue runs the hook: still once."""
    assert stack.sync().status == "done"
    invoice_id, xero_invoice, _ = open_invoice(stack)
    paid = stack.sandbox.inject.payment(
        xero_invoice, Decimal("7.00"), on=date(2026, 3, 3)
    )
    result = stack.sync_in_foreground()
    assert result.ok, result.failed
    assert result.report("payments").pulled == 1
    [hook] = stack.runs("hook")
    before = stack.xero_writes()
    hook = stack.finish(hook.id)
    assert hook.status == "done", hook.error
    assert stack.written(hook.id) == []
    again = stack.sync()
    assert again.status == "done", again.error
    assert stack.written(again.id) == []
    assert stack.xero_writes() == before
    assert len(stack.model_calls()) == 1
    [row] = reads.read_payments(stack.perfex, invoice_ids=[invoice_id])
    assert row.transaction_id == paid["PaymentID"].lower()
    live = xero_payments_on(stack, xero_invoice)
    assert [p["PaymentID"] for p in live] == [paid["PaymentID"]]
