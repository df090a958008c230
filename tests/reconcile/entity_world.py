"""The synced world with one more (opt-in) entity enabled and synced too."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.models import Base, Link
from pxflask.perfex.db import PerfexDB
from pxflask.sync.engine import run_sync
from pxflask.sync.settings import DEFAULT_ENTITIES, set_setting
from pxflask.xero import XeroGateway
from tests.fixtures.sandbox import (
    SandboxHandle,
    _patch_token_urls,
    _restore_token_urls,
)
from tests.xero.helpers import settings_for

from .conftest import SYNC_SETTINGS, Synced

Prepare = Callable[[SandboxHandle, PerfexDB], Mapping[str, str]]
"""Changes made before the sync; returns the sync settings to use."""


def enable(sessions: sessionmaker, entity: str) -> None:
    """Switch ``entity`` on (beside the default ones) in the module settings."""
    with sessions() as session:
        set_setting(session, "entities", ",".join([*DEFAULT_ENTITIES, entity]))
        session.commit()


def sync_one_more(
    synced: Synced,
    folder: Path,
    server: Any,
    entity: str,
    table: str,
    prepare: Prepare | None = None,
    at_least: int = 2,
) -> Synced:
    """Copy the synced world into ``folder``, enable and sync ``entity`` there.

    The Perfex rows of ``table`` the sync did not link are deleted (what the sync
    skipped is not what the reconciliation tests look at); at least ``at_least``
    must be linked.
    """
    for name in ("perfex.db", "module.db"):
        shutil.copyfile(synced.folder / name, folder / name)
    sandbox = server.sandbox
    with sandbox.lock:
        sandbox.state = copy.deepcopy(synced.state)
    handle = SandboxHandle(server)
    saved = _patch_token_urls(handle)
    try:
        engine = sa.create_engine(f"sqlite:///{folder / 'module.db'}")
        Base.metadata.create_all(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        enable(sessions, entity)
        gateway = XeroGateway(
            settings_for(handle.config, XERO_GRANT="client_credentials"), sessions
        )
        perfex = PerfexDB.connect(f"sqlite:///{folder / 'perfex.db'}")
        settings = prepare(handle, perfex) if prepare else SYNC_SETTINGS
        with sessions() as session:
            result = run_sync(session, perfex, gateway, settings, entities=[entity])
            assert result.ok, result.failed
            linked = {
                int(k)
                for k, x in session.execute(
                    sa.select(Link.perfex_key, Link.xero_id).where(
                        Link.entity == entity
                    )
                )
                if x
            }
        rows = getattr(perfex.tables, table)
        with perfex.engine.begin() as conn:
            conn.execute(rows.delete().where(rows.c.id.not_in(linked)))
        assert len(linked) >= at_least, linked
        perfex.dispose()
        engine.dispose()
        with sandbox.lock:
            state = copy.deepcopy(sandbox.state)
    finally:
        _restore_token_urls(saved)
    return Synced(folder, state, sandbox.tenant_id)
