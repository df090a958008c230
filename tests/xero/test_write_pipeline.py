"""The write pipeline: convert ahead while the limiter waits, parse when idle."""

from __future__ import annotations

import uuid

import pytest

from pxflask.xero import Limits

from .helpers import connect, make_gateway, settings_for


@pytest.fixture
def sb(xero_sandbox):
    """The sandbox object behind the fixture, fresh and in contract mode."""
    return xero_sandbox.sandbox


@pytest.mark.parametrize("concurrency", [1, 5])
def test_waiting_on_the_limiter_keeps_order_and_answers(
    xero_sandbox, sb, tmp_path, concurrency
):
    """Batches converted ahead and parsed late still map back to their refs."""
    settings = settings_for(xero_sandbox.config)
    limits = Limits(per_window=2, window_s=0.3)
    gw = make_gateway(settings, f"sqlite:///{tmp_path / 'p.db'}", limits=limits)
    connect(gw)
    tag = uuid.uuid4().hex[:6]
    elements = [
        (f"c{i}", {"Name": f"Pipe {tag} {i}", "ContactNumber": f"{tag}-{i}"})
        for i in range(260)
    ]
    elements[130] = ("bad", {"Name": "x", "Typo": 1})
    batches = list(
        gw.iter_write(
            "contacts", elements, run_key=f"pipe-{tag}", concurrency=concurrency
        )
    )
    results = [r for batch in batches for r in batch]
    assert sorted(str(r.ref) for r in results) == sorted(ref for ref, _ in elements)
    by_ref = {r.ref: r for r in results}
    assert not by_ref["bad"].ok and "invalid payload" in by_ref["bad"].errors[0]
    for ref, payload in elements:
        if ref == "bad":
            continue
        result = by_ref[ref]
        assert result.ok and result.xero_id
        assert result.number == payload["ContactNumber"]
        assert result.raw["Name"] == payload["Name"]
        assert result.raw["ContactID"] == result.xero_id
    assert sb.counters.calls_to("PUT", "/Contacts") == 6
    assert gw.stats.snapshot()["elements_written"] == 259
    assert not sb.violations
