"""Expenses: SPEND bank transactions whose Xero total equals Perfex's, synced."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.models import Link
from pxflask.perfex import reads
from pxflask.perfex.records import Expense
from pxflask.perfex.seed import seed_demo
from pxflask.sandbox.regions import profile
from pxflask.sync.entities.expenses.mapper import (
    ExpenseContext,
    ExpenseTargets,
    expense_marker,
    expense_total,
    map_expense,
)
from pxflask.sync.entities.expenses.step import DELETED_IN_PERFEX, RECONCILED
from pxflask.sync.mappers.documents import xero_document_total
from pxflask.sync.registry import REGISTRY
from tests.fixtures.sandbox import TEST_REGION

from .conftest import UrlEnv, delta
from .factories import EUR, USD, D

PREREQUISITES = [
    "accounts",
    "expense-categories",
    "taxes",
    "payment-modes",
    "customers",
]
CTX = ExpenseContext()
pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based: its bank accounts in Xero must be USD too."""

REGION = profile(TEST_REGION)
"""The suite's Xero organisation (its standard sales and purchases rates)."""

EUR_BANK = {
    "Code": "095",
    "Name": "Euro Account",
    "Type": "BANK",
    "BankAccountNumber": "12345678",
    "CurrencyCode": "EUR",
}


def standard_rate(tax_type: str) -> Decimal:
    """The percentage of one of the suite organisation's seeded rates."""
    seed = next(r for r in REGION.tax_rates if r.tax_type == tax_type)
    return sum((D(rate) for _, rate in seed.components), D(0))


# ------------------------------------------------------------------ mapper (pure)


def expense(
    amount: str = "100.00",
    *,
    expense_id: int = 9,
    currency: Any = USD,
    name: str | None = "Team lunch",
    reference_no: str | None = "EXP-9",
    note: str | None = None,
) -> Expense:
    """An expense record as reads.read_expenses returns it."""
    return Expense(
        id=expense_id,
        category_id=2,
        currency=currency,
        amount=D(amount),
        tax_ids=(),
        name=name,
        note=note,
        reference_no=reference_no,
        customer_id=0,
        payment_mode="1",
        date=date(2025, 6, 3),
        dateadded=None,
    )


def targets(tax_type: str = "NONE", rate: str = "0", **kw: Any) -> ExpenseTargets:
    """Targets of a fully mapped expense (override any field)."""
    values: dict[str, Any] = {
        "account_code": "429",
        "bank_code": "090",
        "contact": {"Name": "Perfex expenses"},
        "tax_type": tax_type,
        "tax_rate": D(rate),
        "bank_currency": "USD",
    }
    values.update(kw)
    return ExpenseTargets(**values)


@pytest.mark.parametrize(
    "rates",
    [(), ("20",), ("20", "5"), ("7.5", "2.25"), ("10", "0"), ("19.6", "5.5")],
)
def test_xero_total_equals_perfex_total_to_the_cent(rates):
    """Net plus one or two taxes on the net: Xero's total is Perfex's, no rounding."""
    combined = sum((D(r) for r in rates), D(0))
    for amount in ["0.01", "0.05", "0.50", "1.10", "10.05", "19.99", "33.33"]:
        for more in ["999.99", "1234.57", "0.10"]:
            net = D(amount) + D(more)
            m = map_expense(
                expense(str(net)), targets("TAX9", str(combined)), map(D, rates), CTX
            )
            assert m.payload is not None, m.skip
            payload = m.payload
            assert len(payload["LineItems"]) == 1
            xero = xero_document_total(payload, {"TAX9": combined, "NONE": D(0)})
            perfex = net + sum((net * D(r) / 100 for r in rates), D(0))
            assert xero == expense_total(net, map(D, rates))
            assert xero == perfex.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_rate_mapped_to_another_percentage_fails_with_both_taxes():
    """A Xero rate unlike Perfex's cannot be corrected on a bank transaction: fails."""
    m = map_expense(expense("80.00"), targets("INPUT", "19"), [D(20)], CTX)
    assert m.payload is None and m.error is not None
    assert "INPUT is 19% in Xero" in m.error and "taxes are 20%" in m.error
    assert "tax 16.00 in Perfex, 15.20 in Xero" in m.error


def test_expense_never_carries_a_tax_amount():
    """Xero refuses an overridden TaxAmount on bank transactions: none is sent."""
    for amount in ["0.05", "33.33", "10.05", "1234.57"]:
        m = map_expense(expense(amount), targets("TAX9", "25"), [D(20), D(5)], CTX)
        assert m.payload is not None
        assert all("TaxAmount" not in i for i in m.payload["LineItems"])


def test_payload_shape_reference_and_marker():
    """SPEND from the bank, Exclusive, reference number else name, marker on line."""
    m = map_expense(expense(note="<p>Receipt &amp; tip</p>"), targets(), [], CTX)
    assert m.payload is not None
    p = m.payload
    assert (p["Type"], p["Status"], p["LineAmountTypes"]) == (
        "SPEND",
        "AUTHORISED",
        "Exclusive",
    )
    assert p["BankAccount"] == {"Code": "090"} and p["CurrencyCode"] == "USD"
    assert p["Reference"] == "EXP-9" and p["Contact"] == {"Name": "Perfex expenses"}
    assert p["LineItems"][0]["Description"] == (
        "Team lunch - Receipt & tip " + expense_marker(9)
    )
    named = map_expense(expense(reference_no=None), targets(), [], CTX)
    assert named.payload is not None and named.payload["Reference"] == "Team lunch"
    bare = map_expense(expense(reference_no=" ", name=None), targets(), [], CTX, "Rent")
    assert bare.payload is not None
    assert bare.payload["Reference"] == "Perfex expense 9"
    assert bare.payload["LineItems"][0]["Description"].startswith("Rent (Perfex")


@pytest.mark.parametrize(
    ("record", "found", "words"),
    [
        (expense(), targets(account_code=None), "expense_account.2"),
        (expense(), targets(bank_code=None), "payment_account.1"),
        (expense(currency=EUR), targets(), "map payment mode 1 to a EUR bank"),
        (expense("0"), targets(), "not positive"),
        (expense(), targets(problem="customer 3 is not synced"), "customer 3"),
    ],
)
def test_unmappable_expenses_are_skipped_with_the_reason(record, found, words):
    """No account, no bank, another currency, nothing to spend: skipped, why."""
    m = map_expense(record, found, [], CTX)
    assert m.payload is None and words in (m.skip or "")


def test_expenses_run_only_when_named():
    """Registered, but not in a run that names no entities (opt-in like credits)."""
    assert "expenses" in REGISTRY
    assert "expenses" not in [u.name for u in REGISTRY.ordered(None)]


# --------------------------------------------------- end to end (SQLite, MariaDB)


@pytest.fixture
def xenv(perfex_url, tmp_path, xero_sandbox):
    """Seeded Perfex (no expenses), categories/taxes/modes/customers synced."""
    seed_demo(perfex_url, customers=3, invoices=2, seed=7)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    env.execute(env.perfex.tables.expenses.delete())
    result = env.sync(entities=PREREQUISITES)
    assert result.ok, result.failed
    yield env
    env.close()


class Perfex:
    """Ids in the seeded Perfex DB that the expenses refer to."""

    def __init__(self, env: UrlEnv) -> None:
        """Look up currencies, taxes, a linked and an unlinked category."""
        self.env = env
        with env.perfex.engine.connect() as conn:
            cur = env.perfex.tables.currencies
            self.currency = dict(conn.execute(sa.select(cur.c.name, cur.c.id)).all())
        self.tax = {t.name: t.id for t in reads.read_taxes(env.perfex)}
        linked = {k: v for k, v in env.links("expense-categories").items() if v.xero_id}
        self.category, link = sorted(linked.items())[0]
        self.account_code = link.xero_number
        categories = env.perfex.tables.expenses_categories
        self.unmapped = env.execute(
            categories.insert().values(name="Unmapped costs", description=None)
        ).inserted_primary_key[0]
        self.customer, customer_link = sorted(env.links("customers").items())[0]
        self.contact_id = customer_link.xero_id

    def add(self, amount: str, **values: Any) -> int:
        """Insert an expense (USD, linked category, mode 1, no tax) -> its id."""
        row: dict[str, Any] = {
            "category": int(self.category),
            "currency": self.currency["USD"],
            "amount": D(amount),
            "tax": None,
            "tax2": 0,
            "reference_no": None,
            "note": None,
            "expense_name": "Printer paper",
            "clientid": 0,
            "project_id": 0,
            "billable": 0,
            "invoiceid": None,
            "paymentmode": "1",
            "date": date(2025, 6, 3),
            "recurring": 0,
            "cycles": 0,
            "total_cycles": 0,
            "custom_recurring": 0,
            "create_invoice_billable": 0,
            "send_invoice_to_customer": 0,
            "dateadded": datetime(2025, 6, 3, 18, 0),
            "addedfrom": 1,
        }
        row.update(values)
        table = self.env.perfex.tables.expenses
        return int(
            self.env.execute(table.insert().values(**row)).inserted_primary_key[0]
        )


def _xero(env: UrlEnv, key: int) -> dict[str, Any]:
    """The Xero bank transaction linked to an expense."""
    link = env.link("expenses", key)
    assert link is not None and link.xero_id, link
    return env.sandbox.inject.get("BankTransactions", link.xero_id)


def _bank_writes(made: dict[str, int]) -> dict[str, int]:
    """Write calls to BankTransactions among a calls delta."""
    return {
        k: n
        for k, n in made.items()
        if k.split()[0] in ("PUT", "POST") and "BankTransactions" in k
    }


def _writes(made: dict[str, int]) -> dict[str, int]:
    """Every write call among a calls delta."""
    return {k: n for k, n in made.items() if k.split()[0] in ("PUT", "POST")}


def test_expenses_create_rerun_edit_delete(xenv):
    """Created to the cent, rerun writes nothing, edit updates, delete -> DELETED."""
    env, px = xenv, Perfex(xenv)
    env.sandbox.inject.write("Accounts", EUR_BANK)
    env.settings["payment_account.2"] = "095"
    vat, city = px.tax["VAT"], px.tax["City Tax"]
    plain = px.add("100.00", reference_no="EXP-1")
    two = px.add(
        "33.33", tax=vat, tax2=city, clientid=int(px.customer), expense_name="Lunch"
    )
    one = px.add("10.05", tax=vat, reference_no="EXP-3", note="Taxi<br />airport")
    euro = px.add("250.10", tax=vat, currency=px.currency["EUR"], paymentmode="2")
    unmapped = px.add("12.00", category=px.unmapped)
    wrong_bank = px.add("40.00", currency=px.currency["EUR"])
    result = env.sync(entities=["expenses"])
    assert result.ok, result.failed
    report = result.report("expenses")
    assert (report.created, report.skipped, report.failed) == (4, 2, 0)
    expected = {
        plain: D("100.00"),
        two: D("41.66"),  # 33.33 + 20% + 5% on the net = 41.6625
        one: D("12.06"),  # 10.05 + 2.01
        euro: D("300.12"),
    }
    for key, total in expected.items():
        sent = _xero(env, key)
        assert sent["Type"] == "SPEND" and sent["Status"] == "AUTHORISED"
        assert sent["Total"] == total, key
        assert sent["LineItems"][0]["AccountCode"] == px.account_code
        assert expense_marker(key) in sent["LineItems"][0]["Description"]
    assert _xero(env, plain)["Contact"]["Name"] == "Perfex expenses"
    assert _xero(env, plain)["Reference"] == "EXP-1"
    assert _xero(env, plain)["BankAccount"]["Code"] == "090"
    assert _xero(env, two)["Contact"]["ContactID"] == px.contact_id
    assert _xero(env, two)["Reference"] == "Lunch"
    assert _xero(env, two)["TotalTax"] == D("8.33")
    assert _xero(env, euro)["CurrencyCode"] == "EUR"
    assert _xero(env, euro)["BankAccount"]["Code"] == "095"
    skipped = env.link("expenses", unmapped)
    assert skipped.state == "skipped" and "has no Xero account" in skipped.last_error
    assert f"expense_account.{px.unmapped}" in skipped.last_error
    other = env.link("expenses", wrong_bank)
    assert other.state == "skipped" and "is in USD" in other.last_error

    before = env.calls()
    again = env.sync(entities=["expenses"])
    assert _writes(delta(before, env.calls())) == {}
    assert again.report("expenses").writes == 0
    assert again.report("expenses").unchanged == 6

    table = env.perfex.tables.expenses
    first_id = env.link("expenses", one).xero_id
    env.execute(table.update().where(table.c.id == one).values(amount=D("20.10")))
    before = env.calls()
    edited = env.sync(entities=["expenses"])
    assert edited.ok and edited.report("expenses").updated == 1
    assert sum(_bank_writes(delta(before, env.calls())).values()) == 1
    assert env.link("expenses", one).xero_id == first_id
    assert _xero(env, one)["Total"] == D("24.12")

    env.execute(table.delete().where(table.c.id == plain))
    deleted = env.sync(entities=["expenses"])
    assert deleted.ok and deleted.report("expenses").updated == 1
    link = env.link("expenses", plain)
    assert (link.state, link.last_error) == ("deleted", DELETED_IN_PERFEX)
    assert env.sandbox.inject.get("BankTransactions", link.xero_id)["Status"] == (
        "DELETED"
    )
    live = [t for t in env.xero("BankTransactions") if t["Status"] != "DELETED"]
    assert len(live) == 3
    before = env.calls()
    env.sync(entities=["expenses"])
    assert _writes(delta(before, env.calls())) == {}


def test_dry_run_makes_no_write(xenv):
    """A dry run plans SPEND payloads but writes nothing: no call, no link."""
    env, px = xenv, Perfex(xenv)
    px.add("55.00", tax=px.tax["VAT"], reference_no="EXP-D")
    px.add("12.00", category=px.unmapped)
    before = env.calls()
    result = env.sync(entities=["expenses"], dry_run=True)
    assert _writes(delta(before, env.calls())) == {}
    assert env.links("expenses") == {}
    creates = [a for a in result.planned if a.action == "create"]
    assert [a.payload["Type"] for a in creates] == ["SPEND"]
    assert creates[0].payload["Reference"] == "EXP-D"
    assert [a.reason for a in result.planned if a.action == "skip"][0].startswith(
        "expense category"
    )
    assert env.xero("BankTransactions") == []


def test_reconciled_transaction_is_locked_not_edited(xenv):
    """Reconciled in Xero: an edit or a delete locks the link with the reason."""
    env, px = xenv, Perfex(xenv)
    key = px.add("70.00", reference_no="EXP-R")
    assert env.sync(entities=["expenses"]).ok
    link = env.link("expenses", key)
    env.sandbox.inject.update("BankTransactions", link.xero_id, {"IsReconciled": True})
    table = env.perfex.tables.expenses
    env.execute(table.update().where(table.c.id == key).values(amount=D("75.00")))
    before = env.calls()
    result = env.sync(entities=["expenses"])
    assert _bank_writes(delta(before, env.calls())) == {}
    assert result.ok and result.report("expenses").blocked == 1
    link = env.link("expenses", key)
    assert (link.state, link.last_error) == ("locked", RECONCILED)
    assert _xero(env, key)["Total"] == D("70.00")
    env.execute(table.delete().where(table.c.id == key))
    before = env.calls()
    env.sync(entities=["expenses"])
    assert _bank_writes(delta(before, env.calls())) == {}
    assert env.link("expenses", key).state == "locked"


def test_crash_after_create_finds_the_transaction_again(xenv):
    """A pending link without Xero id: found by Reference and marker, not re-sent."""
    env, px = xenv, Perfex(xenv)
    key = px.add("18.00", reference_no="EXP-C")
    twin = px.add("18.00", reference_no="EXP-C")
    assert env.sync(entities=["expenses"]).ok
    ids = {env.link("expenses", k).xero_id for k in (key, twin)}
    with env.sessions() as session:
        session.execute(
            sa.update(Link)
            .where(Link.entity == "expenses")
            .values(state="pending", xero_id=None, payload_hash=None)
        )
        session.commit()
    before = env.calls()
    result = env.sync(entities=["expenses"])
    assert result.ok, result.failed
    made = _bank_writes(delta(before, env.calls()))
    assert not [k for k in made if k.startswith("PUT")], made
    assert {env.link("expenses", k).xero_id for k in (key, twin)} == ids
    assert len(env.xero("BankTransactions")) == 2


def test_tax_rate_usable_on_expenses(xenv):
    """Expenses get a rate usable on expenses; a sales-only setting fails with it."""
    env, px = xenv, Perfex(xenv)
    sales, purchases = REGION.sales_tax, REGION.purchases_tax  # UK: OUTPUT2, INPUT2
    rate = standard_rate(purchases)
    tax = next(t.id for t in reads.read_taxes(env.perfex) if t.rate == rate)
    total = (D("50.00") * (100 + rate) / 100).quantize(D("0.01"))  # UK 60, AU 55
    env.settings[f"tax_rate.{tax}"] = sales
    swapped = px.add("50.00", tax=tax, reference_no="EXP-T1")
    assert env.sync(entities=["expenses"]).ok
    line = _xero(env, swapped)["LineItems"][0]
    assert line["TaxType"] == purchases
    assert _xero(env, swapped)["Total"] == total
    env.settings[f"expense_tax_rate.{tax}"] = sales
    result = env.sync(entities=["expenses"])
    reason = dict(result.report("expenses").errors)[str(swapped)]
    assert f"expense_tax_rate.{tax} = {sales}" in reason
    assert "cannot be used on expense lines" in reason
    assert env.link("expenses", swapped).state == "failed"
    env.settings[f"expense_tax_rate.{tax}"] = purchases
    assert env.sync(entities=["expenses"]).ok
    assert _xero(env, swapped)["LineItems"][0]["TaxType"] == purchases
    assert _xero(env, swapped)["Total"] == total
