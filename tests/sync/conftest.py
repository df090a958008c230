"""Fixtures of the sync tests: a seeded Perfex copy, the module DB, the gateway."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.extensions import db
from pxflask.models import Base, Link
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.sync.engine import SyncResult, run_sync
from pxflask.sync.settings import set_setting
from pxflask.xero import RetryPolicy, XeroGateway
from tests.fixtures.sandbox import TEST_REGION
from tests.fixtures.webapp import make_test_app
from tests.xero.helpers import FAST_RETRY, settings_for

REGION_TAXES: dict[str, dict[str, str]] = {
    "global": {"tax_rate.4": "EXEMPTOUTPUT"},
    "uk": {"tax_rate.4": "EXEMPTOUTPUT"},
    "au": {
        "tax_rate.4": "EXEMPTOUTPUT",
        "no_tax_type": "EXEMPTOUTPUT",
        "expense_no_tax_type": "EXEMPTEXPENSES",
    },
    "nz": {"tax_rate.4": "ZERORATED"},
    "us": {},
}
"""The tax set-up step per region: the seed's 'Exempt' 0% fits several Xero rates
(none in the US, where only 'Tax Exempt' fits), and AU has no NONE for untaxed lines."""
TAX_SETUP = REGION_TAXES[TEST_REGION]
SETTINGS = {
    "sales_account": "200",
    "rounding_account": "860",
    "payment_account.default": "090",
    "drafts": "skip",
    **TAX_SETUP,
}
NO_RETRY = RetryPolicy(max_attempts=1, max_total_wait_s=0, base_delay_s=0.01)


@pytest.fixture(scope="session")
def seeded_sync_perfex(tmp_path_factory) -> Path:
    """A small seeded Perfex SQLite file (4 customers, 14 invoices), made once."""
    path = tmp_path_factory.mktemp("sync-perfex") / "perfex.db"
    seed_demo(f"sqlite:///{path}", customers=4, invoices=14, seed=5)
    return path


def _fast_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """No fsync on the test module DB (a killed process still loses nothing)."""
    dbapi_connection.execute("PRAGMA synchronous=OFF")


class Env:
    """One sync set-up: module DB, Perfex DB, gateway and the sandbox."""

    def __init__(self, tmp_path: Path, perfex_file: Path, sandbox: Any) -> None:
        """Copy the seeded Perfex file, create the module DB, connect Xero."""
        target = tmp_path / "perfex.db"
        shutil.copyfile(perfex_file, target)
        self._set_up(tmp_path, f"sqlite:///{target}", sandbox)

    def _set_up(self, tmp_path: Path, perfex_url: str, sandbox: Any) -> None:
        """Connect Perfex, create the module DB, connect Xero."""
        self.perfex = PerfexDB.connect(perfex_url)
        self.engine = sa.create_engine(f"sqlite:///{tmp_path / 'module.db'}")
        sa.event.listen(self.engine, "connect", _fast_sqlite)
        Base.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.sandbox = sandbox
        self.settings = dict(SETTINGS)
        self.gateway = self.make_gateway()
        self.gateway.connect_client_credentials()

    def make_gateway(self, retry: RetryPolicy = FAST_RETRY) -> XeroGateway:
        """A gateway on this module DB (the stored connection is shared)."""
        settings = settings_for(self.sandbox.config, XERO_GRANT="client_credentials")
        return XeroGateway(settings, self.sessions, None, retry=retry)

    def sync(self, gateway: XeroGateway | None = None, **kw: Any) -> SyncResult:
        """One run_sync with this set-up's settings."""
        with self.sessions() as session:
            return run_sync(
                session, self.perfex, gateway or self.gateway, self.settings, **kw
            )

    def link(self, entity: str, key: int | str) -> Link | None:
        """The link of one record."""
        with self.sessions() as session:
            return session.scalar(
                sa.select(Link).where(
                    Link.entity == entity, Link.perfex_key == str(key)
                )
            )

    def links(self, entity: str) -> dict[str, Link]:
        """All links of an entity by Perfex key."""
        with self.sessions() as session:
            rows = session.scalars(sa.select(Link).where(Link.entity == entity))
            return {link.perfex_key: link for link in rows}

    def execute(self, stmt: Any) -> Any:
        """Run one statement on the Perfex DB (a user's edit in Perfex)."""
        with self.perfex.engine.begin() as conn:
            return conn.execute(stmt)

    def xero(self, resource: str) -> list[dict[str, Any]]:
        """Every record of a sandbox resource (Xero's view)."""
        return self.sandbox.inject.all(resource)

    def writes(self) -> int:
        """PUT/POST calls the sandbox has seen."""
        calls = self.sandbox.counters.snapshot()["calls"]
        return sum(n for k, n in calls.items() if k.split()[0] in ("PUT", "POST"))

    def calls(self) -> dict[str, int]:
        """Calls per 'METHOD /Endpoint' so far."""
        return dict(self.sandbox.counters.snapshot()["calls"])

    def close(self) -> None:
        """Dispose of the engines."""
        self.perfex.dispose()
        self.engine.dispose()


@pytest.fixture
def env(tmp_path, seeded_sync_perfex, xero_sandbox) -> Iterator[Env]:
    """A fresh set-up on a private copy of the seeded Perfex DB."""
    e = Env(tmp_path, seeded_sync_perfex, xero_sandbox)
    yield e
    e.close()


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Calls made between two snapshots of Env.calls()."""
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k)}


def duplicates(env: Env) -> dict[str, list[str]]:
    """Records present more than once in the sandbox, per kind (empty: none)."""
    found: dict[str, list[str]] = {}

    def twice(kind: str, values: list[str]) -> None:
        seen: set[str] = set()
        dup = sorted({v for v in values if v in seen or seen.add(v)})
        if dup:
            found[kind] = dup

    contacts = env.xero("Contacts")
    twice("contacts", [c["ContactNumber"] for c in contacts if c.get("ContactNumber")])
    twice("items", [i["Code"] for i in env.xero("Items")])
    invoices = [i for i in env.xero("Invoices") if i.get("Type") == "ACCREC"]
    twice("invoices", [i["Reference"] for i in invoices if i.get("Reference")])
    live = [p for p in env.xero("Payments") if p["Status"] != "DELETED"]
    twice(
        "payments",
        [f"{p['Invoice']['InvoiceID']}/{p['Amount']}/{p['Date']}" for p in live],
    )
    return found


def assert_all_synced(env: Env) -> None:
    """Every Perfex record that belongs in Xero is linked and present once."""
    from pxflask.perfex import reads

    assert duplicates(env) == {}
    contacts = {c["ContactID"] for c in env.xero("Contacts")}
    for key, link in env.links("customers").items():
        assert link.state == "synced" and link.xero_id in contacts, key
    assert len(env.links("customers")) == len(reads.read_customers(env.perfex))
    invoices = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    links = env.links("invoices")
    for inv in reads.read_invoices(env.perfex):
        if inv.status in (5, 6):
            continue
        link = links.get(str(inv.id))
        assert link is not None and link.state == "synced", (inv.id, link)
        assert invoices[link.xero_id]["Total"] == inv.total, inv.id
    live = {p["PaymentID"] for p in env.xero("Payments") if p["Status"] != "DELETED"}
    pay_links = env.links("payments")
    for pay in reads.read_payments(env.perfex):
        link = pay_links.get(str(pay.id))
        assert link is not None and link.state == "synced", (pay.id, link)
        assert link.xero_id in live, pay.id
    assert len(live) == len(reads.read_payments(env.perfex))
    items = {i["ItemID"] for i in env.xero("Items")}
    for key, link in env.links("items").items():
        assert link.state == "synced" and link.xero_id in items, key


class UrlEnv(Env):
    """Env on a Perfex database given by URL (SQLite file or MariaDB)."""

    def __init__(self, tmp_path: Path, perfex_url: str, sandbox: Any) -> None:
        """Connect the Perfex DB in place, create the module DB, connect Xero."""
        self._set_up(tmp_path, perfex_url, sandbox)


@pytest.fixture
def sync_app(tmp_path, perfex_copy_url, xero_sandbox):
    """An app on the sandbox (client credentials) and a Perfex copy, taxes set up."""
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        XERO_GRANT="client_credentials",
        **xero_sandbox.config,
    )
    with app.app_context():  # the seed's 'Exempt' 0%: several Xero rates fit
        for key, value in TAX_SETUP.items():
            set_setting(db.session, key, value)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def aenv(perfex_url, tmp_path, xero_sandbox):
    """Seeded Perfex (SQLite or MariaDB), everything but credit notes synced."""
    seed_demo(perfex_url, customers=3, invoices=12, seed=1)  # some credits applied
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    result = env.sync()
    assert result.ok, result.failed
    yield env
    env.close()
