"""Region profiles: each organisation has its country's tax rates and rules."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from xero_python.accounting import (
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    TaxComponent,
    TaxRate,
    TaxRates,
)
from xero_python.exceptions import AccountingBadRequestException

from pxflask.sandbox.regions import PROFILES, REGIONS, profile

COUNTRIES = {"uk": "GB", "au": "AU", "nz": "NZ", "us": "US", "global": "US"}
CURRENCIES = {"uk": "GBP", "au": "AUD", "nz": "NZD", "us": "USD", "global": "USD"}


def _value(enum_or_text: object) -> str:
    """The text of an SDK enum (or the text itself)."""
    return str(getattr(enum_or_text, "value", enum_or_text))


def _rate(name: str, rate: str, report: str | None = None) -> TaxRate:
    """A one-component TaxRate model, with a ReportTaxType when given."""
    kwargs = {"report_tax_type": report} if report else {}
    return TaxRate(
        name=name,
        tax_components=[TaxComponent(name=name, rate=D(rate), is_compound=False)],
        **kwargs,
    )


def _messages(exc: AccountingBadRequestException) -> list[str]:
    """The validation messages of a 400."""
    return [
        m["Message"]
        for el in exc.error_data.get("Elements", [])
        for m in el.get("ValidationErrors", [])
    ] or [exc.error_data.get("Message", "")]


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_has_its_country_currency_and_rates(xero_sandbox, region):
    """The organisation, its base currency and its standard rates follow the region."""
    xero_sandbox.reset(region=region)
    api = xero_sandbox.accounting_api()
    tenant = xero_sandbox.tenant_id
    org = api.get_organisations(tenant).organisations[0]
    assert _value(org.country_code) == COUNTRIES[region]
    assert _value(org.base_currency) == CURRENCIES[region]
    assert _value(org.version) == profile(region).version
    rates = {r.tax_type: r for r in api.get_tax_rates(tenant).tax_rates}
    assert set(rates) == {r.tax_type for r in PROFILES[region].tax_rates}
    sales = api.get_accounts(tenant, where='Code=="200"').accounts[0]
    assert rates[sales.tax_type].can_apply_to_revenue


def test_au_has_no_none_tax_type(xero_sandbox):
    """An AU organisation has no NONE: a line sent with it is refused."""
    xero_sandbox.reset(region="au")
    api = xero_sandbox.accounting_api()
    tenant = xero_sandbox.tenant_id
    assert "NONE" not in {r.tax_type for r in api.get_tax_rates(tenant).tax_rates}
    invoice = _invoice(api, tenant, "NONE")
    with pytest.raises(AccountingBadRequestException) as err:
        api.create_invoices(tenant, Invoices(invoices=[invoice]))
    assert "The TaxType code 'NONE' does not exist" in _messages(err.value)[0]


@pytest.mark.parametrize(("region", "tax_type"), [("uk", "INPUT2"), ("nz", "INPUT2")])
def test_expenses_only_rate_is_refused_on_sales(xero_sandbox, region, tax_type):
    """A sales invoice line with a rate that cannot apply to revenue is refused."""
    xero_sandbox.reset(region=region)
    api = xero_sandbox.accounting_api()
    tenant = xero_sandbox.tenant_id
    invoice = _invoice(api, tenant, tax_type)
    with pytest.raises(AccountingBadRequestException) as err:
        api.create_invoices(tenant, Invoices(invoices=[invoice]))
    assert f"'{tax_type}' does not exist or cannot be used" in _messages(err.value)[0]


@pytest.mark.parametrize("region", ["uk", "au", "nz"])
def test_report_tax_type_is_required_in_uk_au_nz(xero_sandbox, region):
    """Creating a rate without ReportTaxType is refused; with OUTPUT it is made."""
    xero_sandbox.reset(region=region)
    api = xero_sandbox.accounting_api()
    tenant = xero_sandbox.tenant_id
    with pytest.raises(AccountingBadRequestException) as err:
        api.create_tax_rates(tenant, TaxRates(tax_rates=[_rate("Levy", "2")]))
    assert "ReportTaxType is required" in _messages(err.value)[0]
    made = api.create_tax_rates(
        tenant, TaxRates(tax_rates=[_rate("Levy", "2", "OUTPUT")])
    ).tax_rates[0]
    assert _value(made.report_tax_type) == "OUTPUT"
    assert made.can_apply_to_revenue


@pytest.mark.parametrize("region", ["us", "global"])
def test_report_tax_type_is_refused_in_us_and_global(xero_sandbox, region):
    """US and Global organisations do not support ReportTaxType on a new rate."""
    xero_sandbox.reset(region=region)
    api = xero_sandbox.accounting_api()
    tenant = xero_sandbox.tenant_id
    with pytest.raises(AccountingBadRequestException) as err:
        api.create_tax_rates(tenant, TaxRates(tax_rates=[_rate("Levy", "2", "OUTPUT")]))
    assert "not supported" in _messages(err.value)[0]
    made = api.create_tax_rates(tenant, TaxRates(tax_rates=[_rate("Levy", "2")]))
    assert made.tax_rates[0].tax_type.startswith("TAX")


def _invoice(api, tenant: str, tax_type: str) -> Invoice:
    """An authorised sales invoice of one line with the given TaxType."""
    contacts = Contacts(contacts=[Contact(name=f"Region buyer {tax_type}")])
    contact = api.create_contacts(tenant, contacts).contacts[0]
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact.contact_id),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        line_items=[
            LineItem(
                description="Work",
                quantity=D(1),
                unit_amount=D(100),
                account_code="200",
                tax_type=tax_type,
            )
        ],
        status="AUTHORISED",
    )
