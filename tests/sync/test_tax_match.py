"""Which Xero rate fits a Perfex tax: the rule, without a sandbox."""

from __future__ import annotations

from decimal import Decimal as D

from pxflask.perfex.records import Tax
from pxflask.sync.mappers.tax_match import (
    EXPENSES,
    SALES,
    XeroRate,
    match,
    no_tax_choice,
    report_tax_type,
)
from pxflask.sync.mappers.taxes import tax_key


def rate(
    tax_type: str,
    name: str,
    pct: str,
    report: str | None = "OUTPUT",
    revenue: bool = True,
    expenses: bool = False,
    component: str = "VAT",
) -> XeroRate:
    """A Xero rate as Xero would send it."""
    return XeroRate.of(
        {
            "TaxType": tax_type,
            "Name": name,
            "ReportTaxType": report,
            "CanApplyToRevenue": revenue,
            "CanApplyToExpenses": expenses,
            "EffectiveRate": D(pct),
            "Status": "ACTIVE",
            "TaxComponents": [{"Name": component, "Rate": D(pct)}],
        }
    )


UK = [
    rate("INPUT2", "20% (VAT on Expenses)", "20", "INPUT", False, True),
    rate("OUTPUT2", "20% (VAT on Income)", "20"),
    rate("RROUTPUT", "5% (VAT on Income)", "5"),
    rate("ZERORATEDOUTPUT", "Zero Rated Income", "0"),
    rate("EXEMPTOUTPUT", "Exempt Income", "0", "EXEMPTOUTPUT"),
    rate("NONE", "No VAT", "0", "NONE", True, True),
    rate("ZERORATEDINPUT", "Zero Rated Expenses", "0", "INPUT", False, True),
    rate("EXEMPTINPUT", "Exempt Expenses", "0", "EXEMPTINPUT", False, True),
]
AU = [
    rate("OUTPUT", "GST on Income", "10", component="GST"),
    rate("INPUT", "GST on Expenses", "10", "INPUT", False, True, "GST"),
    rate("EXEMPTOUTPUT", "GST Free Income", "0", "EXEMPTOUTPUT", component="GST"),
    rate("EXEMPTEXPENSES", "GST Free Expenses", "0", "EXEMPTEXPENSES", False, True),
    rate("BASEXCLUDED", "BAS Excluded", "0", "BASEXCLUDED", True, True),
]


def key(name: str, pct: str):
    """The tax key of one Perfex tax."""
    return tax_key([Tax(1, name, D(pct))])


def test_vat_20_matches_the_revenue_rate_on_sales_and_the_expense_rate_on_expenses():
    """'VAT 20%' is OUTPUT2 on invoices and INPUT2 on expenses, never swapped."""
    assert match(key("VAT", "20"), UK, SALES).tax_type == "OUTPUT2"
    assert match(key("VAT", "20"), UK, EXPENSES).tax_type == "INPUT2"
    assert match(key("VAT", "20"), list(reversed(UK)), SALES).tax_type == "OUTPUT2"


def test_zero_percent_is_ambiguous_with_a_proposal_from_the_name():
    """Exempt 0% fits three UK revenue rates: a question, proposing Exempt Income."""
    choice = match(key("Exempt", "0"), UK, SALES)
    assert choice.ambiguous and choice.tax_type is None
    assert {r.tax_type for r in choice.candidates} == {
        "ZERORATEDOUTPUT",
        "EXEMPTOUTPUT",
        "NONE",
    }
    assert choice.proposal == "EXEMPTOUTPUT"
    assert match(key("Zero Rated", "0"), UK, SALES).proposal == "ZERORATEDOUTPUT"


def test_a_rate_named_as_the_perfex_tax_settles_an_ambiguity():
    """Among several same-rate candidates, the one named as the Perfex tax wins."""
    rates = [*UK, rate("TAX001", "Exempt", "0", component="Exempt")]
    assert match(key("Exempt", "0"), rates, SALES).tax_type == "TAX001"
    rates = [*UK, rate("TAX002", "Exempt Income", "0", component="Exempt Income")]
    assert match(key("Exempt Income", "0"), rates, SALES).ambiguous


def test_two_revenue_rates_of_the_same_percentage_are_ambiguous():
    """A second 20% revenue rate makes 'Sales Tax 20%' a question, not a guess."""
    rates = [*UK, rate("TAX003", "Flat 20", "20", component="Flat")]
    choice = match(key("Sales Tax", "20"), rates, SALES)
    assert choice.ambiguous
    assert {r.tax_type for r in choice.candidates} == {"OUTPUT2", "TAX003"}
    assert choice.proposal == "OUTPUT2"


def test_a_combination_without_a_rate_is_created_with_the_country_report_type():
    """VAT 20% + City Tax 5% has no 25% rate: create, OUTPUT in GB/AU/NZ only."""
    combo = tax_key([Tax(1, "VAT", D("20")), Tax(3, "City Tax", D("5"))])
    assert match(combo, UK, SALES).create
    assert [report_tax_type(c) for c in ("GB", "AU", "NZ", "US", None)] == [
        "OUTPUT",
        "OUTPUT",
        "OUTPUT",
        None,
        None,
    ]
    assert report_tax_type("au", EXPENSES) == "INPUT"


def test_lines_without_tax_use_none_or_ask_in_australia():
    """UK lines without tax use NONE; AU has none: a question proposing GST Free."""
    assert no_tax_choice(UK, SALES).tax_type == "NONE"
    assert no_tax_choice(UK, EXPENSES).tax_type == "NONE"
    sales = no_tax_choice(AU, SALES)
    assert sales.ambiguous and sales.proposal == "EXEMPTOUTPUT"
    assert {r.tax_type for r in sales.candidates} == {"EXEMPTOUTPUT", "BASEXCLUDED"}
    assert no_tax_choice(AU, EXPENSES).proposal == "EXEMPTEXPENSES"


def test_labels_show_name_rate_and_report_type():
    """The select's label: name — rate% — ReportTaxType."""
    assert UK[1].label == "20% (VAT on Income) — 20% — OUTPUT"
