"""Bills and spend money made in Xero become Perfex expenses (expenses_from_xero)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.models import Link, SyncCursor, SyncLog
from pxflask.perfex import reads
from pxflask.perfex.records import Expense
from pxflask.perfex.seed import seed_demo
from pxflask.sync.entities.expenses_pull.step import ENTITY, link_key
from pxflask.sync.links import PULLED_FROM_XERO
from pxflask.sync.mappers.expense_marks import expense_total
from pxflask.sync.registry import REGISTRY
from pxflask.sync.settings import InvalidSetting, defaults, validate
from tests.fixtures.sandbox import TEST_REGION

from .conftest import UrlEnv, delta

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based: its bank accounts in Xero must be USD too."""

PREREQUISITES = ["accounts", "expense-categories", "taxes", "payment-modes"]
PURCHASE_TAX = {"uk": ("INPUT2", "20"), "au": ("INPUT", "10"), "nz": ("INPUT2", "15")}
"""The region's standard tax rate on expenses, and its percentage."""
OTHER_TAX = {"uk": "RRINPUT", "au": "CAPEXINPUT", "nz": "GSTONIMPORTS"}
"""A rate on expenses no Perfex tax is mapped to."""
TAX_TYPE, RATE = PURCHASE_TAX.get(TEST_REGION, ("INPUT2", "20"))
D = Decimal


class World:
    """A seeded Perfex with its mappings synced, and a Xero supplier."""

    def __init__(self, env: UrlEnv) -> None:
        """Add a Perfex purchase tax mapped to the region's rate; switch the pull on."""
        self.env = env
        taxes = env.perfex.tables.taxes
        self.tax = int(
            env.execute(
                taxes.insert().values(name="Purchase tax", taxrate=D(RATE))
            ).inserted_primary_key[0]
        )
        env.settings[f"expense_tax_rate.{self.tax}"] = TAX_TYPE
        env.settings["expenses_from_xero"] = "yes"
        linked = {k: v for k, v in env.links("expense-categories").items() if v.xero_id}
        by_code = {v.xero_number: int(k) for k, v in linked.items()}
        self.category = by_code["429"]
        modes = env.links("payment-modes")
        self.mode = next(k for k, v in modes.items() if v.xero_number == "090")
        self.supplier = env.sandbox.inject.contact("Acme Supplies")["ContactID"]

    def bill(self, *lines: tuple[str, str, str], **fields: Any) -> dict[str, Any]:
        """An approved ACCPAY bill with (amount, account, TaxType) lines."""
        body = [
            {"Description": f"Item {i}", "Quantity": 1, "UnitAmount": a}
            | {"AccountCode": code, "TaxType": tax}
            for i, (a, code, tax) in enumerate(lines)
        ]
        fields = {"InvoiceNumber": "SUP-1", "Date": "2026-03-02", **fields}
        return self.env.sandbox.inject.invoice(
            self.supplier, body, Type="ACCPAY", **fields
        )

    def spend(
        self, amount: str, bank: str = "090", tax: str = TAX_TYPE, **fields: Any
    ) -> dict[str, Any]:
        """Spend money from a bank account, one line in account 429."""
        body = {
            "Type": "SPEND",
            "Contact": {"ContactID": self.supplier},
            "BankAccount": {"Code": bank},
            "Date": "2026-03-05",
            "Reference": "Card 4411",
            "LineItems": [
                {
                    "Description": "Taxi",
                    "Quantity": 1,
                    "UnitAmount": amount,
                    "AccountCode": "429",
                    "TaxType": tax,
                }
            ],
            **fields,
        }
        return self.env.sandbox.inject.write("BankTransactions", body)

    def expenses(self) -> list[Expense]:
        """Every Perfex expense."""
        return reads.read_expenses(self.env.perfex)

    def pull(self, **kw: Any) -> Any:
        """One run of the pull."""
        return self.env.sync(entities=[ENTITY], **kw)


@pytest.fixture
def world(perfex_url, tmp_path, xero_sandbox):
    """Seeded Perfex without expenses; categories, taxes and modes synced."""
    seed_demo(perfex_url, customers=2, invoices=2, seed=7)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    env.execute(env.perfex.tables.expenses.delete())
    result = env.sync(entities=PREREQUISITES)
    assert result.ok, result.failed
    yield World(env)
    env.close()


def perfex_total(w: World, expense: Expense) -> Decimal:
    """The expense's total as Perfex computes it."""
    rates = {t.id: t.rate for t in reads.read_taxes(w.env.perfex)}
    return expense_total(expense.amount or D(0), [rates[t] for t in expense.tax_ids])


def logs(w: World, **where: Any) -> list[SyncLog]:
    """Sync log rows of the pull matching column values."""
    with w.env.sessions() as session:
        stmt = sa.select(SyncLog).where(SyncLog.entity == ENTITY)
        for column, value in where.items():
            stmt = stmt.where(getattr(SyncLog, column) == value)
        return list(session.scalars(stmt))


# ------------------------------------------------------------------ the switch


def test_switch_is_off_by_default_and_validated():
    """Default no; yes/no (on/off) accepted; anything else refused."""
    assert defaults()["expenses_from_xero"] == "no"
    assert validate("expenses_from_xero", "ON") == "yes"
    with pytest.raises(InvalidSetting):
        validate("expenses_from_xero", "maybe")
    assert ENTITY in REGISTRY and ENTITY not in REGISTRY.default_names()


def test_switch_off_pulls_nothing_and_reads_nothing(world):
    """Off: a run of the entity neither reads Xero nor writes Perfex."""
    world.env.settings["expenses_from_xero"] = "no"
    world.bill(("100.00", "429", TAX_TYPE))
    world.spend("50.00")
    before = world.env.calls()
    result = world.pull()
    assert result.ok and result.report(ENTITY).pulled == 0
    assert delta(before, world.env.calls()) == {}
    assert world.expenses() == []


# ------------------------------------------------------------- pulling, exact


def test_bill_and_spend_money_become_expenses_to_the_cent(world):
    """Net, tax, category, mode, currency, reference: totals equal Xero's."""
    bill = world.bill(("33.33", "429", TAX_TYPE), ("10.10", "429", TAX_TYPE))
    spend = world.spend("120.00", LineAmountTypes="Inclusive")
    result = world.pull()
    assert result.ok, result.failed
    assert result.report(ENTITY).pulled == 2
    by_ref = {e.reference_no: e for e in world.expenses()}
    b, s = by_ref["SUP-1"], by_ref["Card 4411"]
    assert b.amount == D("43.43") and b.tax_ids == (world.tax,)
    assert perfex_total(world, b) == bill["Total"]
    assert b.amount + (bill["TotalTax"]) == bill["Total"]
    assert (b.category_id, b.currency.code, b.payment_mode) == (
        world.category,
        "USD",
        None,
    )
    assert b.date == date(2026, 3, 2) and b.name == "Acme Supplies"
    assert bill["InvoiceID"].lower() in (b.note or "")
    assert s.amount == spend["SubTotal"] and s.amount == D("120.00") - spend["TotalTax"]
    assert perfex_total(world, s) == spend["Total"] == D("120.00")
    assert s.payment_mode == world.mode and s.tax_ids == (world.tax,)
    link = world.env.link(ENTITY, link_key("bill", bill["InvoiceID"]))
    assert link.state == "synced" and link.xero_number == str(b.id)
    pushed = world.env.link("expenses", s.id)
    assert pushed.idempotency_key == PULLED_FROM_XERO
    assert pushed.xero_id == spend["BankTransactionID"]
    assert world.env.link("expenses", b.id).idempotency_key == PULLED_FROM_XERO


def test_rerun_writes_nothing_and_the_push_sends_nothing_back(world):
    """Second pull: no Perfex write; the expenses push afterwards: no Xero write."""
    world.bill(("80.00", "429", TAX_TYPE))
    world.spend("19.99")
    assert world.pull().report(ENTITY).pulled == 2
    rows = world.expenses()
    before = world.env.calls()
    again = world.pull()
    assert again.ok and again.report(ENTITY).pulled == 0
    assert again.report(ENTITY).unchanged == 2
    made = delta(before, world.env.calls())
    assert made == {"GET /Invoices": 1, "GET /BankTransactions": 1}, made
    assert world.expenses() == rows
    writes = world.env.writes()
    pushed = world.env.sync(entities=["expenses"])
    assert pushed.ok, pushed.failed
    assert pushed.report("expenses").writes == 0
    assert world.env.writes() == writes
    assert len(world.env.xero("BankTransactions")) == 1


def test_dry_run_lists_the_expenses_and_writes_nothing(world):
    """Dry run: the planned rows, no Perfex row, no link, no cursor, no log."""
    world.bill(("80.00", "429", TAX_TYPE))
    result = world.pull(dry_run=True)
    [action] = [a for a in result.planned if a.entity == ENTITY]
    assert action.action == "pull" and action.payload is not None
    assert action.payload["amount"] == D("80.00")
    assert action.payload["tax"] == world.tax
    assert action.reason == (
        f"expense (SUP-1): net 80.00, tax {world.tax}, category {world.category},"
        " on 2026-03-02"
    )
    assert world.expenses() == []
    assert world.env.links(ENTITY) == {} and logs(world) == []
    with world.env.sessions() as session:
        names = set(session.scalars(sa.select(SyncCursor.name)))
    assert not names & {"xero.bills.modified", "xero.spend-money.modified"}
    assert world.pull().report(ENTITY).pulled == 1


# --------------------------------------------------------------- never ours


def test_spend_money_the_push_made_is_never_pulled(world):
    """A Perfex expense pushed to Xero: not pulled back, even without its link."""
    table = world.env.perfex.tables.expenses
    world.env.execute(
        table.insert().values(
            category=world.category,
            currency=reads.base_currency(world.env.perfex).id,
            amount=D("42.00"),
            tax=None,
            tax2=0,
            expense_name="Printer paper",
            clientid=0,
            project_id=0,
            paymentmode=world.mode,
            date=date(2026, 3, 1),
            recurring=0,
            cycles=0,
            total_cycles=0,
            custom_recurring=0,
            send_invoice_to_customer=0,
            dateadded=date(2026, 3, 1),
            addedfrom=1,
        )
    )
    assert world.env.sync(entities=["expenses"]).report("expenses").created == 1
    assert world.pull().report(ENTITY).pulled == 0
    with world.env.sessions() as session:  # links lost (a reset): the line marker
        session.execute(sa.delete(Link).where(Link.entity == "expenses"))
        session.commit()
    again = world.pull(full=True)
    assert again.report(ENTITY).pulled == 0 and again.report(ENTITY).failed == 0
    assert len(world.expenses()) == 1


# ------------------------------------------------- refusals, each on its own


def test_unmapped_account_tax_bank_and_split_bills_fail_alone(world):
    """Each problem names its fix; the good bill is pulled in the same run."""
    other_bank = {"Code": "777", "Name": "Company card", "Type": "BANK"}
    world.env.sandbox.inject.write(
        "Accounts", {**other_bank, "BankAccountNumber": "87654321"}
    )
    good = world.bill(("20.00", "429", TAX_TYPE), InvoiceNumber="GOOD")
    world.bill(("20.00", "429", OTHER_TAX[TEST_REGION]), InvoiceNumber="TAX")
    world.bill(("20.00", "710", TAX_TYPE), InvoiceNumber="ACCOUNT")
    world.bill(
        ("20.00", "429", TAX_TYPE), ("5.00", "400", TAX_TYPE), InvoiceNumber="SPLIT"
    )
    world.spend("30.00", bank="777")
    result = world.pull()
    report = result.report(ENTITY)
    assert (report.pulled, report.failed, report.skipped) == (1, 3, 1)
    errors = " | ".join(e for _, e in report.errors)
    assert f"Xero tax rate {OTHER_TAX[TEST_REGION]}" in errors
    assert "expense_tax_rate.<perfex tax id>" in errors
    assert "Xero account 710 has no Perfex expense category" in errors
    assert "Xero bank account 777 has no Perfex payment mode" in errors
    [split] = [a for a in report.planned if a.action == "skip"]
    assert "lines in 2 accounts (400, 429)" in (split.reason or "")
    assert [e.reference_no for e in world.expenses()] == ["GOOD"]
    assert good["InvoiceID"]
    again = world.pull()
    assert again.report(ENTITY).failed == 3 and again.report(ENTITY).pulled == 0
    assert len(logs(world, outcome="failed")) == 3  # logged once per reason
    world.env.settings["payment_account.1"] = "777"
    fixed = world.pull()
    assert fixed.report(ENTITY).pulled == 1 and fixed.report(ENTITY).failed == 2
    assert {e.reference_no for e in world.expenses()} == {"GOOD", "Card 4411"}


def test_per_line_rounding_unlike_perfex_is_refused(world):
    """Xero rounds tax per line, Perfex once: when totals differ, not pulled."""
    rate = D(RATE) / 100
    cent = D("0.01")
    amount = next(
        a
        for a in (D(n) / 100 for n in range(1, 100))
        if 2 * (a * rate).quantize(cent, ROUND_HALF_UP)
        != (2 * a * rate).quantize(cent, ROUND_HALF_UP)
    )
    bill = world.bill((str(amount), "429", TAX_TYPE), (str(amount), "429", TAX_TYPE))
    assert expense_total(bill["SubTotal"], [D(RATE)]) != bill["Total"]
    report = world.pull().report(ENTITY)
    assert report.pulled == 0 and report.skipped == 1
    assert "Perfex would total" in report.planned[0].reason
    assert world.expenses() == []


def test_bill_edited_in_xero_rewrites_its_expense(world):
    """Changed in Xero after the pull: the same Perfex expense gets the change."""
    bill = world.bill(("80.00", "429", TAX_TYPE))
    world.pull()
    [before] = world.expenses()
    lines = [
        {
            "Description": "Item 0",
            "Quantity": 1,
            "UnitAmount": "90.00",
            "AccountCode": "429",
            "TaxType": TAX_TYPE,
        }
    ]
    world.env.sandbox.inject.update("Invoices", bill["InvoiceID"], {"LineItems": lines})
    result = world.pull()
    assert result.report(ENTITY).pulled == 1
    [after] = world.expenses()
    assert after.id == before.id and after.amount == D("90.00")


def test_a_pull_killed_after_the_insert_never_makes_a_second_expense(world):
    """Insert done, links not: the push leaves it alone, the next pull links it."""
    bill = world.bill(("80.00", "429", TAX_TYPE))
    assert world.pull().report(ENTITY).pulled == 1
    [row] = world.expenses()
    key = link_key("bill", bill["InvoiceID"])
    with world.env.sessions() as session:  # as a worker killed after the INSERT
        session.execute(sa.delete(Link).where(Link.entity == "expenses"))
        session.execute(
            sa.update(Link)
            .where(Link.entity == ENTITY, Link.perfex_key == key)
            .values(state="pending", xero_number=None, payload_hash=None)
        )
        session.commit()
    writes = world.env.writes()
    pushed = world.env.sync(entities=["expenses"])
    assert pushed.ok and pushed.report("expenses").writes == 0
    assert world.env.writes() == writes
    world.pull(full=True)
    assert world.expenses() == [row]
    link = world.env.link(ENTITY, key)
    assert (link.state, link.xero_number) == ("synced", str(row.id))
    assert world.env.link("expenses", row.id).idempotency_key == PULLED_FROM_XERO
    messages = [e.message or "" for e in logs(world, perfex_key=key)]
    assert any(m.startswith("found after a crash") for m in messages), messages
    again = world.pull(full=True)
    assert again.report(ENTITY).pulled == 0 and world.expenses() == [row]


def test_retry_of_a_failed_document_runs_the_pull(world):
    """A retry targeted at the failed link's key reads it again and pulls it."""
    other = OTHER_TAX[TEST_REGION]
    bill = world.bill(("20.00", "429", other), InvoiceNumber="TAX")
    assert world.pull().report(ENTITY).failed == 1
    [rate] = [
        r for r in world.env.sandbox.inject.all("TaxRates") if r["TaxType"] == other
    ]
    taxes = world.env.perfex.tables.taxes
    added = world.env.execute(
        taxes.insert().values(name="Other", taxrate=D(str(rate["EffectiveRate"])))
    ).inserted_primary_key[0]
    world.env.settings[f"expense_tax_rate.{added}"] = other
    key = link_key("bill", bill["InvoiceID"])
    retried = world.env.sync(record_keys={ENTITY: [key]})
    assert retried.ok, retried.failed
    assert retried.report(ENTITY).pulled == 1
    [row] = world.expenses()
    assert row.tax_ids == (added,) and perfex_total(world, row) == bill["Total"]
