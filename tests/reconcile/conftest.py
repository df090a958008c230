"""Fixtures of the end-to-end reconciliation tests: Perfex synced to the sandbox.

The sync runs once per session (it is the slow part); each test gets private copies
of the Perfex and module databases and the sandbox restored to the synced state.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from pxflask.extensions import db
from pxflask.models import Base, Link
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import close_queue
from pxflask.sync.engine import run_sync
from pxflask.xero import XeroGateway
from tests.fixtures.sandbox import _patch_token_urls, _restore_token_urls
from tests.fixtures.webapp import ADMIN_PASSWORD, make_test_app
from tests.sync.conftest import TAX_SETUP
from tests.xero.helpers import TEST_KEY, settings_for

# The seed dates records back from `today`: pinned, so the world (and the month-end
# tests' buckets and dates) is the same on every day the suite runs.
WORLD_TODAY = dt.date(2026, 12, 4)

SYNC_SETTINGS = {
    "sales_account": "200",
    "rounding_account": "860",
    "payment_account.default": "090",
    "drafts": "skip",
    **TAX_SETUP,  # the seed's 'Exempt' 0%: several Xero rates fit
}


@dataclass
class Synced:
    """The files and sandbox state right after a full sync."""

    folder: Path
    state: Any
    tenant_id: str


def _credits_as_payments(url: str) -> None:
    """Turn applied credits into payments (credit notes are not synced yet)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text("SELECT invoice_id, amount, date FROM tblcredits")
        ).all()
        for invoice_id, amount, on in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO tblinvoicepaymentrecords (invoiceid, amount, "
                    "paymentmode, date, daterecorded, note, transactionid) "
                    "VALUES (:i, :a, '1', :d, :d, '', '')"
                ),
                {"i": invoice_id, "a": str(amount), "d": on},
            )
        conn.execute(sa.text("DELETE FROM tblcredits"))
    engine.dispose()


@pytest.fixture(scope="session")
def synced_world(tmp_path_factory, xero_sandbox_server) -> Synced:
    """Seed Perfex (drafts and a cancelled invoice included), sync it, keep it."""
    folder = tmp_path_factory.mktemp("reconcile-world")
    perfex_url = f"sqlite:///{folder / 'perfex.db'}"
    seed_demo(
        perfex_url,
        customers=6,
        invoices=24,
        seed=21,
        admin_password=ADMIN_PASSWORD,
        today=WORLD_TODAY,
    )
    _credits_as_payments(perfex_url)
    sandbox = xero_sandbox_server.sandbox
    sandbox.reset()
    from tests.fixtures.sandbox import SandboxHandle

    handle = SandboxHandle(xero_sandbox_server)
    saved = _patch_token_urls(handle)
    try:
        engine = sa.create_engine(f"sqlite:///{folder / 'module.db'}")
        Base.metadata.create_all(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        gateway = XeroGateway(
            settings_for(handle.config, XERO_GRANT="client_credentials"), sessions
        )
        gateway.connect_client_credentials()
        perfex = PerfexDB.connect(perfex_url)
        with sessions() as session:
            result = run_sync(session, perfex, gateway, SYNC_SETTINGS)
        failed = [r for r in result.reports if r.failed]
        assert not failed, failed
        perfex.dispose()
        engine.dispose()
        with sandbox.lock:
            state = copy.deepcopy(sandbox.state)
        violations = handle.clear_violations()
        assert not violations, violations
    finally:
        _restore_token_urls(saved)
    return Synced(folder, state, sandbox.tenant_id)


class World:
    """One test's copy of the synced set-up: Perfex, module DB, gateway, sandbox."""

    def __init__(self, synced: Synced, tmp_path: Path, sandbox: Any) -> None:
        """Copy the databases and put the sandbox back in the synced state."""
        for name in ("perfex.db", "module.db"):
            shutil.copyfile(synced.folder / name, tmp_path / name)
        with sandbox.sandbox.lock:
            sandbox.sandbox.state = copy.deepcopy(synced.state)
        self.tmp_path = tmp_path
        self.sandbox = sandbox
        self.perfex_url = f"sqlite:///{tmp_path / 'perfex.db'}"
        self.module_url = f"sqlite:///{tmp_path / 'module.db'}"
        self.instance_path = tmp_path / "instance"
        self.instance_path.mkdir()
        self.perfex = PerfexDB.connect(self.perfex_url)
        self.engine = sa.create_engine(self.module_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.settings = settings_for(sandbox.config, XERO_GRANT="client_credentials")
        self.gateway = self.make_gateway()

    def make_gateway(self) -> XeroGateway:
        """A fresh gateway (own call statistics) on the module DB."""
        return XeroGateway(self.settings, self.sessions)

    def session(self) -> Session:
        """A module DB session."""
        return self.sessions()

    def link(self, entity: str, key: int) -> str:
        """The Xero id linked to a Perfex record."""
        with self.sessions() as session:
            return session.scalar(
                sa.select(Link.xero_id).where(
                    Link.entity == entity, Link.perfex_key == str(key)
                )
            )

    def xero(self, resource: str) -> list[dict[str, Any]]:
        """Every record of a sandbox resource."""
        return self.sandbox.inject.all(resource)

    def app(self, **overrides: Any) -> Flask:
        """The panel on this world's databases and sandbox."""
        config = {
            "XERO_GRANT": "client_credentials",
            "PXFLASK_ENCRYPTION_KEY": TEST_KEY,
            "PXFLASK_DATABASE_URL": self.module_url,
            "INSTANCE_PATH": str(self.instance_path),
            **self.sandbox.config,
        }
        config.update(overrides)
        return make_test_app(self.tmp_path, self.perfex_url, **config)

    def close(self) -> None:
        """Dispose of the engines."""
        self.perfex.dispose()
        self.engine.dispose()


@pytest.fixture
def world(synced_world, tmp_path, xero_sandbox) -> Iterator[World]:
    """A synced Perfex + sandbox set-up private to the test."""
    w = World(synced_world, tmp_path, xero_sandbox)
    yield w
    w.close()


@pytest.fixture
def world_app(world) -> Iterator[Flask]:
    """The panel on the world; its queue and engine closed afterwards."""
    app = world.app()
    yield app
    close_queue(app)
    with app.app_context():
        db.engine.dispose()
