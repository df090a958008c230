"""Accounting rules of the sandbox, exercised with the real xero-python SDK."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    AccountType,
    Allocation,
    Allocations,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    CurrencyCode,
    Invoice,
    Invoices,
    Item,
    Items,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Purchase,
    TaxComponent,
    TaxRate,
    TaxRates,
)
from xero_python.exceptions import NotFoundException
from xero_python.exceptions.http_status_exceptions import BadRequestException

from pxflask.sandbox.regions import profile

from .conftest import raw_call

D = Decimal
pytestmark = pytest.mark.xero_sandbox(region="global")
"""Xero's arithmetic and rules, on the Global profile's simple 10%/20% rates."""


def _v(value):
    """An enum's value, or the value itself."""
    return getattr(value, "value", value)


def _contact(api, tenant, name="Acme Ltd", **fields):
    """Create one contact and return it."""
    return api.create_contacts(
        tenant, Contacts(contacts=[Contact(name=name, **fields)])
    ).contacts[0]


def _invoice(contact_id, lines, status="AUTHORISED", **fields):
    """An SDK invoice."""
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact_id),
        line_items=lines,
        status=status,
        date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        **fields,
    )


def _line(qty, unit, tax="OUTPUT", account="200", **fields):
    """An SDK line item."""
    return LineItem(
        description="Work",
        quantity=D(qty),
        unit_amount=D(unit),
        account_code=account,
        tax_type=tax,
        **fields,
    )


def _error_messages(exc) -> list[str]:
    """All validation messages of a summarised 400."""
    return [
        m["Message"]
        for el in exc.error_data["Elements"]
        for m in el["ValidationErrors"]
    ]


@pytest.mark.xero_sandbox(region="uk")
def test_seeded_settings(api, tenant):
    """Organisation, currencies, chart of accounts and tax rates are seeded (UK)."""
    org = api.get_organisations(tenant).organisations[0]
    assert org.base_currency == CurrencyCode.GBP
    codes = {c.code.value for c in api.get_currencies(tenant).currencies}
    assert {"USD", "EUR", "GBP", "AUD", "NZD"} <= codes
    banks = api.get_accounts(tenant, where='Type=="BANK"').accounts
    assert {a.code for a in banks} == {"090", "091"}
    assert all(a.bank_account_number for a in banks)
    rounding = api.get_accounts(tenant, where='Code=="860"').accounts[0]
    assert _v(rounding.system_account) == "ROUNDING"
    expenses = api.get_accounts(tenant, where='Class=="EXPENSE"').accounts
    assert len(expenses) > 10
    types = {t.tax_type for t in api.get_tax_rates(tenant).tax_rates}
    assert {"OUTPUT2", "INPUT2", "NONE", "ZERORATEDOUTPUT"} <= types


def test_create_tax_rate_and_account(api, tenant, xero_sandbox):
    """TaxRates get TAX001...; accounts are created one per request."""
    rate = TaxRate(
        name="Reduced 5%",
        tax_components=[TaxComponent(name="VAT", rate=D("5"), is_compound=False)],
    )
    created = api.create_tax_rates(tenant, TaxRates(tax_rates=[rate])).tax_rates[0]
    assert created.tax_type == "TAX001"
    assert created.effective_rate == D("5")
    acc = api.create_account(
        tenant, Account(code="205", name="Consulting Sales", type=AccountType.REVENUE)
    )
    assert acc.accounts[0].code == "205"
    no_tax = profile(xero_sandbox.state.tenant().region).no_tax  # NONE; AU BASEXCLUDED
    assert acc.accounts[0].tax_type == no_tax
    with pytest.raises(BadRequestException) as err:
        api.create_account(
            tenant, Account(code="205", name="Dup", type=AccountType.REVENUE)
        )
    assert "unique" in _error_messages(err.value)[0]


@pytest.mark.parametrize("summarize", [True, False])
def test_contact_batch_with_duplicate_name(api, tenant, xero_sandbox, summarize):
    """Duplicate active name fails; the valid elements are still created."""
    _contact(api, tenant, "Acme Ltd")
    batch = Contacts(
        contacts=[
            Contact(name="Good One"),
            Contact(name="acme ltd"),
            Contact(name="Good Two", contact_number="C-2"),
        ]
    )
    if summarize:
        with pytest.raises(BadRequestException) as err:
            api.create_contacts(tenant, batch)
        assert err.value.status == 400
        data = err.value.error_data
        assert data["Type"] == "ValidationException"
        assert [e["Name"] for e in data["Elements"]] == ["acme ltd"]
        assert (
            "must be unique across all active contacts" in _error_messages(err.value)[0]
        )
    else:
        result = api.create_contacts(tenant, batch, summarize_errors=False).contacts
        assert [c.status_attribute_string for c in result] == ["OK", "ERROR", "OK"]
        assert result[1].has_validation_errors is True
        assert result[1].validation_errors[0].message.startswith("The contact name")
        assert result[0].contact_id and result[2].contact_id
    names = {c["Name"] for c in xero_sandbox.inject.all("Contacts")}
    assert names == {"Acme Ltd", "Good One", "Good Two"}


def test_contact_number_unique_and_archived_names(api, tenant, xero_sandbox):
    """ContactNumber is unique across all; archived names can be reused."""
    first = _contact(api, tenant, "Old Name", contact_number="CRM-1")
    with pytest.raises(BadRequestException) as err:
        _contact(api, tenant, "Other", contact_number="CRM-1")
    assert "must be unique across all contacts" in _error_messages(err.value)[0]
    xero_sandbox.inject.archive_contact(first.contact_id)
    again = _contact(api, tenant, "Old Name")
    assert again.contact_id != first.contact_id
    assert len(api.get_contacts(tenant).contacts) == 1
    assert len(api.get_contacts(tenant, include_archived=True).contacts) == 2
    # POST upserts by ContactNumber
    updated = api.update_or_create_contacts(
        tenant,
        Contacts(
            contacts=[
                Contact(contact_number="CRM-1", name="Old Name", email_address="a@b.co")
            ]
        ),
    )
    assert updated.contacts[0].contact_id == first.contact_id


@pytest.mark.parametrize(
    ("lat", "lines", "expected"),
    [
        # (qty, unit, tax) ... → (SubTotal, TotalTax, Total)
        ("Exclusive", [("3", "33.333", "OUTPUT")], ("100.00", "10.00", "110.00")),
        ("Exclusive", [("1", "0.05", "OUTPUT")] * 3, ("0.15", "0.03", "0.18")),
        (
            "Inclusive",
            [("1", "10.00", "OUTPUT"), ("1", "10.00", "OUTPUT")],
            ("18.18", "1.82", "20.00"),
        ),
        ("Inclusive", [("1", "99.99", "OUTPUT2")], ("83.32", "16.67", "99.99")),
        ("NoTax", [("2.5", "19.99", "OUTPUT")], ("49.98", "0.00", "49.98")),
    ],
)
def test_invoice_totals_round_per_line(api, tenant, lat, lines, expected):
    """Tax is rounded per line then summed; LineAmount = qty*unit at 2 dp."""
    contact = _contact(api, tenant)
    inv = _invoice(
        contact.contact_id,
        [_line(*line) for line in lines],
        line_amount_types=LineAmountTypes(lat),
    )
    got = api.create_invoices(tenant, Invoices(invoices=[inv]), unitdp=4).invoices[0]
    assert (got.sub_total, got.total_tax, got.total) == tuple(D(x) for x in expected)
    assert got.amount_due == got.total


def test_unitdp_and_discounts(api, tenant):
    """unitdp=4 keeps 4 dp unit prices; DiscountRate/DiscountAmount per line."""
    contact = _contact(api, tenant)
    inv = _invoice(
        contact.contact_id,
        [
            _line("3", "1.2345", tax="NONE"),
            _line("2", "50", tax="NONE", discount_rate=D("10")),
            _line("1", "20", tax="NONE", discount_amount=D("2.50")),
        ],
    )
    got = api.create_invoices(tenant, Invoices(invoices=[inv]), unitdp=4).invoices[0]
    assert got.line_items[0].unit_amount == D("1.2345")
    assert [li.line_amount for li in got.line_items] == [
        D("3.70"),
        D("90.00"),
        D("17.50"),
    ]
    assert got.total == D("111.20")
    plain = api.get_invoice(tenant, got.invoice_id).invoices[0]
    assert plain.line_items[0].unit_amount == D("1.23")


def test_invoice_number_unique_and_auto(api, tenant):
    """ACCREC numbers are generated and must be unique."""
    contact = _contact(api, tenant)
    first = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact.contact_id, [_line("1", "10")])])
    ).invoices[0]
    assert first.invoice_number == "INV-0001"
    with pytest.raises(BadRequestException) as err:
        api.create_invoices(
            tenant,
            Invoices(
                invoices=[
                    _invoice(
                        contact.contact_id,
                        [_line("1", "10")],
                        invoice_number="INV-0001",
                    )
                ]
            ),
        )
    assert _error_messages(err.value) == ["Invoice # must be unique."]


def test_status_transitions(api, tenant):
    """DRAFT edits/deletes; AUTHORISED voids; VOIDED/DELETED are final."""
    contact = _contact(api, tenant)
    draft = api.create_invoices(
        tenant,
        Invoices(
            invoices=[_invoice(contact.contact_id, [_line("1", "10")], status="DRAFT")]
        ),
    ).invoices[0]
    edited = api.update_invoice(
        tenant,
        draft.invoice_id,
        Invoices(invoices=[Invoice(reference="R1", line_items=[_line("2", "10")])]),
    ).invoices[0]
    assert edited.total == D("22.00") and edited.reference == "R1"
    deleted = api.update_invoice(
        tenant, draft.invoice_id, Invoices(invoices=[Invoice(status="DELETED")])
    ).invoices[0]
    assert _v(deleted.status) == "DELETED"
    with pytest.raises(BadRequestException) as err:
        api.update_invoice(
            tenant, draft.invoice_id, Invoices(invoices=[Invoice(reference="again")])
        )
    assert "not of valid status" in _error_messages(err.value)[0]
    auth = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact.contact_id, [_line("1", "10")])])
    ).invoices[0]
    with pytest.raises(BadRequestException):
        api.update_invoice(
            tenant, auth.invoice_id, Invoices(invoices=[Invoice(status="DRAFT")])
        )
    voided = api.update_invoice(
        tenant, auth.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
    ).invoices[0]
    assert _v(voided.status) == "VOIDED"


def test_payment_rules(api, tenant, xero_sandbox):
    """Only AUTHORISED, never above AmountDue; PAID when settled; delete undoes."""
    contact = _contact(api, tenant)
    draft = api.create_invoices(
        tenant,
        Invoices(
            invoices=[_invoice(contact.contact_id, [_line("1", "100")], status="DRAFT")]
        ),
    ).invoices[0]
    pay = Payment(
        invoice=Invoice(invoice_id=draft.invoice_id),
        account=Account(code="090"),
        amount=D("10"),
        date=date(2026, 11, 2),
    )
    with pytest.raises(BadRequestException) as err:
        api.create_payment(tenant, pay)
    assert err.value.reason == "Payments can only be made against Authorised documents"
    api.update_invoice(
        tenant, draft.invoice_id, Invoices(invoices=[Invoice(status="AUTHORISED")])
    )
    with pytest.raises(BadRequestException) as err:
        api.create_payment(
            tenant,
            Payment(
                invoice=Invoice(invoice_id=draft.invoice_id),
                account=Account(code="090"),
                amount=D("110.01"),
                date=date(2026, 11, 2),
            ),
        )
    assert "exceeds the amount outstanding" in err.value.reason
    part = api.create_payment(tenant, pay).payments[0]
    inv = api.get_invoice(tenant, draft.invoice_id).invoices[0]
    assert (inv.amount_paid, inv.amount_due) == (D("10.00"), D("100.00"))
    with pytest.raises(BadRequestException) as err:  # edit blocked, void blocked
        api.update_invoice(
            tenant,
            draft.invoice_id,
            Invoices(invoices=[Invoice(line_items=[_line("1", "5")])]),
        )
    assert "payment or credit note allocated" in err.value.reason
    with pytest.raises(BadRequestException):
        api.update_invoice(
            tenant, draft.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
        )
    rest = xero_sandbox.inject.payment(draft.invoice_id, "100.00")
    paid = api.get_invoice(tenant, draft.invoice_id).invoices[0]
    assert _v(paid.status) == "PAID"
    api.delete_payment(tenant, rest["PaymentID"], PaymentDelete(status="DELETED"))
    inv = api.get_invoice(tenant, draft.invoice_id).invoices[0]
    assert _v(inv.status) == "AUTHORISED" and inv.amount_due == D("100.00")
    payments = api.get_payments(tenant, where='Status=="AUTHORISED"').payments
    assert [p.payment_id for p in payments] == [part.payment_id]


def test_multi_currency(api, tenant):
    """Foreign invoices get the fixed-table rate; unsubscribed currency fails."""
    contact = _contact(api, tenant)
    eur = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _invoice(
                    contact.contact_id,
                    [_line("1", "100")],
                    currency_code=CurrencyCode.EUR,
                )
            ]
        ),
    )
    assert eur.invoices[0].currency_rate == D("0.920000")
    own = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _invoice(
                    contact.contact_id,
                    [_line("1", "100")],
                    currency_code=CurrencyCode.GBP,
                    currency_rate=D("0.8"),
                )
            ]
        ),
    )
    assert own.invoices[0].currency_rate == D("0.800000")
    with pytest.raises(BadRequestException) as err:
        api.create_invoices(
            tenant,
            Invoices(
                invoices=[
                    _invoice(
                        contact.contact_id,
                        [_line("1", "100")],
                        currency_code=CurrencyCode.JPY,
                    )
                ]
            ),
        )
    assert "not subscribed to currency JPY" in err.value.reason


def test_credit_note_allocation(api, tenant):
    """An AUTHORISED credit note allocated to an invoice reduces AmountDue."""
    contact = _contact(api, tenant)
    inv = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact.contact_id, [_line("1", "100")])])
    ).invoices[0]
    note = api.create_credit_notes(
        tenant,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type="ACCRECCREDIT",
                    contact=Contact(contact_id=contact.contact_id),
                    status="AUTHORISED",
                    date=date(2026, 11, 3),
                    line_items=[_line("1", "30")],
                )
            ]
        ),
    ).credit_notes[0]
    assert note.credit_note_number == "CN-0001" and note.remaining_credit == D("33.00")
    alloc = Allocation(
        invoice=Invoice(invoice_id=inv.invoice_id),
        amount=D("33.00"),
        date=date(2026, 11, 3),
    )
    api.create_credit_note_allocation(
        tenant, note.credit_note_id, Allocations(allocations=[alloc])
    )
    inv = api.get_invoice(tenant, inv.invoice_id).invoices[0]
    assert inv.amount_credited == D("33.00") and inv.amount_due == D("77.00")
    note = api.get_credit_note(tenant, note.credit_note_id).credit_notes[0]
    assert _v(note.status) == "PAID" and note.remaining_credit == D("0.00")


def test_items_rules(api, tenant, xero_sandbox):
    """Item Code ≤ 30 and unique; Name ≤ 50; item defaults fill invoice lines."""
    # the SDK checks lengths client-side, so send these raw
    resp = raw_call(
        xero_sandbox, "PUT", "/Items", {"Items": [{"Code": "X" * 31, "Name": "n"}]}
    )
    assert resp.status == 400
    assert "30 characters" in resp.data.decode()
    resp = raw_call(
        xero_sandbox, "PUT", "/Items", {"Items": [{"Code": "OK", "Name": "N" * 51}]}
    )
    assert resp.status == 400
    # both requests break the spec's maxLength too: contract mode saw them
    assert len(xero_sandbox.clear_violations()) == 2
    api.create_items(tenant, Items(items=[Item(code="DUP", name="d")]))
    with pytest.raises(BadRequestException) as err:
        api.create_items(tenant, Items(items=[Item(code="dup", name="d2")]))
    assert "already exists" in err.value.reason
    item = api.create_items(
        tenant,
        Items(
            items=[
                Item(
                    code="WIDGET",
                    name="Widget",
                    sales_details=Purchase(
                        unit_price=D("12.50"), account_code="200", tax_type="OUTPUT"
                    ),
                )
            ]
        ),
    )
    assert item.items[0].sales_details.unit_price == D("12.50")
    contact = _contact(api, tenant)
    inv = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _invoice(
                    contact.contact_id, [LineItem(item_code="WIDGET", quantity=D("2"))]
                )
            ]
        ),
    )
    assert inv.invoices[0].total == D("27.50")


def test_paging_summary_ids_and_modified_since(api, tenant, xero_sandbox):
    """page/pageSize, summaryOnly, IDs (≤ 50) and If-Modified-Since."""
    contact = _contact(api, tenant)
    created = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _invoice(contact.contact_id, [_line("1", str(n + 1))]) for n in range(7)
            ]
        ),
    ).invoices
    page = api.get_invoices(tenant, page=2, page_size=3)
    assert len(page.invoices) == 3
    assert (page.pagination.page_count, page.pagination.item_count) == (3, 7)
    assert page.invoices[0].line_items  # paged responses carry lines
    assert not api.get_invoices(tenant).invoices[0].line_items  # unpaged do not
    summary = api.get_invoices(tenant, summary_only=True, page=1).invoices[0]
    assert not summary.line_items
    ids = [created[0].invoice_id, created[3].invoice_id]
    assert {i.invoice_id for i in api.get_invoices(tenant, i_ds=ids).invoices} == set(
        ids
    )
    with pytest.raises(NotFoundException):
        api.get_invoices(tenant, i_ds=[created[0].invoice_id] * 51)
    mark = datetime.now(UTC)
    xero_sandbox.advance_time(2)
    xero_sandbox.inject.update("Invoices", created[5].invoice_id, {"Reference": "X"})
    changed = api.get_invoices(tenant, if_modified_since=mark).invoices
    assert [i.invoice_id for i in changed] == [created[5].invoice_id]
    numbers = api.get_invoices(tenant, invoice_numbers=["INV-0002"]).invoices
    assert [i.invoice_number for i in numbers] == ["INV-0002"]
    statuses = api.get_invoices(tenant, statuses=["DRAFT"]).invoices
    assert statuses == []
    where = api.get_invoices(tenant, where='Total>=5.50 AND Status=="AUTHORISED"')
    assert len(where.invoices) == 3


def test_bank_transaction(api, tenant):
    """RECEIVE money into a BANK account with computed totals."""
    from xero_python.accounting import BankTransaction, BankTransactions

    contact = _contact(api, tenant)
    txn = BankTransaction(
        type="RECEIVE",
        contact=Contact(contact_id=contact.contact_id),
        bank_account=Account(code="090"),
        date=date(2026, 11, 5),
        line_items=[_line("1", "50")],
    )
    got = api.create_bank_transactions(
        tenant, BankTransactions(bank_transactions=[txn])
    ).bank_transactions[0]
    assert got.total == D("55.00") and _v(got.status) == "AUTHORISED"
    assert len(api.get_bank_transactions(tenant, page=1).bank_transactions) == 1
