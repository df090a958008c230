"""The engine end to end: seeded Perfex DB -> local Xero sandbox over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.models import Base, Link, SyncRun
from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.sync.engine import run_sync
from pxflask.xero import XeroGateway
from tests.sync.conftest import TAX_SETUP
from tests.xero.helpers import FAST_RETRY, settings_for

SETTINGS = {
    "sales_account": "200",
    "rounding_account": "860",
    "payment_account.default": "090",
    "drafts": "skip",
    **TAX_SETUP,  # the seed's 'Exempt' 0%: several Xero rates fit
}


@pytest.fixture
def module(tmp_path):
    """A sessionmaker on a fresh module database."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'module.db'}")
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def gateway(xero_sandbox, module):
    """A gateway connected to the sandbox by client credentials."""
    settings = settings_for(xero_sandbox.config, XERO_GRANT="client_credentials")
    gw = XeroGateway(settings, module, None, retry=FAST_RETRY)
    gw.connect_client_credentials()
    return gw


@pytest.fixture
def perfex(perfex_url):
    """A small seeded Perfex database (SQLite and MariaDB)."""
    seed_demo(perfex_url, customers=6, invoices=25, seed=3)
    db = PerfexDB.connect(perfex_url)
    yield db
    db.dispose()


def writes(gw: XeroGateway) -> int:
    """Write calls made so far (PUT/POST methods of the SDK)."""
    calls = gw.stats.snapshot()["calls"]
    return sum(n for name, n in calls.items() if not name.startswith("get_"))


def test_first_sync_backfills_and_totals_match(module, gateway, perfex):
    """All entities sync; every Xero invoice total equals Perfex's to the cent."""
    with module() as session:
        calls_before = gateway.stats.snapshot()["total"]
        result = run_sync(session, perfex, gateway, SETTINGS)
        assert result.ok, result.failed
        assert result.report("invoices").created > 0
        assert result.report("payments").created > 0
        run = session.get(SyncRun, result.run_id)
        assert run.status == "done"
        assert run.api_calls == gateway.stats.snapshot()["total"] - calls_before > 0
        links = {
            link.perfex_key: link.xero_id
            for link in session.scalars(
                sa.select(Link).where(Link.entity == "invoices", Link.state == "synced")
            )
        }
    xero = {i["InvoiceID"]: i for i in gateway.read_all("invoices")}
    for inv in reads.read_invoices(perfex):
        if str(inv.id) in links:
            assert Decimal(str(xero[links[str(inv.id)]]["Total"])) == inv.total


def test_second_sync_makes_no_write_call(module, gateway, perfex):
    """Nothing changed: the second run writes nothing to Xero."""
    with module() as session:
        assert run_sync(session, perfex, gateway, SETTINGS).ok
        before = writes(gateway)
        again = run_sync(session, perfex, gateway, SETTINGS)
    assert again.ok
    assert writes(gateway) == before
    assert all(r.writes == 0 for r in again.reports), [
        (r.entity, r.created, r.updated) for r in again.reports
    ]


def test_dry_run_writes_nothing(module, gateway, perfex):
    """A dry run lists exact payloads but writes no link, log or Xero record."""
    with module() as session:
        result = run_sync(session, perfex, gateway, SETTINGS, dry_run=True)
        assert writes(gateway) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Link)) == 0
    creates = [a for a in result.planned if a.action == "create"]
    assert any(a.entity == "customers" and a.payload["ContactNumber"] for a in creates)


def test_changed_customer_is_updated(module, gateway, perfex):
    """An edit in Perfex sends exactly that record again as an update."""
    with module() as session:
        assert run_sync(session, perfex, gateway, SETTINGS, entities=["customers"]).ok
        clients = perfex.tables.clients
        with perfex.engine.begin() as conn:
            conn.execute(
                clients.update().where(clients.c.userid == 1).values(vat="GB999")
            )
        result = run_sync(session, perfex, gateway, SETTINGS, entities=["customers"])
    assert result.report("customers").updated == 1
    assert result.report("customers").created == 0
