"""Invoices and credit notes made in Xero become Perfex documents (opt-in)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.models import Setting, SyncCursor
from pxflask.perfex import document_writes, reads
from pxflask.perfex.document_writes import INVOICE, NewDocument
from pxflask.perfex.totals import compute_totals
from pxflask.sync.entities.documents_pull import ENTITY
from pxflask.sync.entities.documents_pull.rules import KINDS, doc_key, reverse_taxes
from pxflask.sync.inbound import handle_webhook
from pxflask.sync.links import LinkStore, Outcome
from pxflask.sync.settings import defaults, enabled_entities, validate
from pxflask.sync.taxrates import cached_rates

from .conftest import Env, delta

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based; documents made in Xero are in USD too."""

ON = {"documents_from_xero": "yes"}


@pytest.fixture
def synced(env: Env) -> Env:
    """A first push done (customers, taxes, invoices in Xero), the pull switched on."""
    assert env.sync().ok
    env.settings.update(ON)
    return env


def mapped_tax(env: Env) -> tuple[str, str, Decimal]:
    """A Xero TaxType with a rate above 0 mapped from exactly one Perfex tax."""
    with env.sessions() as session:
        rates = {r.tax_type: r.rate for r in cached_rates(session)}
    links = {k: v.xero_number for k, v in env.links("taxes").items() if v.xero_number}
    reverse = reverse_taxes(env.settings, reads.read_taxes(env.perfex), links)
    for tax_type, keys in sorted(reverse.items()):
        if len(keys) == 1 and rates.get(tax_type, Decimal(0)) > 0:
            [key] = keys
            if len(key) == 1:
                return tax_type, key[0][0], key[0][1]
    raise AssertionError("no mapped Perfex tax with a rate")


def unmapped_tax(env: Env) -> str:
    """A Xero sales rate (7.5%) made in Xero, that no Perfex tax is mapped to."""
    made = env.sandbox.inject.write(
        "TaxRates",
        {
            "Name": "Made in Xero 7.5%",
            "ReportTaxType": "OUTPUT",
            "TaxComponents": [{"Name": "Levy", "Rate": "7.5"}],
        },
    )
    return str(made["TaxType"])


def linked_contact(env: Env) -> tuple[int, str]:
    """(Perfex customer id, Xero ContactID) of a synced customer."""
    for key, link in sorted(env.links("customers").items()):
        if link.state == "synced" and link.xero_id:
            return int(key), link.xero_id
    raise AssertionError("no synced customer")


def lines(tax_type: str, *amounts: tuple[str, str]) -> list[dict[str, Any]]:
    """Xero line items: (quantity, unit amount) each, on the sales account."""
    return [
        {
            "Description": f"Made in Xero {n}",
            "Quantity": qty,
            "UnitAmount": unit,
            "AccountCode": "200",
            "TaxType": tax_type,
        }
        for n, (qty, unit) in enumerate(amounts, start=1)
    ]


def xero_invoice(env: Env, contact: str, items: list[dict], **kw: Any) -> dict:
    """An ACCREC invoice typed into Xero (USD, dated 2026-03-02)."""
    fields = {"CurrencyCode": "USD", "Date": "2026-03-02", "DueDate": "2026-04-01"}
    return env.sandbox.inject.invoice(contact, items, **{**fields, **kw})


def xero_credit_note(env: Env, contact: str, items: list[dict]) -> dict:
    """An ACCRECCREDIT credit note typed into Xero."""
    return env.sandbox.inject.write(
        "CreditNotes",
        {
            "Type": "ACCRECCREDIT",
            "Contact": {"ContactID": contact},
            "Status": "AUTHORISED",
            "CurrencyCode": "USD",
            "Date": "2026-03-03",
            "LineItems": items,
        },
    )


def rows(env: Env, table: str, **where: Any) -> list[Any]:
    """Rows of a Perfex table matching column values."""
    t = getattr(env.perfex.tables, table)
    stmt = sa.select(t)
    for column, value in where.items():
        stmt = stmt.where(t.c[column] == value)
    with env.perfex.engine.connect() as conn:
        return list(conn.execute(stmt).mappings())


def count(env: Env, table: str) -> int:
    """Rows in a Perfex table."""
    return len(rows(env, table))


def option(env: Env, name: str) -> str | None:
    """A Perfex option."""
    return reads.get_option(env.perfex, name)


def pulled_doc(env: Env, entity: str, xero_id: str) -> int:
    """The Perfex id linked to a Xero document on the push side."""
    for key, link in env.links(entity).items():
        if link.xero_id == xero_id:
            return int(key)
    raise AssertionError(f"{xero_id} is not linked in {entity}")


def test_switch_is_off_by_default_and_then_nothing_is_read_or_written(env):
    """documents_from_xero defaults to no: the step makes no call and no row."""
    assert defaults()["documents_from_xero"] == "no"
    assert validate("documents_from_xero", "on") == "yes"
    assert ENTITY in enabled_entities(defaults())
    assert env.sync().ok
    customer, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    xero_invoice(env, contact, lines(tax_type, ("1", "100.00")))
    invoices = count(env, "invoices")
    before = env.calls()
    result = env.sync(entities=[ENTITY])
    assert result.ok and result.report(ENTITY).pulled == 0
    assert delta(before, env.calls()) == {}
    assert count(env, "invoices") == invoices


def test_invoice_and_credit_note_arrive_with_lines_taxes_and_totals(synced):
    """Perfex's numbering, Xero's number kept, lines, taxes and totals to the cent."""
    env = synced
    customer, contact = linked_contact(env)
    tax_type, tax_name, tax_rate = mapped_tax(env)
    next_invoice = int(option(env, "next_invoice_number") or 1)
    next_note = int(option(env, "next_credit_note_number") or 1)
    inv = xero_invoice(
        env, contact, lines(tax_type, ("2", "49.99"), ("3", "10.10"), ("1", "0.07"))
    )
    note = xero_credit_note(env, contact, lines(tax_type, ("1", "25.00")))
    result = env.sync(entities=[ENTITY])
    assert result.ok, result.failed
    assert result.report(ENTITY).pulled == 2
    invoice_id = pulled_doc(env, "invoices", inv["InvoiceID"])
    [row] = rows(env, "invoices", id=invoice_id)
    assert row["clientid"] == customer and row["number"] == next_invoice
    assert option(env, "next_invoice_number") == str(next_invoice + 1)
    assert inv["InvoiceNumber"] in row["adminnote"]
    assert inv["InvoiceID"] in row["adminnote"]
    assert (row["subtotal"], row["total_tax"], row["total"]) == (
        inv["SubTotal"],
        inv["TotalTax"],
        inv["Total"],
    )
    [perfex] = reads.read_invoices(env.perfex, ids=[invoice_id])
    assert [(line.qty, line.rate) for line in perfex.lines] == [
        (Decimal("2.00"), Decimal("49.99")),
        (Decimal("3.00"), Decimal("10.10")),
        (Decimal("1.00"), Decimal("0.07")),
    ]
    assert all(
        [(t.name, t.rate) for t in line.taxes] == [(tax_name, tax_rate)]
        for line in perfex.lines
    )
    again = compute_totals(perfex.lines, "", Decimal(0), Decimal(0), Decimal(0))
    assert (again.subtotal, again.total_tax, again.total) == (
        inv["SubTotal"],
        inv["TotalTax"],
        inv["Total"],
    )
    link = env.link("invoices", invoice_id)
    assert link.state == "synced" and link.xero_number == inv["InvoiceNumber"]
    note_id = pulled_doc(env, "credit-notes", note["CreditNoteID"])
    [crow] = rows(env, "creditnotes", id=note_id)
    assert crow["reference_no"] == note["CreditNoteNumber"]
    assert crow["number"] == next_note and crow["total"] == note["Total"]
    assert crow["total_tax"] == note["TotalTax"]
    taxes = rows(env, "item_tax", rel_id=note_id, rel_type="credit_note")
    assert [(t["taxname"], t["taxrate"]) for t in taxes] == [(tax_name, tax_rate)]


def test_documents_pxflask_sent_are_never_pulled(synced):
    """A full pass over Xero finds only our own invoices: nothing is written."""
    env = synced
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    # ours, though its link is gone (a reset): the PX- Reference says so
    xero_invoice(env, contact, lines(tax_type, ("1", "5.00")), Reference="PX-I-999")
    invoices, notes = count(env, "invoices"), count(env, "creditnotes")
    result = env.sync(entities=[ENTITY], full=True)
    assert result.ok and result.report(ENTITY).pulled == 0
    assert (count(env, "invoices"), count(env, "creditnotes")) == (invoices, notes)


def test_new_contact_becomes_one_customer_and_the_push_adds_no_contact(synced):
    """Two invoices of a new Xero contact: one Perfex customer, linked; no duplicate."""
    env = synced
    tax_type, _, _ = mapped_tax(env)
    person = env.sandbox.inject.contact(
        "Harbour Lights Ltd",
        FirstName="Ada",
        LastName="Byron",
        EmailAddress="ada@harbour.example",
    )
    first = xero_invoice(env, person["ContactID"], lines(tax_type, ("1", "80.00")))
    second = xero_invoice(env, person["ContactID"], lines(tax_type, ("2", "15.50")))
    customers = count(env, "clients")
    result = env.sync(entities=[ENTITY])
    assert result.ok, result.failed
    assert result.report(ENTITY).pulled == 2
    assert count(env, "clients") == customers + 1
    [client] = rows(env, "clients", company="Harbour Lights Ltd")
    [primary] = rows(env, "contacts", userid=client["userid"])
    assert primary["is_primary"] == 1 and primary["email"] == "ada@harbour.example"
    assert (primary["firstname"], primary["lastname"]) == ("Ada", "Byron")
    link = env.link("customers", client["userid"])
    assert link.state == "synced" and link.xero_id == person["ContactID"]
    for inv in (first, second):
        [row] = rows(env, "invoices", id=pulled_doc(env, "invoices", inv["InvoiceID"]))
        assert row["clientid"] == client["userid"]
    contacts, writes = len(env.xero("Contacts")), env.writes()
    assert env.sync().ok
    assert len(env.xero("Contacts")) == contacts
    assert env.writes() == writes


def test_unknown_tax_rate_fails_that_document_alone(synced):
    """A Xero rate no Perfex tax maps to: a clear failure; the next document goes on."""
    env = synced
    _, contact = linked_contact(env)
    good_type, _, _ = mapped_tax(env)
    bad_type = unmapped_tax(env)
    bad = xero_invoice(env, contact, lines(bad_type, ("1", "40.00")))
    good = xero_invoice(env, contact, lines(good_type, ("1", "40.00")))
    invoices = count(env, "invoices")
    result = env.sync(entities=[ENTITY])
    report = result.report(ENTITY)
    assert not result.ok and report.failed == 1 and report.pulled == 1
    [(key, reason)] = report.errors
    assert bad["InvoiceID"].lower() in key
    assert bad_type in reason and "no Perfex tax mapped" in reason
    assert bad["InvoiceNumber"] in reason
    assert count(env, "invoices") == invoices + 1
    pulled_doc(env, "invoices", good["InvoiceID"])
    assert not any(
        link.xero_id == bad["InvoiceID"] for link in env.links("invoices").values()
    )


def test_totals_perfex_cannot_reproduce_fail_with_both_figures(synced):
    """Xero rounds tax per line, Perfex per rate: a differing TotalTax is refused."""
    env = synced
    _, contact = linked_contact(env)
    tax_type, _, rate = mapped_tax(env)
    # three lines of 0.03: Xero rounds each line's tax up, Perfex the sum once
    inv = xero_invoice(env, contact, lines(tax_type, *[("1", "0.03")] * 3))
    line_tax = (Decimal("0.03") * rate / 100).quantize(Decimal("0.01"))
    summed = (Decimal("0.09") * rate / 100).quantize(Decimal("0.01"))
    assert inv["TotalTax"] == 3 * line_tax != summed  # the case is real
    invoices = count(env, "invoices")
    result = env.sync(entities=[ENTITY])
    [(_, reason)] = result.report(ENTITY).errors
    assert f"tax {summed}" in reason and str(inv["TotalTax"]) in reason
    assert count(env, "invoices") == invoices


def test_dry_run_shows_the_documents_and_writes_nothing(synced):
    """A dry run plans the pull (lines, totals, new customer) and writes no row."""
    env = synced
    tax_type, _, _ = mapped_tax(env)
    person = env.sandbox.inject.contact("Dry Dock Supplies")
    inv = xero_invoice(env, person["ContactID"], lines(tax_type, ("1", "12.00")))
    counts = [count(env, t) for t in ("clients", "invoices", "itemable")]
    result = env.sync(entities=[ENTITY], dry_run=True)
    [plan] = [p for p in result.report(ENTITY).planned if p.action == "pull"]
    assert plan.payload["total"] == str(inv["Total"])
    assert plan.payload["customer"] == "new: Dry Dock Supplies"
    assert plan.payload["lines"][0]["rate"] == "12.00"
    assert [count(env, t) for t in ("clients", "invoices", "itemable")] == counts
    assert env.links(ENTITY) == {}
    with env.sessions() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(SyncCursor)
                .where(SyncCursor.name.like("%.pulled"))
            )
            == 0
        )
    assert env.sync(entities=[ENTITY]).report(ENTITY).pulled == 1


def test_rerun_writes_nothing_and_the_push_sends_nothing_back(synced):
    """After a pull: a rerun pulls nothing (two reads), a full push writes nothing."""
    env = synced
    assert env.sync(entities=["credit-notes"]).ok  # Perfex's own, off by default
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    inv = xero_invoice(env, contact, lines(tax_type, ("4", "12.50")))
    xero_credit_note(env, contact, lines(tax_type, ("1", "9.99")))
    assert env.sync(entities=[ENTITY]).report(ENTITY).pulled == 2
    invoices, notes = count(env, "invoices"), count(env, "creditnotes")
    before = env.calls()
    again = env.sync(entities=[ENTITY])
    made = delta(before, env.calls())
    assert again.ok and again.report(ENTITY).pulled == 0
    assert made == {"GET /Invoices": 1, "GET /CreditNotes": 1}, made
    before = env.calls()
    result = env.sync(entities=["invoices", "credit-notes"], full=True)
    assert result.ok, result.failed
    made = delta(before, env.calls())
    assert not [k for k in made if k.split()[0] in ("PUT", "POST")], made
    assert (count(env, "invoices"), count(env, "creditnotes")) == (invoices, notes)
    numbers = [i["InvoiceNumber"] for i in env.xero("Invoices")]
    assert numbers.count(inv["InvoiceNumber"]) == 1


def test_an_edit_in_perfex_updates_xero_keeping_xero_number(synced):
    """A pulled invoice edited in Perfex is updated in Xero under Xero's number."""
    env = synced
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    inv = xero_invoice(env, contact, lines(tax_type, ("1", "30.00")))
    assert env.sync(entities=[ENTITY]).report(ENTITY).pulled == 1
    invoice_id = pulled_doc(env, "invoices", inv["InvoiceID"])
    t = env.perfex.tables.invoices
    env.execute(t.update().where(t.c.id == invoice_id).values(clientnote="Thanks"))
    items = env.perfex.tables.itemable
    env.execute(
        items.update()
        .where(items.c.rel_id == invoice_id, items.c.rel_type == "invoice")
        .values(description="Edited in Perfex")
    )
    result = env.sync(entities=["invoices"])
    assert result.ok and result.report("invoices").updated == 1
    now = env.sandbox.inject.get("Invoices", inv["InvoiceID"])
    assert now["InvoiceNumber"] == inv["InvoiceNumber"]
    assert now["LineItems"][0]["Description"] == "Edited in Perfex"


def test_webhook_nudges_a_pass_only_for_unlinked_documents_when_on(synced):
    """INVOICE/CREDITNOTE events about unknown documents ask for a pass (when on)."""
    env = synced
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    inv = xero_invoice(env, contact, lines(tax_type, ("1", "11.00")))
    ours = next(iter(env.links("invoices").values())).xero_id
    event = {"eventCategory": "INVOICE", "eventType": "CREATE", "resourceId": ours}
    with env.sessions() as session:
        session.merge(Setting(key="documents_from_xero", value="yes"))
        session.commit()
        assert (
            handle_webhook(session, [event], lambda: env.gateway)["documents"] is False
        )
        new = {**event, "resourceId": inv["InvoiceID"]}
        note = {"eventCategory": "CREDITNOTE", "eventType": "CREATE", "resourceId": "x"}
        assert handle_webhook(session, [new], lambda: env.gateway)["documents"] is True
        assert handle_webhook(session, [note], lambda: env.gateway)["documents"] is True
        session.merge(Setting(key="documents_from_xero", value="no"))
        session.commit()
        assert handle_webhook(session, [new], lambda: env.gateway)["documents"] is False
    # the pass the webhook asks for is a normal run of the entity
    assert env.sync(entities=[ENTITY]).report(ENTITY).pulled == 1


def test_scheduled_pass_includes_the_pull_and_reads_since_the_cursor(synced):
    """A run naming nothing (the scheduled pass) pulls; its cursor moves forward."""
    env = synced
    _, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    assert env.sync().report(ENTITY).pulled == 0
    with env.sessions() as session:
        first = session.scalar(
            sa.select(SyncCursor.value).where(SyncCursor.name == "xero.invoices.pulled")
        )
    assert first is not None
    xero_invoice(env, contact, lines(tax_type, ("1", "19.00")), Date="2026-03-05")
    result = env.sync()
    assert result.ok and result.report(ENTITY).pulled == 1
    with env.sessions() as session:
        later = session.scalar(
            sa.select(SyncCursor.value).where(SyncCursor.name == "xero.invoices.pulled")
        )
    assert later > first
    assert date.fromisoformat(str(rows(env, "invoices")[-1]["date"])) == date(
        2026, 3, 5
    )


def test_a_claim_left_by_a_killed_worker_is_linked_not_written_twice(synced):
    """The Perfex write done, the link not: the next run links that document."""
    env = synced
    customer, contact = linked_contact(env)
    tax_type, _, _ = mapped_tax(env)
    inv = xero_invoice(env, contact, lines(tax_type, ("1", "20.00")))
    written, _ = document_writes.create_document(
        env.perfex,
        NewDocument(
            INVOICE,
            customer,
            date(2026, 3, 2),
            int(rows(env, "currencies", name="USD")[0]["id"]),
            inv["SubTotal"],
            inv["TotalTax"],
            inv["Total"],
            adminnote=f"Made in Xero: Xero invoice x ({inv['InvoiceID']})",
        ),
    )
    with env.sessions() as session:
        LinkStore(session, ENTITY).record(
            [Outcome(doc_key(KINDS[0], inv["InvoiceID"]), "pending", inv["InvoiceID"])]
        )
    invoices = count(env, "invoices")
    result = env.sync(entities=[ENTITY])
    assert result.ok and result.report(ENTITY).pulled == 0
    assert count(env, "invoices") == invoices
    assert pulled_doc(env, "invoices", inv["InvoiceID"]) == written
    assert env.links(ENTITY) == {}
