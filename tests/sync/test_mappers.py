"""Contacts, items, payments, taxes, bank accounts and expense categories."""

from __future__ import annotations

from datetime import date

from pxflask.perfex.records import Item, Payment, PaymentMode, Tax
from pxflask.sync.entities.customers.mapper import (
    contact_name,
    customer_id_from_number,
    disambiguate_name,
    map_contact,
    same_customer,
)
from pxflask.sync.entities.items.mapper import item_code, item_names, map_item
from pxflask.sync.entities.payments.mapper import map_payment
from pxflask.sync.mappers.accounts import (
    account_to_expense_category,
    account_to_payment_mode,
    legacy_payment_mode_description,
    map_payment_mode_account,
    split_bank_account_number,
)
from pxflask.sync.mappers.common import strip_html
from pxflask.sync.mappers.payment_accounts import payment_account_for
from pxflask.sync.mappers.taxes import (
    map_tax_rate,
    tax_key,
    tax_rate_name,
    tax_rate_to_perfex,
    xero_rate_key,
)

from .factories import D, customer


def test_company_contact_has_person_addresses_and_tax_number():
    """A company maps with its primary contact, both addresses and VAT number."""
    m = map_contact(customer(currency_id=2), currencies={2: "EUR"})
    p = m.payload
    assert p["Name"] == "Acme Ltd" and p["ContactNumber"] == "PX-C-3"
    assert (p["FirstName"], p["LastName"], p["EmailAddress"]) == (
        "Jane",
        "Doe",
        "jane@acme.test",
    )
    assert p["Phones"] == [
        {"PhoneType": "DEFAULT", "PhoneNumber": "+44 20 7946 0000"},
        {"PhoneType": "MOBILE", "PhoneNumber": "+44 7700 900000"},
    ]
    assert p["Addresses"] == [
        {
            "AddressType": "POBOX",
            "AddressLine1": "1 High St",
            "AddressLine2": "Floor 2",
            "City": "London",
            "PostalCode": "SW1A 1AA",
            "Country": "United Kingdom",
        },
        {
            "AddressType": "STREET",
            "AddressLine1": "Dock 4",
            "City": "Tilbury",
            "PostalCode": "SW1A 1AA",
            "Country": "United Kingdom",
        },
    ]
    assert p["TaxNumber"] == "GB123456789" and p["DefaultCurrency"] == "EUR"


def test_individual_is_named_after_the_person():
    """No company: the primary contact's name; no contact at all: 'Customer N'."""
    assert contact_name(customer(company="  ")) == "Jane Doe"
    assert contact_name(customer(company=None, with_contact=False)) == "Customer 3"


def test_base_currency_and_bad_email_are_left_out():
    """Currency 0 (base) is not sent; an invalid email is dropped with a note."""
    m = map_contact(customer(email="not-an-email"))
    assert "DefaultCurrency" not in m.payload and "EmailAddress" not in m.payload
    assert m.notes


def test_disambiguation_is_readable_and_bounded():
    """'Acme Ltd (PX-C-3)'; long names are cut so the result fits 255."""
    assert disambiguate_name("Acme Ltd", 3) == "Acme Ltd (PX-C-3)"
    long = disambiguate_name("x" * 300, 12345)
    assert len(long) == 255 and long.endswith(" (PX-C-12345)")
    assert customer_id_from_number("PX-C-12345") == 12345
    assert customer_id_from_number("ABC") is None


def test_same_customer_by_number_or_email():
    """The same customer: same ContactNumber, or same email without another id."""
    c = customer()
    assert same_customer({"ContactNumber": "PX-C-3"}, c)
    assert same_customer({"EmailAddress": "JANE@acme.test"}, c)
    assert not same_customer(
        {"ContactNumber": "PX-C-4", "EmailAddress": "jane@acme.test"}, c
    )
    assert not same_customer({"EmailAddress": "other@acme.test"}, c)


def item(item_id: int, description: str, rate: str = "10", taxes=()) -> Item:
    """A catalogue item."""
    return Item(
        id=item_id,
        description=description,
        long_description=None,
        rate=D(rate),
        unit=None,
        group_id=0,
        tax_ids=tuple(taxes),
    )


def test_item_code_is_readable_unique_and_short():
    """Slug of the description plus the id, at most 30 characters."""
    assert item_code(17, "Web design (hourly)") == "WEB-DESIGN-HOURLY-17"
    assert item_code(5, "Café crème") == "CAFE-CREME-5"
    assert item_code(9, "€€€") == "ITEM-9"
    long = item_code(123456, "A very long product description that goes on")
    assert len(long) <= 30 and long.endswith("-123456")


def test_item_names_are_unique_and_stable():
    """The oldest item keeps the plain name; clashes get ' #id'; ≤ 50 chars."""
    names = item_names([item(2, "Hosting"), item(9, "hosting"), item(1, "x" * 80)])
    assert names[2] == "Hosting" and names[9] == "hosting #9"
    assert len(names[1]) == 50


def test_item_payload_with_two_taxes():
    """SalesDetails carry price, account and the combined tax type."""
    taxes = {1: Tax(1, "VAT", D("20")), 2: Tax(2, "Eco", D("2"))}
    m = map_item(
        item(4, "Widget", "12.3456", (1, 2)),
        name="Widget",
        sales_account="200",
        taxes=taxes,
        resolve_tax=lambda key: f"{key}",
    )
    assert m.payload["SalesDetails"] == {
        "UnitPrice": D("12.3456"),
        "AccountCode": "200",
        "TaxType": str((("Eco", D("2.00")), ("VAT", D("20.00")))),
    }
    assert m.unitdp4 and m.payload["Code"] == "WIDGET-4"


def payment(mode: str | None = "1", amount: str = "50.00") -> Payment:
    """A payment of invoice 7."""
    return Payment(
        id=3,
        invoice_id=7,
        amount=D(amount),
        mode=mode,
        method=None,
        date=date(2025, 4, 3),
        daterecorded=None,
        note=None,
        transaction_id="ch_123",
    )


def test_payment_account_by_mode_gateway_or_default():
    """payment_account.<mode> first, then payment_account.default."""
    settings = {
        "payment_account.1": "090",
        "payment_account.stripe": "091",
        "payment_account.default": "099",
    }
    assert payment_account_for("1", settings) == "090"
    assert payment_account_for("stripe", settings) == "091"
    assert payment_account_for("paypal", settings) == "099"
    assert payment_account_for("paypal", {}) is None


def test_payment_payload_and_skips():
    """A payment maps to Invoice/Account/Amount/Date/Reference, or a skip reason."""
    m = map_payment(payment(), invoice_xero_id="inv-1", account_code="090")
    assert m.payload == {
        "Invoice": {"InvoiceID": "inv-1"},
        "Account": {"Code": "090"},
        "Amount": D("50.00"),
        "Date": "2025-04-03",
        "Reference": "ch_123",
    }
    unsynced = map_payment(payment(), invoice_xero_id=None, account_code="090")
    assert unsynced.skip == "invoice 7 is not synced to Xero"
    over = map_payment(
        payment(amount="60"),
        invoice_xero_id="i",
        account_code="090",
        amount_due=D("50"),
    )
    assert "above what is due" in over.skip
    nomode = map_payment(payment(mode="paypal"), invoice_xero_id="i", account_code=None)
    assert "payment_account.paypal" in nomode.skip
    voided = map_payment(
        payment(), invoice_xero_id="i", account_code="1", invoice_status="VOIDED"
    )
    assert voided.skipped


def test_tax_rate_both_ways():
    """A combined key becomes one TaxRate with a component per Perfex tax."""
    key = tax_key(
        [Tax(1, "VAT", D("20.00")), Tax(2, "Eco", D("2")), Tax(3, "VAT", D(20))]
    )
    assert key == (("Eco", D("2.00")), ("VAT", D("20.00")))
    payload = map_tax_rate(key, report_tax_type="OUTPUT")
    assert payload == {
        "Name": "Eco 2% + VAT 20%",
        "TaxComponents": [
            {"Name": "Eco", "Rate": D("2.00"), "IsCompound": False},
            {"Name": "VAT", "Rate": D("20.00"), "IsCompound": False},
        ],
        "ReportTaxType": "OUTPUT",
    }
    assert xero_rate_key(payload) == key
    assert tax_rate_name((("PST", D("9.975")),)) == "PST 9.975%"
    single = {
        "Name": "GST",
        "Status": "ACTIVE",
        "EffectiveRate": D("15.0000"),
        "TaxComponents": [{"Name": "GST", "Rate": D("15.0000")}],
    }
    assert tax_rate_to_perfex(single) == {"name": "GST", "taxrate": D("15.00")}
    assert tax_rate_to_perfex({**payload, "Status": "ACTIVE"}) is None
    assert tax_rate_to_perfex({**single, "Status": "DELETED"}) is None


def test_payment_mode_to_bank_account_and_back():
    """Bank details go to Xero's BankAccountNumber, never back into a description."""
    mode = PaymentMode(
        id=2,
        name="Barclays",
        description="Sort code 20-00-00, account number 12345678",
        active=True,
        invoices_only=False,
        expenses_only=False,
    )
    m = map_payment_mode_account(mode, currency_code="GBP")
    assert m.payload == {
        "Code": "PXPM2",
        "Name": "Barclays",
        "Type": "BANK",
        "BankAccountType": "BANK",
        "BankAccountNumber": "20000012345678",
        "CurrencyCode": "GBP",
    }
    back = account_to_payment_mode({**m.payload, "Status": "ACTIVE"})
    assert back == {"name": "Barclays", "description": "Xero bank account PXPM2"}
    assert legacy_payment_mode_description({**m.payload}) == (
        "Account number 12345678, sort code 20-00-00, Xero account PXPM2"
    )
    assert split_bank_account_number("123-456") == ("123456", None)
    bare = PaymentMode(3, "Cash", None, True, False, False)
    assert map_payment_mode_account(bare).skipped
    assert account_to_payment_mode({"Type": "REVENUE", "Name": "Sales"}) is None


def test_expense_accounts_become_categories():
    """Only active EXPENSE-class accounts become expense categories."""
    account = {
        "Code": "429",
        "Name": "General Expenses",
        "Class": "EXPENSE",
        "Status": "ACTIVE",
        "Description": "Misc",
    }
    assert account_to_expense_category(account) == {
        "name": "General Expenses",
        "description": "Xero account 429: Misc",
    }
    assert account_to_expense_category({**account, "Class": "REVENUE"}) is None


def test_strip_html():
    """nl2br'd text becomes lines, tags and entities are removed."""
    assert strip_html("a<br />b &amp; <i>c</i><p>d</p>") == "a\nb & c\nd"
    assert strip_html(None) == ""
