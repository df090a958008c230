"""Payload hash, link store decisions and outcomes, and the unit registry."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pxflask.models import Base, Link, SyncLog
from pxflask.sync.hashing import canonical_json, payload_hash
from pxflask.sync.links import (
    LOCKED,
    PENDING,
    SKIPPED,
    SYNCED,
    VOIDED,
    Action,
    LinkStore,
    LogEntry,
    Outcome,
    write_log,
)
from pxflask.sync.registry import REGISTRY, Registry, RegistryError, Unit, entity_names


def test_hash_ignores_key_order_and_decimal_form():
    """Sorted keys; 1.5, 1.50 and 1.500 hash alike; dates are ISO."""
    a = {"b": Decimal("1.50"), "a": [date(2025, 1, 2)], "z": Decimal("-0.00")}
    b = {"z": Decimal(0), "a": ["2025-01-02"], "b": Decimal("1.5")}
    assert payload_hash(a) == payload_hash(b)
    assert len(payload_hash(a)) == 64
    assert payload_hash({"x": Decimal("1E+2")}) == payload_hash({"x": Decimal(100)})
    assert (
        canonical_json({"t": datetime(2025, 1, 2, 3, 4)})
        == '{"t":"2025-01-02T03:04:00"}'
    )
    assert payload_hash({"a": Decimal("1.51")}) != payload_hash({"a": Decimal("1.5")})


def test_hash_refuses_unknown_types_and_nan():
    """Objects and NaN are refused rather than hashed by accident."""
    with pytest.raises(TypeError):
        payload_hash({"x": object()})
    with pytest.raises(ValueError, match="finite"):
        payload_hash({"x": Decimal("NaN")})


def test_hash_is_fast():
    """Thousands of invoice-sized payloads per second."""
    payload = {
        "InvoiceNumber": "INV-000001",
        "LineItems": [
            {
                "Description": "Work " * 10,
                "Quantity": Decimal("2"),
                "UnitAmount": Decimal("10.50"),
                "TaxType": "OUTPUT2",
            }
            for _ in range(5)
        ],
    }
    start = time.perf_counter()
    for _ in range(2000):
        payload_hash(payload)
    assert time.perf_counter() - start < 1.0


@pytest.fixture
def session():
    """A Session on an in-memory SQLite database with the module's tables."""
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_decisions(session):
    """New -> create; same hash -> none; changed -> update; frozen -> blocked."""
    store = LinkStore(session, "invoices")
    assert store.decide(1, "h1").action is Action.CREATE
    store.mark_pending([("1", "idem-1")])
    d = LinkStore(session, "invoices").decide(1, "h1")
    assert d.action is Action.CREATE and d.recover  # crashed create: look up first
    store.record([Outcome("1", SYNCED, "x-1", "INV-1", "h1")])
    store = LinkStore(session, "invoices")
    assert store.decide("1", "h1").action is Action.NONE
    assert store.decide("1", "h1", force=True).action is Action.UPDATE
    assert store.decide("1", "h2").action is Action.UPDATE
    store.record([Outcome("1", LOCKED, error="payment allocated in Xero")])
    blocked = store.decide("1", "h2")
    assert blocked.action is Action.BLOCKED
    assert blocked.reason == "link is locked: payment allocated in Xero"
    assert store.decide("1", "h1").action is Action.NONE
    assert store.release(["1"]) == 1
    assert store.decide("1", "h1").action is Action.UPDATE


def test_skipped_with_same_hash_is_not_redone(session):
    """A skip remembered with its hash is not reconsidered until it changes."""
    store = LinkStore(session, "invoices")
    store.record([Outcome("5", SKIPPED, payload_hash="s1", error="draft")])
    assert store.decide("5", "s1").action is Action.NONE
    d = store.decide("5", "s2")
    assert d.action is Action.CREATE and not d.recover


def test_outcomes_are_stored_in_bulk(session):
    """States, ids, numbers, errors and attempts land on the links."""
    store = LinkStore(session, "customers")
    store.mark_pending([(str(i), f"k{i}") for i in range(3)])
    assert {link.state for link in store.links.values()} == {PENDING}
    store.record(
        [
            Outcome("0", SYNCED, "c0", "PX-C-0", "h0"),
            Outcome("1", "failed", error="Name already used"),
            Outcome("2", VOIDED, "c2"),
        ]
    )
    rows = {
        link.perfex_key: link
        for link in session.scalars(sa.select(Link).where(Link.entity == "customers"))
    }
    assert rows["0"].xero_id == "c0" and rows["0"].synced_at is not None
    assert rows["0"].idempotency_key == "k0"
    assert rows["1"].state == "failed" and rows["1"].attempts == 1
    assert rows["1"].last_error == "Name already used"
    assert rows["2"].state == VOIDED
    assert store.synced_ids() == {"0": "c0", "2": "c2"}
    with pytest.raises(ValueError, match="unknown link state"):
        store.record([Outcome("0", "weird")])


def test_source_fingerprint_and_limited_store(session):
    """source_hash survives a pending write; release clears it; keys= limits."""
    store = LinkStore(session, "invoices")
    store.record(
        [Outcome(str(i), SYNCED, f"x{i}", None, "h", source="s") for i in (1, 2)]
    )
    assert LinkStore(session, "invoices").source_unchanged(1, "s")
    store.mark_pending([("1", "run-9")])
    fresh = LinkStore(session, "invoices", keys=[1, "3"])
    assert set(fresh.links) == {"1"}
    assert fresh.get(1).idempotency_key == "run-9" and fresh.get(1).source_hash == "s"
    assert not fresh.source_unchanged(1, "s")  # pending: look again
    store.record([Outcome("2", LOCKED, error="paid")])
    assert store.release([2]) == 1
    assert not LinkStore(session, "invoices").source_unchanged(2, "s")
    assert store.forget(["1", "404"]) == 1
    assert set(LinkStore(session, "invoices").links) == {"2"}


def test_log_rows(session):
    """write_log adds one SyncLog row per entry with JSON payloads."""
    n = write_log(
        session,
        "invoices",
        [LogEntry("1", "create", "synced", payload={"Total": Decimal("1.50")})],
        run_id=None,
    )
    assert n == 1
    row = session.scalars(sa.select(SyncLog)).one()
    assert (row.entity, row.action, row.outcome) == ("invoices", "create", "synced")
    assert row.payload == '{"Total":"1.5"}'


def test_registry_order_and_dependencies():
    """Contract names in dependency order; selections keep that order."""
    assert entity_names() == [
        "accounts",
        "expense-categories",
        "taxes",
        "payment-modes",
        "customers",
        "items",
        "invoices",
        "documents-pull",
        "payments",
        "credit-notes",
        "credit-refunds",
        "expenses",
        "expenses-pull",
        "estimates",
    ]
    defaults = entity_names()[:9]
    assert REGISTRY.default_names() == defaults
    assert [u.name for u in REGISTRY.ordered(None)] == defaults
    picked = [u.name for u in REGISTRY.ordered(["payments", "customers"])]
    assert picked == ["customers", "payments"]
    full = [u.name for u in REGISTRY.ordered(["payments"], with_dependencies=True)]
    assert full == [
        "accounts",
        "taxes",
        "payment-modes",
        "customers",
        "invoices",
        "payments",
    ]
    assert "payments" in REGISTRY.dependents("invoices")
    with pytest.raises(RegistryError, match="unknown entity"):
        REGISTRY.get("bananas")


def test_registry_refuses_unknown_dependencies():
    """A unit cannot depend on something not registered before it."""
    reg = Registry()
    with pytest.raises(RegistryError):
        reg.register(Unit("b", "B", "perfex->xero", ("a",)))
    with pytest.raises(RegistryError, match="has no step"):
        Unit("c", "C", "perfex->xero").load_step()
