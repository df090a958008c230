"""Bills (ACCPAY) and spend money as the expenses pull reads them from Xero."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from xero_python.accounting import (
    Account,
    BankTransaction,
    BankTransactions,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineItem,
)

D = Decimal


def _supplier(api, tenant) -> str:
    """A new supplier contact's id."""
    made = api.create_contacts(tenant, Contacts(contacts=[Contact(name="Paper Co")]))
    return made.contacts[0].contact_id


def _line(amount: str) -> LineItem:
    """One expense line in account 429 (the account's default tax)."""
    return LineItem(
        description="Paper", quantity=D(1), unit_amount=D(amount), account_code="429"
    )


def _bill(contact_id: str, number: str, amount: str, **fields) -> Invoice:
    """An approved ACCPAY bill."""
    return Invoice(
        type="ACCPAY",
        contact=Contact(contact_id=contact_id),
        line_items=[_line(amount)],
        status="AUTHORISED",
        date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        invoice_number=number,
        **fields,
    )


def test_a_bills_reference_is_its_number_and_may_repeat(api, tenant):
    """ACCPAY: Reference is ACCREC only (ignored); InvoiceNumber need not be unique."""
    supplier = _supplier(api, tenant)
    made = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _bill(supplier, "SUP-9", "10.00", reference="ignored on bills"),
                _bill(supplier, "SUP-9", "12.00"),
            ]
        ),
    ).invoices
    assert [b.invoice_number for b in made] == ["SUP-9", "SUP-9"]
    read = api.get_invoices(tenant, i_ds=[b.invoice_id for b in made], page=1)
    assert all(not b.reference for b in read.invoices)


def test_bills_and_spend_money_changed_since_by_type(api, tenant, xero_sandbox):
    """If-Modified-Since with where Type==…: only the changed bills / spend money."""
    supplier = _supplier(api, tenant)
    old = api.create_invoices(
        tenant, Invoices(invoices=[_bill(supplier, "OLD", "5.00")])
    ).invoices[0]
    bank = api.get_accounts(tenant, where='Code=="090"').accounts[0]
    spend = BankTransaction(
        type="SPEND",
        contact=Contact(contact_id=supplier),
        bank_account=Account(code="090"),
        line_items=[_line("7.00")],
    )
    first = api.create_bank_transactions(
        tenant, BankTransactions(bank_transactions=[spend])
    ).bank_transactions[0]
    mark = datetime.now(UTC)
    xero_sandbox.advance_time(2)
    new = api.create_invoices(
        tenant, Invoices(invoices=[_bill(supplier, "NEW", "6.00")])
    ).invoices[0]
    second = api.create_bank_transactions(
        tenant, BankTransactions(bank_transactions=[spend])
    ).bank_transactions[0]
    bills = api.get_invoices(
        tenant, if_modified_since=mark, where='Type=="ACCPAY"', page=1
    ).invoices
    assert [b.invoice_id for b in bills] == [new.invoice_id]
    assert bills[0].line_items and bills[0].line_items[0].account_code == "429"
    assert old.invoice_id not in {b.invoice_id for b in bills}
    spent = api.get_bank_transactions(
        tenant, if_modified_since=mark, where='Type=="SPEND"', page=1
    ).bank_transactions
    assert [t.bank_transaction_id for t in spent] == [second.bank_transaction_id]
    assert spent[0].bank_account.account_id == bank.account_id
    assert first.bank_transaction_id != second.bank_transaction_id
    assert spent[0].line_items and spent[0].total == D("7.00") + spent[0].total_tax
