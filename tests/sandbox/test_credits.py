"""Overpayments and prepayments in the sandbox, with Xero's rules, through the SDK."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Allocation,
    Allocations,
    BankTransaction,
    BankTransactions,
    Contact,
    Invoice,
    Invoices,
    LineItem,
    Overpayment,
    Payment,
    Payments,
)
from xero_python.exceptions import NotFoundException
from xero_python.exceptions.http_status_exceptions import BadRequestException

from pxflask.sandbox.regions import REGIONS, profile

from .test_accounting import _contact, _invoice, _line, _v

D = Decimal
pytestmark = pytest.mark.xero_sandbox(region="global")
"""Sandbox rules, on the Global profile's simple rates (test_accounting helpers)."""
ON = date(2026, 11, 3)


def _receive(api, tenant, contact_id, kind, amount, lines=None):
    """A RECEIVE-OVERPAYMENT/-PREPAYMENT bank transaction; the created credit."""
    if lines is None and kind == "prepayment":
        lines = [_line("1", amount, tax="NONE")]
    tx = BankTransaction(
        type=f"RECEIVE-{kind.upper()}",
        contact=Contact(contact_id=contact_id),
        bank_account=Account(code="090"),
        date=ON,
        line_items=lines
        or [LineItem(description="Extra", quantity=D(1), unit_amount=D(amount))],
    )
    made = api.create_bank_transactions(
        tenant, BankTransactions(bank_transactions=[tx])
    ).bank_transactions[0]
    if kind == "overpayment":
        assert made.overpayment_id == made.bank_transaction_id
        return api.get_overpayment(tenant, made.overpayment_id).overpayments[0]
    assert made.prepayment_id == made.bank_transaction_id
    return api.get_prepayment(tenant, made.prepayment_id).prepayments[0]


def _allocate(api, tenant, kind, credit, invoice, amount, **kw):
    """Allocate part of an overpayment/prepayment to an invoice (the answer)."""
    body = Allocations(
        allocations=[
            Allocation(
                invoice=Invoice(invoice_id=invoice.invoice_id),
                amount=D(amount),
                date=ON,
            )
        ]
    )
    if kind == "overpayment":
        return api.create_overpayment_allocations(
            tenant, credit.overpayment_id, body, **kw
        )
    return api.create_prepayment_allocations(tenant, credit.prepayment_id, body, **kw)


def _credit(api, tenant, kind, credit):
    """The overpayment/prepayment as Xero shows it now."""
    if kind == "overpayment":
        return api.get_overpayment(tenant, credit.overpayment_id).overpayments[0]
    return api.get_prepayment(tenant, credit.prepayment_id).prepayments[0]


@pytest.fixture
def parties(api, tenant):
    """A contact with a 110.00 AUTHORISED invoice."""
    contact = _contact(api, tenant)
    invoice = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact.contact_id, [_line("1", "100")])])
    ).invoices[0]
    return contact, invoice


def test_overpayment_is_receivable_credit_without_tax(api, tenant, parties):
    """RECEIVE-OVERPAYMENT: an Overpayment, NoTax, posted to Accounts Receivable."""
    contact, _ = parties
    over = _receive(api, tenant, contact.contact_id, "overpayment", "50")
    assert _v(over.type) == "RECEIVE-OVERPAYMENT" and _v(over.status) == "AUTHORISED"
    assert (over.total, over.total_tax, over.remaining_credit) == (
        D("50.00"),
        0,
        D("50.00"),
    )
    assert _v(over.line_amount_types) == "NoTax"
    assert [line.account_code for line in over.line_items] == ["610"]


@pytest.mark.parametrize(
    "region",
    [pytest.param(r, marks=pytest.mark.xero_sandbox(region=r), id=r) for r in REGIONS],
)
def test_overpayment_line_takes_the_regions_no_tax_type(api, tenant, region):
    """Every region takes an overpayment; its line has the org's no-tax type."""
    contact = _contact(api, tenant)
    over = _receive(api, tenant, contact.contact_id, "overpayment", "50")
    assert (over.total, over.total_tax) == (D("50.00"), 0)
    assert [line.tax_type for line in over.line_items] == [profile(region).no_tax]
    assert region != "au" or over.line_items[0].tax_type == "BASEXCLUDED"


def test_prepayment_keeps_its_sales_lines_and_tax(api, tenant, parties):
    """RECEIVE-PREPAYMENT: a Prepayment whose lines are taxed like a sale."""
    contact, _ = parties
    pre = _receive(
        api, tenant, contact.contact_id, "prepayment", "", [_line("1", "30")]
    )
    assert _v(pre.type) == "RECEIVE-PREPAYMENT"
    assert (pre.total, pre.total_tax, pre.remaining_credit) == (
        D("33.00"),
        D("3.00"),
        D("33.00"),
    )


@pytest.mark.parametrize("kind", ["overpayment", "prepayment"])
def test_allocation_credits_the_invoice_and_is_no_payment(api, tenant, parties, kind):
    """Allocated: AmountCredited (not AmountPaid) grows; PAID at zero; no Payment."""
    contact, invoice = parties
    credit = _receive(api, tenant, contact.contact_id, kind, "150")
    answer = _allocate(api, tenant, kind, credit, invoice, "40.00").allocations[0]
    assert answer.amount == D("40.00")
    inv = api.get_invoice(tenant, invoice.invoice_id).invoices[0]
    assert (inv.amount_due, inv.amount_paid, inv.amount_credited) == (
        D("70.00"),
        D("0.00"),
        D("40.00"),
    )
    applied = inv.overpayments if kind == "overpayment" else inv.prepayments
    assert [a.applied_amount for a in applied] == [D("40.00")]
    _allocate(api, tenant, kind, credit, invoice, "70.00")
    inv = api.get_invoice(tenant, invoice.invoice_id).invoices[0]
    assert _v(inv.status) == "PAID" and inv.amount_due == D("0.00")
    credit = _credit(api, tenant, kind, credit)
    assert credit.remaining_credit == D("40.00") and _v(credit.status) == "AUTHORISED"
    assert [a.amount for a in credit.allocations] == [D("40.00"), D("70.00")]
    assert api.get_payments(tenant).payments in (None, [])


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("above credit", "remaining credit"),
        ("above due", "amount due"),
        ("draft invoice", "Authorised invoices"),
        ("other contact", "same contact"),
        ("zero", "greater than zero"),
    ],
)
def test_allocation_refusals(api, tenant, parties, case, words):
    """Over either remaining amount, a non-AUTHORISED invoice, another contact: 400."""
    contact, invoice = parties
    credit = _receive(api, tenant, contact.contact_id, "overpayment", "500")
    amount = "110.00"
    if case == "above credit":
        credit = _receive(api, tenant, contact.contact_id, "overpayment", "20")
        amount = "20.01"
    elif case == "above due":
        amount = "110.01"
    elif case == "draft invoice":
        invoice = api.create_invoices(
            tenant,
            Invoices(
                invoices=[_invoice(contact.contact_id, [_line("1", "5")], "DRAFT")]
            ),
        ).invoices[0]
        amount = "1.00"
    elif case == "other contact":
        other = _contact(api, tenant, name="Other Ltd")
        credit = _receive(api, tenant, other.contact_id, "overpayment", "20")
        amount = "1.00"
    elif case == "zero":
        amount = "0"
    with pytest.raises(BadRequestException) as err:
        _allocate(api, tenant, "overpayment", credit, invoice, amount)
    assert words in err.value.reason
    inv = api.get_invoice(tenant, invoice.invoice_id).invoices[0]
    assert inv.amount_credited == D("0.00")


def test_refund_is_listed_in_payments_under_invoice(api, tenant, parties):
    """A refund is an AROVERPAYMENTPAYMENT naming the overpayment as `Invoice`."""
    contact, _ = parties
    over = _receive(api, tenant, contact.contact_id, "overpayment", "50")
    api.create_payments(
        tenant,
        Payments(
            payments=[
                Payment(
                    overpayment=Overpayment(overpayment_id=over.overpayment_id),
                    account=Account(code="090"),
                    amount=D("50.00"),
                    date=ON,
                )
            ]
        ),
    )
    [refund] = api.get_payments(tenant).payments
    assert refund.payment_type == "AROVERPAYMENTPAYMENT"
    assert refund.invoice.invoice_id == over.overpayment_id
    assert _v(_credit(api, tenant, "overpayment", over).status) == "PAID"


def test_lists_page_and_filter_by_modified_since(api, tenant, parties, xero_sandbox):
    """GET /Overpayments pages; If-Modified-Since returns only later changes."""
    contact, invoice = parties
    first = _receive(api, tenant, contact.contact_id, "overpayment", "10")
    _receive(api, tenant, contact.contact_id, "overpayment", "20")
    xero_sandbox.advance_time(5)
    since = datetime.fromtimestamp(xero_sandbox.sandbox.clock.time(), tz=UTC)
    xero_sandbox.advance_time(5)
    _allocate(api, tenant, "overpayment", first, invoice, "10.00")
    page = api.get_overpayments(tenant, page=1, page_size=1)
    assert page.pagination.item_count == 2 and page.pagination.page_count == 2
    changed = api.get_overpayments(tenant, if_modified_since=since).overpayments
    assert [o.overpayment_id for o in changed] == [first.overpayment_id]
    assert api.get_prepayments(tenant).prepayments in (None, [])


def test_deleted_allocation_and_unknown_credit(api, tenant, parties):
    """DELETE an allocation gives the amounts back; unknown ids are 404."""
    contact, invoice = parties
    over = _receive(api, tenant, contact.contact_id, "overpayment", "110")
    answer = _allocate(api, tenant, "overpayment", over, invoice, "110.00")
    alloc_id = answer.allocations[0].allocation_id
    gone = api.delete_overpayment_allocations(tenant, over.overpayment_id, alloc_id)
    assert gone.is_deleted is True
    inv = api.get_invoice(tenant, invoice.invoice_id).invoices[0]
    assert _v(inv.status) == "AUTHORISED" and inv.amount_credited == D("0.00")
    with pytest.raises(NotFoundException):
        api.get_overpayment(tenant, "00000000-0000-0000-0000-000000000001")


def test_credit_allocations_respect_the_lock_date(api, tenant, parties, xero_sandbox):
    """Allocating or un-allocating a credit dated in a locked period is refused."""
    contact, invoice = parties
    over = _receive(api, tenant, contact.contact_id, "overpayment", "110")
    answer = _allocate(api, tenant, "overpayment", over, invoice, "50.00")
    alloc_id = answer.allocations[0].allocation_id
    xero_sandbox.inject.lock_dates(ON)
    try:
        with pytest.raises(BadRequestException, match="period lock date"):
            _allocate(api, tenant, "overpayment", over, invoice, "10.00")
        with pytest.raises(BadRequestException, match="period lock date"):
            api.delete_overpayment_allocations(tenant, over.overpayment_id, alloc_id)
    finally:
        xero_sandbox.inject.lock_dates()
    assert _credit(api, tenant, "overpayment", over).remaining_credit == D("60.00")
