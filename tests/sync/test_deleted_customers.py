"""Invoices of customers deleted in Perfex sync under one contact per name."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pxflask.perfex.seed import seed_demo
from pxflask.sync.entities.customers.mapper import deleted_contact_number

from .conftest import NO_RETRY, UrlEnv, duplicates

SENT = (1, 2, 3, 4)
"""Invoice statuses that go to Xero (not cancelled, not draft)."""


@pytest.fixture
def denv(perfex_url, tmp_path, xero_sandbox):
    """A seeded Perfex DB (SQLite and MariaDB) and a sync set-up, nothing synced."""
    seed_demo(perfex_url, customers=5, invoices=16, seed=21)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    env.settings["payment_account.default"] = "090"
    yield env
    env.close()


def _customers_by_invoices(env: UrlEnv) -> list[tuple[int, list[int]]]:
    """(customer id, its sent invoice ids), most invoices first."""
    inv = env.perfex.tables.invoices
    rows = env.execute(
        sa.select(inv.c.clientid, inv.c.id).where(inv.c.status.in_(SENT))
    ).all()
    found: dict[int, list[int]] = {}
    for client, invoice in rows:
        found.setdefault(int(client), []).append(int(invoice))
    return sorted(found.items(), key=lambda kv: -len(kv[1]))


def _delete_customer(env: UrlEnv, customer: int, name: str | None) -> None:
    """Delete a customer as Perfex does, keeping its name on its invoices."""
    t = env.perfex.tables
    env.execute(t.contacts.delete().where(t.contacts.c.userid == customer))
    env.execute(t.clients.delete().where(t.clients.c.userid == customer))
    env.execute(
        t.invoices.update()
        .where(t.invoices.c.clientid == customer)
        .values(deleted_customer_name=name)
    )


def test_deleted_customers_invoices_share_one_contact_named_from_them(denv):
    """Two deleted customers of one name: one contact; no name: fails alone."""
    env = denv
    ranked = _customers_by_invoices(env)
    (first, first_ids), (second, second_ids), (nameless, nameless_ids) = ranked[:3]
    inv = env.perfex.tables.invoices
    newest = max(first_ids + second_ids)
    env.execute(
        inv.update()
        .where(inv.c.id == newest)
        .values(billing_street="1 Old Road", billing_city="Leeds", billing_zip="LS1")
    )
    _delete_customer(env, first, "Gone Ltd")
    _delete_customer(env, second, "  gone   LTD ")
    _delete_customer(env, nameless, None)

    result = env.sync()
    failed = {k: e for entity, k, e in result.failed if entity == "invoices"}
    assert set(failed) == {str(i) for i in nameless_ids}
    reason = failed[str(nameless_ids[0])]
    assert f"customer {nameless} no longer exists in Perfex" in reason
    assert "assign it to an existing customer in Perfex" in reason

    contacts = [
        c
        for c in env.xero("Contacts")
        if c.get("ContactNumber") == deleted_contact_number("Gone Ltd")
    ]
    assert len(contacts) == 1
    contact = contacts[0]
    assert contact["Name"] == ("Gone Ltd" if newest in first_ids else "gone LTD")
    address = contact["Addresses"][0]
    assert (address["AddressLine1"], address["City"], address["PostalCode"]) == (
        "1 Old Road",
        "Leeds",
        "LS1",
    )
    link = env.link("customers", "deleted:gone ltd")
    assert link.state == "synced" and link.xero_id == contact["ContactID"]
    xero = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    for invoice_id in first_ids + second_ids:
        invoice_link = env.link("invoices", invoice_id)
        assert invoice_link.state == "synced", invoice_id
        sent = xero[invoice_link.xero_id]
        assert sent["Contact"]["ContactID"] == contact["ContactID"]
    assert duplicates(env) == {}

    again = env.sync()
    assert again.report("customers").writes == 0
    assert again.report("invoices").writes == 0
    assert again.report("invoices").failed == len(nameless_ids)


def test_a_customer_synced_before_its_deletion_keeps_its_contact(denv):
    """Deleted after its first sync: its invoices stay on its PX-C contact."""
    env = denv
    assert env.sync().ok
    customer, invoice_ids = _customers_by_invoices(env)[0]
    before = env.link("customers", customer).xero_id
    _delete_customer(env, customer, "Renamed On Delete")
    inv = env.perfex.tables.invoices
    env.execute(
        inv.update().where(inv.c.id == invoice_ids[0]).values(clientnote="Edited")
    )
    result = env.sync()
    assert result.ok, result.failed
    assert env.link("customers", "deleted:renamed on delete") is None
    xero = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    for invoice_id in invoice_ids:
        sent = xero[env.link("invoices", invoice_id).xero_id]
        assert sent["Contact"]["ContactID"] == before


def test_credit_notes_of_a_deleted_customer_use_the_same_contact(denv):
    """With credit notes on, a deleted customer's credit notes join its contact."""
    env = denv
    env.settings["entities"] = "customers,items,taxes,invoices,credit-notes"
    cn = env.perfex.tables.creditnotes
    rows = env.execute(sa.select(cn.c.clientid, cn.c.id).where(cn.c.status != 3))
    by_customer: dict[int, list[int]] = {}
    for client, note in rows:
        by_customer.setdefault(int(client), []).append(int(note))
    assert by_customer, "the seed makes credit notes"
    customer, note_ids = max(by_customer.items(), key=lambda kv: len(kv[1]))
    _delete_customer(env, customer, "Closed Shop")
    env.execute(
        cn.update()
        .where(cn.c.clientid == customer)
        .values(deleted_customer_name="Closed Shop")
    )
    result = env.sync(entities=["customers", "taxes", "items", "invoices"])
    assert result.ok, result.failed
    notes = env.sync(entities=["credit-notes"])
    assert not [k for e, k, _ in notes.failed if e == "credit-notes"], notes.failed
    contact = env.link("customers", "deleted:closed shop")
    assert contact is not None and contact.state == "synced"
    sent = {c["CreditNoteID"]: c for c in env.xero("CreditNotes")}
    for note_id in note_ids:
        link = env.link("credit-notes", note_id)
        assert link.state == "synced", note_id
        assert sent[link.xero_id]["Contact"]["ContactID"] == contact.xero_id


def test_documents_of_a_customer_xero_refused_fail_with_its_reason(env):
    """Customer creates keep failing: its invoices fail naming it, none are skipped."""
    env.sandbox.faults.fail_next(10_000, 503, path_contains="Contacts", method="PUT")
    entities = ["taxes", "customers", "items", "invoices"]
    result = env.sync(gateway=env.make_gateway(NO_RETRY), entities=entities)
    env.sandbox.faults.clear()
    customers = dict(result.report("customers").errors)
    assert customers, result.report("customers")
    invoices = result.report("invoices")
    failed = dict(invoices.errors)
    assert failed, invoices
    for key, reason in failed.items():
        customer = reason.split()[2]
        assert reason.startswith("its customer "), (key, reason)
        assert customer in customers and customers[customer] in reason
    not_synced = [a for a in invoices.planned if "is not synced" in (a.reason or "")]
    assert not_synced == []
    again = env.sync(entities=entities)
    assert again.ok, again.failed
