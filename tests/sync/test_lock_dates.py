"""Xero's lock dates: records in a locked period are skipped with the reason."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.perfex.seed import seed_demo
from pxflask.sync.lockdates import reason

from .conftest import UrlEnv, assert_all_synced, delta

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based: its bank accounts in Xero must be USD too."""

PREREQUISITES = [
    "accounts",
    "expense-categories",
    "taxes",
    "payment-modes",
    "customers",
]
DOCUMENTS = ["invoices", "credit-notes", "expenses"]
ORGANISATION = "GET /Organisation"
SEEDED_ON = date(2026, 11, 25)
"""The seed's "today": the document dates below follow from it, whatever the day."""
LOCK = date(2025, 9, 30)
EARLIER = date(2025, 6, 30)
PAYMENT_LOCK = date(2025, 10, 22)
"""The date of a seeded payment: "on or before" includes the lock date itself."""


@pytest.fixture
def lenv(perfex_url, tmp_path, xero_sandbox):
    """Seeded Perfex (12 invoices from 2025-06-23, credit notes, expenses)."""
    seed_demo(perfex_url, customers=3, invoices=12, seed=1, today=SEEDED_ON)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    env.settings["expense_contact"] = "Perfex expenses"
    categories = env.execute(env.perfex.tables.expenses_categories.select()).all()
    for row in categories:
        env.settings[f"expense_account.{row.id}"] = "429"
    currencies = env.perfex.tables.currencies
    usd = env.execute(
        sa.select(currencies.c.id).where(currencies.c.name == "USD")
    ).scalar_one()
    env.execute(env.perfex.tables.expenses.update().values(currency=usd))
    result = env.sync(entities=PREREQUISITES)
    assert result.ok, result.failed
    yield env
    env.close()


def _dates(env: UrlEnv, table: str) -> dict[str, date]:
    """Perfex key -> date of every row of a Perfex table."""
    rows = env.execute(getattr(env.perfex.tables, table).select()).mappings()
    return {str(r["id"]): _day(r["date"]) for r in rows}


def _day(value: Any) -> date:
    """A date from a date/datetime column."""
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _xero_days(env: UrlEnv, resource: str) -> list[date]:
    """The dates of the live records of a Xero collection."""
    return [
        date.fromisoformat(r["DateString"][:10])
        for r in env.xero(resource)
        if r.get("Status") not in ("DELETED", "VOIDED")
    ]


def _lock_skips(env: UrlEnv, entity: str) -> dict[str, str]:
    """Perfex key -> reason of the links skipped for a lock date."""
    return {
        k: link.last_error
        for k, link in env.links(entity).items()
        if link.state == "skipped" and "period lock date" in (link.last_error or "")
    }


def _expected(dates: dict[str, date], lock: date, keys: set[str]) -> dict[str, str]:
    """The reason each locked key should carry."""
    return {k: reason(dates[k], lock) for k in keys if dates[k] <= lock}


def test_documents_in_a_locked_period_wait_until_it_is_unlocked(lenv):
    """Skipped (dry run too), never written, re-sent once the lock date moves back."""
    env = lenv
    dated = {
        "invoices": _dates(env, "invoices"),
        "credit-notes": _dates(env, "creditnotes"),
        "expenses": _dates(env, "expenses"),
    }
    env.sandbox.inject.lock_dates(LOCK)
    before = env.calls()
    dry = env.sync(entities=DOCUMENTS, dry_run=True)
    made = delta(before, env.calls())
    assert made[ORGANISATION] == 1
    assert not [k for k in made if k.split()[0] != "GET"]
    dry_skips = {(a.entity, a.key): a.reason for a in dry.planned if a.action == "skip"}
    for entity, dates in dated.items():
        for key, why in _expected(dates, LOCK, set(dates)).items():
            assert dry_skips.get((entity, key)) == why, (entity, key)

    before = env.calls()
    result = env.sync(entities=DOCUMENTS)
    made = delta(before, env.calls())
    assert result.ok, result.failed
    assert made[ORGANISATION] == 1
    for entity, dates in dated.items():
        expected = _expected(dates, LOCK, set(dates))
        assert expected, f"the seed has no {entity} in the locked period"
        assert _lock_skips(env, entity) == expected
        assert result.report(entity).skipped >= len(expected)
    assert dated["invoices"]["1"] == date(2025, 6, 23)
    assert env.link("invoices", 1).last_error == (
        "dated 2025-06-23, on or before Xero's period lock date 2025-09-30: unlock "
        "the period in Xero (or change the date in Perfex) and retry"
    )
    for resource in ("Invoices", "CreditNotes", "BankTransactions"):
        days = _xero_days(env, resource)
        assert days and all(d > LOCK for d in days), resource
    status = env.gateway.connection.connection_status()  # what the panel shows
    assert status.lock_date == LOCK and status.lock_seen_at is not None

    before = env.calls()
    rerun = env.sync(entities=DOCUMENTS)
    made = delta(before, env.calls())
    assert rerun.ok and sum(r.writes + r.skipped for r in rerun.reports) == 0
    assert made[ORGANISATION] == 1
    assert not [k for k in made if k.split()[0] != "GET"]

    env.sandbox.inject.lock_dates(EARLIER)
    result = env.sync(entities=DOCUMENTS)
    assert result.ok, result.failed
    for entity, dates in dated.items():
        assert _lock_skips(env, entity) == _expected(dates, EARLIER, set(dates))
        for key, day in dates.items():
            if EARLIER < day <= LOCK:
                assert env.link(entity, key).xero_id, (entity, key)

    env.sandbox.inject.lock_dates()
    result = env.sync(entities=[*DOCUMENTS, "payments"])
    assert result.ok, result.failed
    for entity in dated:
        assert _lock_skips(env, entity) == {}
    assert_all_synced(env)
    assert env.gateway.connection.connection_status().lock_date is None  # open now


def test_payments_and_edits_in_a_locked_period_are_not_sent(lenv):
    """Payments dated on or before the lock and edits of locked invoices wait."""
    env = lenv
    assert env.sync(entities=["invoices"]).ok
    env.sandbox.inject.lock_dates(PAYMENT_LOCK)
    invoices = env.perfex.tables.invoices
    env.execute(
        invoices.update()
        .where(invoices.c.id.in_([1, 12]))
        .values(duedate=date(2026, 12, 31))
    )
    edited_late = env.link("invoices", 12)
    before = env.calls()
    result = env.sync(entities=["invoices", "payments"])
    made = delta(before, env.calls())
    assert result.ok, result.failed
    assert made[ORGANISATION] == 1
    pays = _dates(env, "invoicepaymentrecords")
    expected = _expected(pays, PAYMENT_LOCK, set(pays))
    assert "5" in expected and pays["5"] == PAYMENT_LOCK
    assert _lock_skips(env, "payments") == expected
    live = [p for p in env.xero("Payments") if p["Status"] != "DELETED"]
    assert len(live) == len(pays) - len(expected)
    assert all(p["Date"] > PAYMENT_LOCK for p in live)
    assert _lock_skips(env, "invoices") == {
        "1": reason(date(2025, 6, 23), PAYMENT_LOCK)
    }
    assert env.link("invoices", 12).payload_hash != edited_late.payload_hash
    assert env.link("invoices", 12).state == "synced"
    first = env.link("invoices", 1).xero_id
    assert env.sandbox.inject.get("Invoices", first)["DueDateString"][:10] != (
        "2026-12-31"
    )

    env.sandbox.inject.lock_dates()
    result = env.sync(entities=["invoices", "payments"])
    assert result.ok, result.failed
    assert _lock_skips(env, "payments") == {} == _lock_skips(env, "invoices")
    due = env.sandbox.inject.get("Invoices", first)["DueDateString"][:10]
    assert due == "2026-12-31"
    assert_all_synced(env)


def test_lock_set_between_the_read_and_the_write_fails_clearly(lenv):
    """Xero's refusal is a per-record failure that says what to do, no trace."""
    env = lenv
    hold = env.sandbox.faults.hold_after_write(method="PUT", paths=("/Invoices",))
    outcome: dict[str, Any] = {}

    def run() -> None:
        outcome["result"] = env.sync(entities=["invoices", "payments"])

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert hold.applied.wait(60)
        env.sandbox.inject.lock_dates(PAYMENT_LOCK)
    finally:
        hold.release()
        worker.join(120)
    result = outcome["result"]
    failed = {
        key: error for entity, key, error in result.failed if entity == "payments"
    }
    pays = _dates(env, "invoicepaymentrecords")
    assert set(failed) == {k for k, d in pays.items() if d <= PAYMENT_LOCK}
    for error in failed.values():
        assert error == (
            "the date is in a period Xero has locked (The document date cannot be "
            "before the period lock date, currently set at 22-Oct-2025): unlock the "
            "period in Xero (or change the date in Perfex) and retry"
        )
        assert "Traceback" not in error
    assert env.link("payments", 5).state == "failed"
