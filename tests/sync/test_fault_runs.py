"""Fault runs: 15 % 429 + 15 % 503 + 15 % commit-then-fail on every Xero call.

Each run syncs what it can; a call that outlasts the (short) retry budget fails
only its records, and the next run finishes them. The sandbox notes every call's
arrival and every 429's Retry-After window, so a call made inside one is caught.
"""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from pxflask.xero import RateLimited, RetryPolicy, XeroGateway
from tests.xero.helpers import REDIS_URL, settings_for

from .conftest import assert_all_synced, duplicates

FAULTS = {"rate_429": 0.15, "rate_503": 0.15, "rate_commit": 0.15}
RETRY_AFTER_S = 1
RERUNS = 3
SHORT_BUDGET = RetryPolicy(max_total_wait_s=1.5, base_delay_s=0.05, max_delay_s=0.4)
"""A budget of 1.5 s: some calls give up, which is what the reruns are for."""


def gateway(env, limiter: str) -> XeroGateway:
    """A gateway with the short budget and the in-process or Redis limiter."""
    settings = settings_for(env.sandbox.config, XERO_GRANT="client_credentials")
    if limiter == "local":
        return XeroGateway(settings, env.sessions, None, retry=SHORT_BUDGET)
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"pxf-faults-{uuid.uuid4().hex[:8]}"
    return XeroGateway(
        settings, env.sessions, client, retry=SHORT_BUDGET, redis_prefix=prefix
    )


@pytest.mark.parametrize(
    ("seed", "limiter"), [(1, "local"), (2, "local"), (3, "local"), (4, "redis")]
)
def test_fault_runs_converge_without_duplicates_or_calls_in_retry_windows(
    env, seed, limiter
):
    """Every run ends (no exception); within 3 reruns all is synced exactly once."""
    gw = gateway(env, limiter)
    env.sandbox.faults.fault_mix(**FAULTS, retry_after_s=RETRY_AFTER_S, seed=seed)
    results = [env.sync(gateway=gw)]
    while not results[-1].ok and len(results) <= RERUNS:
        for _entity, _key, error in results[-1].failed:
            assert "Traceback" not in error
        results.append(env.sync(gateway=gw))
    faults = env.sandbox.counters.snapshot()["statuses"]
    replays = env.sandbox.sandbox.idempotency.replays
    print(f"seed {seed} ({limiter}): {len(results)} run(s), {faults}, {replays=}")
    env.sandbox.faults.clear()
    assert results[-1].ok, (len(results), results[-1].failed)
    assert len(results) <= 1 + RERUNS
    assert duplicates(env) == {}
    assert_all_synced(env)
    assert faults.get(429, 0) > 0 and faults.get(503, 0) > 0, faults
    assert env.sandbox.counters.calls_inside_retry_after() == []


def test_a_call_that_outlasts_the_budget_fails_only_its_records(env):
    """Contacts keep failing: customers fail with the reason, the rest still runs."""
    gw = env.make_gateway(
        RetryPolicy(max_total_wait_s=0.3, base_delay_s=0.05, max_delay_s=0.1)
    )
    env.sandbox.faults.fail_next(1000, status=503, path_contains="/Contacts")
    result = env.sync(gateway=gw)
    env.sandbox.faults.clear()
    assert not result.ok
    customers = result.report("customers")
    assert customers.failed == len(customers.errors) > 0
    for _key, error in customers.errors:
        assert "Xero kept answering 503 Service Unavailable" in error
        assert "the next run retries it" in error
    assert result.report("taxes").step_error is None
    assert env.sync(gateway=gw).ok
    assert_all_synced(env)


def test_a_call_inside_a_retry_after_window_is_caught(env):
    """The check can fail: a second gateway that ignores the pause is counted."""
    env.sandbox.faults.fault_mix(rate_429=1.0, retry_after_s=2, seed=1)
    first, other = (env.make_gateway(RetryPolicy(max_attempts=1)) for _ in "12")
    with pytest.raises(RateLimited):
        first.get_organisation()
    time.sleep(0.4)  # past the grace: the client knew
    with pytest.raises(RateLimited):
        other.get_organisation()  # its own limiter never saw the 429
    env.sandbox.faults.clear()
    assert len(env.sandbox.counters.calls_inside_retry_after()) == 1


def test_a_failed_step_stops_only_the_steps_that_need_it(env):
    """The chart of accounts cannot be read: its dependants are not run, the
    steps that do not need it (taxes, customers) still sync."""
    gw = env.make_gateway(
        RetryPolicy(max_total_wait_s=0.3, base_delay_s=0.05, max_delay_s=0.1)
    )
    env.sandbox.faults.fail_next(1000, status=503, path_contains="/Accounts")
    result = env.sync(gateway=gw)
    env.sandbox.faults.clear()
    accounts = result.report("accounts")
    assert "Xero kept answering 503" in (accounts.step_error or "")
    for name in ("expense-categories", "payment-modes", "items", "invoices"):
        assert result.report(name).step_error.startswith("not run: accounts failed")
    assert result.report("payments").step_error.startswith("not run: accounts")
    assert result.report("taxes").step_error is None
    customers = result.report("customers")
    assert customers.step_error is None and customers.created > 0
    assert env.sync(gateway=gw).ok
    assert_all_synced(env)
