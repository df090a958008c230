"""The kill test: SIGKILL a running sync at 30 random moments; never a duplicate.

The sync runs in a child process (forked from the test process, so it starts in
milliseconds) against the sandbox served by this process on loopback, a module
SQLite file and a Perfex SQLite file. Each round kills it after a seeded random
delay and checks the sandbox for duplicates; the last run goes to the end and
everything must be synced exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.maintenance import reset_links
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.sync.engine import run_sync
from pxflask.xero import Limits, XeroGateway
from tests.xero.helpers import FAST_RETRY, settings_for

from .conftest import SETTINGS, Env, assert_all_synced, duplicates

ROUNDS = 30
SEED = 20260
LATENCY_S = 0.05
FAST_LIMITS = Limits(per_window=100_000, window_s=1.0)
SANDBOX = {"contract_mode": False, "calls_per_window": 100_000, "window_s": 1.0}


@pytest.fixture(scope="module")
def kill_perfex(tmp_path_factory) -> Path:
    """20 customers, 60 invoices and their payments, seeded once."""
    path = tmp_path_factory.mktemp("kill-perfex") / "perfex.db"
    seed_demo(f"sqlite:///{path}", customers=20, invoices=60, seed=11)
    return path


def _child(module_url: str, perfex_url: str, config: dict[str, Any]) -> None:
    """The killed process: a plain run_sync on fresh engines."""
    engine = sa.create_engine(module_url)
    perfex = PerfexDB.connect(perfex_url)
    settings = settings_for(config, XERO_GRANT="client_credentials")
    sessions = sessionmaker(engine, expire_on_commit=False)
    gateway = XeroGateway(
        settings, sessions, None, retry=FAST_RETRY, limits=FAST_LIMITS
    )
    with sessions() as session:
        result = run_sync(session, perfex, gateway, SETTINGS)
    os._exit(0 if result.ok else 1)


def _start(env: Env, tmp_path: Path) -> multiprocessing.Process:
    """Fork a child running one sync."""
    ctx = multiprocessing.get_context("fork")
    process = ctx.Process(
        target=_child,
        args=(
            f"sqlite:///{tmp_path / 'module.db'}",
            f"sqlite:///{tmp_path / 'perfex.db'}",
            env.sandbox.config,
        ),
        daemon=True,
    )
    process.start()
    return process


def _has_pending(env: Env) -> bool:
    """True when a kill left links pending (a write call was in flight)."""
    return any(
        link.state == "pending"
        for entity in ("customers", "items", "invoices", "payments")
        for link in env.links(entity).values()
    )


def _new_organisation(env: Env) -> None:
    """Start over: a fresh sandbox organisation and no links (as after a reset)."""
    env.sandbox.reset(**SANDBOX)
    env.sandbox.faults.set_latency(LATENCY_S)
    with env.sessions() as session:
        reset_links(session, force=True)
    env.gateway.connect_client_credentials()
    env.engine.dispose()


@pytest.mark.xero_sandbox(**SANDBOX)
def test_sigkill_at_random_moments_never_duplicates(
    tmp_path, kill_perfex, xero_sandbox
):
    """30 kills at random moments, a rerun each time: no duplicate, all synced."""
    env = Env(tmp_path, kill_perfex, xero_sandbox)
    env.engine.dispose()
    env.perfex.dispose()
    xero_sandbox.faults.set_latency(LATENCY_S)
    rng = random.Random(SEED)  # noqa: S311 - reproducible test timing
    finished = pending_rounds = 0
    try:
        for _ in range(ROUNDS):
            process = _start(env, tmp_path)
            time.sleep(rng.uniform(0.1, 1.6))
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)
                process.join(10)
            else:
                finished += 1
            assert duplicates(env) == {}
            pending_rounds += _has_pending(env)
            if process.exitcode == 0:
                _new_organisation(env)
        xero_sandbox.faults.set_latency(0.0)
        process = _start(env, tmp_path)
        process.join(60)
        assert process.exitcode == 0
        assert_all_synced(env)
        assert finished < ROUNDS // 2, "most rounds must be killed mid-run"
        assert pending_rounds >= 1, "kills must land between a write and its record"
    finally:
        xero_sandbox.faults.set_latency(0.0)
        env.close()
