"""No duplicates, ever: crashes before, during and after batch calls; clashes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.sandbox.regions import profile
from tests.fixtures.sandbox import TEST_REGION

from .conftest import NO_RETRY, assert_all_synced, duplicates

ENDPOINTS = ["/Contacts", "/Items", "/Invoices", "/Payments"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_crash_after_the_call_never_duplicates(env, endpoint):
    """Xero commits, the answer is lost, those records fail; the rerun finds them."""
    fragile = env.make_gateway(NO_RETRY)
    env.sandbox.faults.commit_then_fail(1, status=0, path_contains=endpoint)
    first = env.sync(gateway=fragile)
    assert not first.ok
    lost = [
        k
        for entity in ("customers", "items", "invoices", "payments")
        for k, link in env.links(entity).items()
        if link.state in ("pending", "failed") and not link.xero_id
    ]
    assert lost, "the lost answer left no record to recover"
    assert all("the next run retries it" in e for _, _, e in first.failed)
    result = env.sync()
    assert result.ok, result.failed
    assert_all_synced(env)


@pytest.mark.parametrize("endpoint", ["/Contacts", "/Invoices", "/Payments"])
def test_crash_before_the_call_and_retried_call(env, endpoint):
    """Refused before doing anything, or committed then retried: no duplicate."""
    fragile = env.make_gateway(NO_RETRY)
    env.sandbox.faults.fail_next(1, status=503, path_contains=endpoint)
    assert not env.sync(gateway=fragile).ok
    env.sandbox.faults.commit_then_fail(2, status=504, path_contains=endpoint)
    result = env.sync()
    assert result.ok, result.failed
    assert_all_synced(env)


def test_contact_name_clash_links_same_customer_else_disambiguates(env):
    """Name taken by the same customer (email): linked; by another: renamed."""
    customers = reads.read_customers(env.perfex)
    mine, other = customers[0], customers[1]
    same = env.sandbox.inject.contact(
        mine.company, EmailAddress=mine.primary_contact.email
    )
    env.sandbox.inject.contact(other.company, EmailAddress="someone@else.example")
    result = env.sync(entities=["customers"])
    assert result.ok, result.failed
    assert env.link("customers", mine.id).xero_id == same["ContactID"]
    renamed = env.sandbox.inject.get(
        "Contacts", env.link("customers", other.id).xero_id
    )
    assert renamed["Name"] == f"{other.company} (PX-C-{other.id})"
    names = [c["Name"].casefold() for c in env.xero("Contacts")]
    assert len(names) == len(set(names))
    assert duplicates(env) == {}
    before = env.writes()
    assert env.sync(entities=["customers"]).report("customers").writes == 0
    assert env.writes() == before


def test_invoice_number_clash_links_same_invoice_else_fails_that_one(env):
    """Number used in Xero: same contact and total -> linked; else that one fails."""
    assert env.sync(entities=["customers"]).ok
    invoices = [i for i in reads.read_invoices(env.perfex) if i.status in (1, 2, 3, 4)]
    twin, stranger = invoices[0], invoices[1]
    contact = env.link("customers", twin.customer_id).xero_id
    other_contact = env.sandbox.inject.contact("Walk-in customer")["ContactID"]

    def by_hand(inv, contact_id, amount):
        return env.sandbox.inject.invoice(
            contact_id,
            [
                {
                    "Description": "typed in Xero",
                    "Quantity": 1,
                    "UnitAmount": str(amount),
                    "AccountCode": "200",
                    "TaxType": profile(TEST_REGION).no_tax,
                }
            ],
            status="DRAFT",
            InvoiceNumber=inv.formatted_number,
        )

    same = by_hand(twin, contact, twin.total)
    by_hand(stranger, other_contact, "1.00")
    result = env.sync()
    assert [k for e, k, _ in result.failed if e == "invoices"] == [str(stranger.id)]
    assert "already used in Xero" in result.failed[0][2]
    for entity, _key, error in result.failed[1:]:  # its payments fail with it
        assert entity == "payments" and f"its invoice {stranger.id} failed" in error
    assert env.link("invoices", twin.id).xero_id == same["InvoiceID"]
    assert env.link("invoices", stranger.id).state == "failed"
    assert all(env.link("invoices", i.id).state == "synced" for i in invoices[2:])
    again = env.sync()
    assert [k for e, k, _ in again.failed if e == "invoices"] == [str(stranger.id)]
    assert duplicates(env) == {}


def test_customers_sharing_a_name_sync_without_a_failed_attempt(env):
    """Two new Perfex customers share a name: the second is renamed up front."""
    from pxflask.models import SyncLog

    with env.perfex.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE tblclients SET company = 'Twin Trading' WHERE userid IN (1, 2)"
        )
    result = env.sync(entities=["customers"])
    assert result.ok
    with env.sessions() as session:
        outcomes = session.scalars(
            sa.select(SyncLog.outcome).where(SyncLog.entity == "customers")
        ).all()
    assert "failed" not in outcomes
    names = sorted(
        c["Name"]
        for c in env.sandbox.inject.all("Contacts")
        if c["Name"].startswith("Twin Trading")
    )
    assert names == ["Twin Trading", "Twin Trading (PX-C-2)"]
