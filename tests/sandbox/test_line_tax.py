"""A line TaxAmount sent to the sandbox is kept as Xero keeps it (real SDK)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    BankTransaction,
    BankTransactions,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
)
from xero_python.exceptions.http_status_exceptions import BadRequestException

D = Decimal


def _messages(exc: BadRequestException) -> list[str]:
    """All validation messages of a 400."""
    return [
        m["Message"]
        for el in exc.error_data["Elements"]
        for m in el["ValidationErrors"]
    ]


@pytest.fixture
def sales(api, tenant) -> tuple[str, str, str]:
    """(contact id, a sales TaxType of 10%..20%, an expenses TaxType) to use."""
    contact = api.create_contacts(
        tenant, Contacts(contacts=[Contact(name="Line Tax Ltd")])
    ).contacts[0]
    rates = api.get_tax_rates(tenant).tax_rates
    revenue = next(
        r.tax_type
        for r in rates
        if r.can_apply_to_revenue and D("10") <= D(r.effective_rate) <= D("20")
    )
    spend = next(
        r.tax_type
        for r in rates
        if r.can_apply_to_expenses and D("10") <= D(r.effective_rate) <= D("20")
    )
    return contact.contact_id, revenue, spend


def _line(unit: str, tax_type: str, tax: str | None = None) -> LineItem:
    """One quantity-one line on account 200, with a TaxAmount when given."""
    fields = {} if tax is None else {"tax_amount": D(tax)}
    return LineItem(
        description="Work",
        quantity=D(1),
        unit_amount=D(unit),
        account_code="200",
        tax_type=tax_type,
        **fields,
    )


def _invoice(contact_id: str, lines: list[LineItem], **fields) -> Invoice:
    """An AUTHORISED ACCREC invoice."""
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact_id),
        line_items=lines,
        status="AUTHORISED",
        date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        **fields,
    )


def test_sent_tax_amount_is_kept_and_totals_follow(api, tenant, sales, xero_sandbox):
    """A TaxAmount one cent above Xero's own is kept; TotalTax and Total follow it."""
    contact, tax_type, _ = sales
    plain = api.create_invoices(
        tenant, Invoices(invoices=[_invoice(contact, [_line("25.06", tax_type)])])
    ).invoices[0]
    own = plain.line_items[0].tax_amount
    sent = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _invoice(
                    contact,
                    [
                        _line("25.06", tax_type, str(own + D("0.01"))),
                        _line("10.00", tax_type),
                    ],
                )
            ]
        ),
    ).invoices[0]
    rate = next(
        r.effective_rate
        for r in api.get_tax_rates(tenant).tax_rates
        if r.tax_type == tax_type
    )
    second = (D("10.00") * D(rate) / 100).quantize(D("0.01"))
    assert sent.line_items[0].tax_amount == own + D("0.01")
    assert sent.line_items[1].tax_amount == second
    assert sent.total_tax == own + D("0.01") + second
    assert sent.total == D("35.06") + sent.total_tax
    stored = xero_sandbox.inject.get("Invoices", sent.invoice_id)
    assert stored["TotalTax"] == sent.total_tax


def test_tax_amount_survives_an_update_without_lines(api, tenant, sales):
    """An update that sends no LineItems keeps the overridden TaxAmount."""
    contact, tax_type, _ = sales
    created = api.create_invoices(
        tenant,
        Invoices(invoices=[_invoice(contact, [_line("100.00", tax_type, "1.23")])]),
    ).invoices[0]
    updated = api.update_invoice(
        tenant,
        created.invoice_id,
        Invoices(
            invoices=[
                Invoice(
                    invoice_id=created.invoice_id,
                    reference="edited",
                    line_amount_types=LineAmountTypes.EXCLUSIVE,
                )
            ]
        ),
    ).invoices[0]
    assert updated.reference == "edited"
    assert updated.line_items[0].tax_amount == D("1.23")
    assert updated.total_tax == D("1.23") and updated.total == D("101.23")


def test_credit_note_keeps_a_sent_tax_amount(api, tenant, sales):
    """Credit notes honour TaxAmount like invoices."""
    contact, tax_type, _ = sales
    note = CreditNote(
        type="ACCRECCREDIT",
        contact=Contact(contact_id=contact),
        line_items=[_line("0.33", tax_type, "0.07")],
        status="AUTHORISED",
        date=date(2026, 11, 2),
    )
    got = api.create_credit_notes(tenant, CreditNotes(credit_notes=[note]))
    created = got.credit_notes[0]
    assert created.total_tax == D("0.07") and created.total == D("0.40")


@pytest.mark.parametrize(
    ("unit", "tax", "lat", "words"),
    [
        ("10.00", "-0.50", "Exclusive", "must have the sign of the line amount"),
        ("-10.00", "0.50", "Exclusive", "must have the sign of the line amount"),
        ("0.00", "0.01", "Exclusive", "must have the sign of the line amount"),
        ("10.00", "1.00", "NoTax", "cannot be set when amounts have no tax"),
    ],
)
def test_tax_amount_of_the_wrong_sign_or_on_no_tax_is_refused(
    api, tenant, sales, unit, tax, lat, words
):
    """A TaxAmount against the line's sign, or on a NoTax document, is refused."""
    contact, tax_type, _ = sales
    lines = [_line(unit, tax_type, tax), _line("50.00", tax_type)]
    inv = _invoice(contact, lines, line_amount_types=LineAmountTypes(lat))
    with pytest.raises(BadRequestException) as err:
        api.create_invoices(tenant, Invoices(invoices=[inv]))
    assert any(words in m for m in _messages(err.value)), _messages(err.value)


def test_bank_transaction_refuses_a_changed_tax_amount(api, tenant, sales):
    """SPEND money refuses a TaxAmount other than Xero's own (xero-node#768)."""
    contact, _, spend = sales

    def spend_money(tax: str | None) -> BankTransactions:
        line = _line("261.40", spend, tax)
        line.account_code = "429"
        return BankTransactions(
            bank_transactions=[
                BankTransaction(
                    type="SPEND",
                    contact=Contact(contact_id=contact),
                    bank_account=Account(code="090"),
                    date=date(2026, 11, 5),
                    line_items=[line],
                )
            ]
        )

    own = api.create_bank_transactions(tenant, spend_money(None))
    computed = own.bank_transactions[0].line_items[0].tax_amount
    same = api.create_bank_transactions(tenant, spend_money(str(computed)))
    assert same.bank_transactions[0].total_tax == computed
    with pytest.raises(BadRequestException) as err:
        api.create_bank_transactions(tenant, spend_money(str(computed - D("0.05"))))
    assert _messages(err.value) == [
        f"Tax amount {computed - D('0.05')} is incorrect for {spend} tax type,"
        f" should be {computed}"
    ]
