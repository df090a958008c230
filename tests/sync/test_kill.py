"""The kill test: SIGKILL a running sync at 30 random moments; never a duplicate.

The sync runs in a child process (forked from the test process, so it starts in
milliseconds) against the sandbox served by this process on loopback, a module
SQLite file and a Perfex SQLite file. Kill moments are placed by the run's
progress, not by wall time, so CPU load cannot move them:

- a "random" round waits until the child's k-th API call (k seeded random) has
  reached the sandbox, then kills after a seeded random jitter (the call in
  flight, or the local work after it);
- a "window" round arms a sandbox hold on a create write: the sandbox applies
  the write and keeps its answer; the kill lands then, between the Xero write
  and the recording of its link, by construction. One is due every few rounds
  and stays due until it has happened.

Each round checks the sandbox for duplicates; the last run goes to the end and
everything must be synced exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.panel.maintenance import reset_links
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.sync.engine import run_sync
from pxflask.xero import Limits, XeroGateway
from tests.xero.helpers import FAST_RETRY, settings_for

from .conftest import SETTINGS, Env, assert_all_synced, duplicates

ROUNDS = 30
SEED = 20260
LATENCY_S = 0.05
WINDOW_EVERY = 3
MAX_CALL = 12
CREATE_PATHS = ("/Contacts", "/Items", "/Invoices", "/Payments")
WAIT_LIMIT_S = 60.0
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


def _wait_until(ready: Callable[[], bool], process: Any) -> bool:
    """Poll until ready() (True) or the child has exited (False); bounded."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        if ready():
            return True
        if not process.is_alive():
            return ready()
        time.sleep(0.002)
    raise AssertionError(f"the child neither progressed nor ended in {WAIT_LIMIT_S}s")


def _end(process: Any, kill: bool) -> int | None:
    """SIGKILL the child if asked and still alive; None if killed, else its exit."""
    if kill and process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        return None
    process.join(10)
    return process.exitcode


def _random_round(env: Env, tmp_path: Path, rng: random.Random) -> int | None:
    """Kill after the child's k-th API call plus a jitter (None when killed)."""
    counters = env.sandbox.counters
    target = counters.total_calls + rng.randint(1, MAX_CALL)
    jitter = rng.uniform(0.0, 2 * LATENCY_S)
    process = _start(env, tmp_path)
    reached = _wait_until(lambda: counters.total_calls >= target, process)
    if reached:
        time.sleep(jitter)
    return _end(process, kill=reached)


def _window_round(env: Env, tmp_path: Path, rng: random.Random) -> int | None:
    """Kill while the sandbox holds an applied create (None when killed)."""
    hold = env.sandbox.faults.hold_after_write(
        skip=rng.randint(0, 2), method="PUT", paths=CREATE_PATHS
    )
    process = _start(env, tmp_path)
    try:
        held = _wait_until(hold.applied.is_set, process)
        exitcode = _end(process, kill=held)
    finally:
        hold.release()
    if held:
        assert _has_pending(env), "a kill after an applied create left no pending link"
    return exitcode


@pytest.mark.xero_sandbox(**SANDBOX)
def test_sigkill_at_random_moments_never_duplicates(
    tmp_path, kill_perfex, xero_sandbox
):
    """30 kills placed by progress, a rerun each time: no duplicate, all synced."""
    env = Env(tmp_path, kill_perfex, xero_sandbox)
    env.engine.dispose()
    env.perfex.dispose()
    xero_sandbox.faults.set_latency(LATENCY_S)
    rng = random.Random(SEED)  # noqa: S311 - reproducible kill points
    finished = window_kills = pending_rounds = 0
    window_due = False
    try:
        for round_no in range(ROUNDS):
            window_due = window_due or round_no % WINDOW_EVERY == WINDOW_EVERY - 1
            play = _window_round if window_due else _random_round
            exitcode = play(env, tmp_path, rng)
            killed = exitcode is None
            if window_due and killed:
                window_due = False
                window_kills += 1
            assert duplicates(env) == {}
            pending_rounds += _has_pending(env)
            if not killed:
                finished += 1
            if exitcode == 0:
                _new_organisation(env)
        xero_sandbox.faults.set_latency(0.0)
        process = _start(env, tmp_path)
        process.join(60)
        assert process.exitcode == 0
        assert_all_synced(env)
        assert finished < ROUNDS // 2, "most rounds must be killed mid-run"
        assert window_kills >= ROUNDS // (2 * WINDOW_EVERY), (
            "kills must land between a write and its record"
        )
        assert pending_rounds >= window_kills
    finally:
        xero_sandbox.faults.set_latency(0.0)
        env.close()
