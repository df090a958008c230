"""Invoices and credit notes made in Xero become Perfex documents (opt-in)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.totals import compute_totals
from pxflask.sync.entities.documents_pull import ENTITY
from pxflask.sync.entities.documents_pull.rules import reverse_taxes
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
    """A Xero sales TaxType above 0% that no Perfex tax is mapped to."""
    links = {k: v.xero_number for k, v in env.links("taxes").items() if v.xero_number}
    reverse = reverse_taxes(env.settings, reads.read_taxes(env.perfex), links)
    with env.sessions() as session:
        for rate in cached_rates(session):
            if rate.rate > 0 and rate.revenue and rate.tax_type not in reverse:
                return rate.tax_type
    raise AssertionError("every Xero rate is mapped")


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
