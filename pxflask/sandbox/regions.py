"""Organisation profiles per Xero region: country, currency, tax rates and rules.

Xero behaves differently by the organisation's country (its "version"). What the
sandbox models, from Xero's API docs and its official OpenAPI spec:

- AU, NZ and UK organisations require `ReportTaxType` when a tax rate is created
  ("required only for AU, NZ & UK based organisations"); US and Global ones do not
  support it and refuse it.
- Each rate says where it applies (`CanApplyToRevenue`, `CanApplyToExpenses`, ...):
  a sales line with an expenses-only rate is refused, and the other way round.
- The standard rates differ: a UK organisation has OUTPUT2 "20% (VAT on Income)"
  and INPUT2 "20% (VAT on Expenses)"; an AU one has OUTPUT/INPUT (GST 10%) and no
  `NONE` at all (a line without GST is "GST Free" or "BAS Excluded"); NZ has
  OUTPUT2/INPUT2 at 15% (the spec's own example); a US organisation has "Tax
  Exempt" (`NONE`) and sales-tax rates per jurisdiction; the Global demo company
  keeps the simple rates the sandbox always had.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("uk", "au", "nz", "us", "global")
DEFAULT_REGION = "uk"


@dataclass(frozen=True)
class RateSeed:
    """One seeded tax rate: TaxType, name, components, report type, where it applies."""

    tax_type: str
    name: str
    components: tuple[tuple[str, str], ...]
    report_tax_type: str | None
    revenue: bool
    expenses: bool
    liabilities_only: bool = False


@dataclass(frozen=True)
class RegionProfile:
    """A Xero organisation of one region."""

    code: str
    country_code: str
    version: str
    name: str
    base_currency: str
    tax_rates: tuple[RateSeed, ...]
    sales_tax: str
    """Default TaxType of revenue accounts."""
    purchases_tax: str
    """Default TaxType of expense accounts."""
    no_tax: str
    """Default TaxType of accounts without tax (bank, equity, liabilities...)."""
    tax_account_name: str
    report_tax_types: frozenset[str] = frozenset()
    """ReportTaxTypes a new rate may carry (empty: the element is not supported)."""

    @property
    def requires_report_tax_type(self) -> bool:
        """True where creating a rate needs a ReportTaxType (AU, NZ, UK)."""
        return bool(self.report_tax_types)


def _rate(
    tax_type: str,
    name: str,
    components: tuple[tuple[str, str], ...],
    report: str | None,
    revenue: bool,
    expenses: bool,
    liabilities_only: bool = False,
) -> RateSeed:
    """A RateSeed (shorter to write in the tables below)."""
    return RateSeed(
        tax_type, name, components, report, revenue, expenses, liabilities_only
    )


VAT20 = (("VAT", "20"),)
VAT5 = (("VAT", "5"),)
VAT0 = (("VAT", "0"),)
GST10 = (("GST", "10"),)
GST15 = (("GST", "15"),)
GST0 = (("GST", "0"),)

UK = RegionProfile(
    code="uk",
    country_code="GB",
    version="UK",
    name="Demo Company (UK)",
    base_currency="GBP",
    tax_rates=(
        _rate("OUTPUT2", "20% (VAT on Income)", VAT20, "OUTPUT", True, False),
        _rate("INPUT2", "20% (VAT on Expenses)", VAT20, "INPUT", False, True),
        _rate("RROUTPUT", "5% (VAT on Income)", VAT5, "OUTPUT", True, False),
        _rate("RRINPUT", "5% (VAT on Expenses)", VAT5, "INPUT", False, True),
        _rate("ZERORATEDOUTPUT", "Zero Rated Income", VAT0, "OUTPUT", True, False),
        _rate("ZERORATEDINPUT", "Zero Rated Expenses", VAT0, "INPUT", False, True),
        _rate("EXEMPTOUTPUT", "Exempt Income", VAT0, "EXEMPTOUTPUT", True, False),
        _rate("EXEMPTINPUT", "Exempt Expenses", VAT0, "EXEMPTINPUT", False, True),
        _rate("NONE", "No VAT", VAT0, "NONE", True, True),
        _rate(
            "ECZROUTPUT", "Zero Rated EC Goods Income", VAT0, "ECOUTPUT", True, False
        ),
        _rate(
            "ECZROUTPUTSERVICES",
            "Zero Rated EC Services",
            VAT0,
            "ECOUTPUTSERVICES",
            True,
            False,
        ),
        _rate("ECACQUISITIONS", "EC Acquisitions (20%)", VAT20, "ECINPUT", False, True),
        _rate(
            "REVERSECHARGES",
            "Reverse Charge Expenses (20%)",
            VAT20,
            "REVERSECHARGES",
            False,
            True,
        ),
    ),
    sales_tax="OUTPUT2",
    purchases_tax="INPUT2",
    no_tax="NONE",
    tax_account_name="VAT",
    report_tax_types=frozenset(
        {
            "OUTPUT",
            "INPUT",
            "EXEMPTOUTPUT",
            "EXEMPTINPUT",
            "ECOUTPUT",
            "ECOUTPUTSERVICES",
            "ECINPUT",
            "ECACQUISITIONS",
            "REVERSECHARGES",
            "MOSSSALES",
            "NONE",
        }
    ),
)

AU = RegionProfile(
    code="au",
    country_code="AU",
    version="AU",
    name="Demo Company (AU)",
    base_currency="AUD",
    tax_rates=(
        _rate("OUTPUT", "GST on Income", GST10, "OUTPUT", True, False),
        _rate("INPUT", "GST on Expenses", GST10, "INPUT", False, True),
        _rate("EXEMPTOUTPUT", "GST Free Income", GST0, "EXEMPTOUTPUT", True, False),
        _rate(
            "EXEMPTEXPENSES", "GST Free Expenses", GST0, "EXEMPTEXPENSES", False, True
        ),
        _rate("EXEMPTEXPORT", "GST Free Exports", GST0, "EXEMPTEXPORT", True, False),
        _rate("BASEXCLUDED", "BAS Excluded", GST0, "BASEXCLUDED", True, True),
        _rate("INPUTTAXED", "Input Taxed", GST0, "INPUTTAXED", True, True),
        _rate("CAPEXINPUT", "GST on Capital", GST10, "CAPITALEXINPUT", False, True),
        _rate("EXEMPTCAPITAL", "GST Free Capital", GST0, "EXEMPTCAPITAL", False, True),
        _rate(
            "GSTONIMPORTS",
            "GST on Imports",
            GST0,
            "GSTONIMPORTS",
            False,
            False,
            liabilities_only=True,
        ),
    ),
    sales_tax="OUTPUT",
    purchases_tax="INPUT",
    no_tax="BASEXCLUDED",
    tax_account_name="GST",
    report_tax_types=frozenset(
        {
            "OUTPUT",
            "INPUT",
            "EXEMPTOUTPUT",
            "EXEMPTEXPENSES",
            "EXEMPTEXPORT",
            "BASEXCLUDED",
            "INPUTTAXED",
            "CAPITALEXINPUT",
            "EXEMPTCAPITAL",
            "GSTONIMPORTS",
            "GSTONCAPIMPORTS",
        }
    ),
)

NZ = RegionProfile(
    code="nz",
    country_code="NZ",
    version="NZ",
    name="Demo Company (NZ)",
    base_currency="NZD",
    tax_rates=(
        _rate("OUTPUT2", "15% GST on Income", GST15, "OUTPUT", True, False),
        _rate("INPUT2", "15% GST on Expenses", GST15, "INPUT", False, True),
        _rate("ZERORATED", "Zero Rated", GST0, "OUTPUT", True, False),
        _rate("NONE", "No GST", GST0, "NONE", True, True),
        _rate(
            "GSTONIMPORTS",
            "GST on Imports",
            GST0,
            "GSTONIMPORTS",
            False,
            False,
            liabilities_only=True,
        ),
    ),
    sales_tax="OUTPUT2",
    purchases_tax="INPUT2",
    no_tax="NONE",
    tax_account_name="GST",
    report_tax_types=frozenset(
        {"OUTPUT", "INPUT", "NONE", "GSTONIMPORTS", "EXEMPTOUTPUT", "EXEMPTINPUT"}
    ),
)

US = RegionProfile(
    code="us",
    country_code="US",
    version="US",
    name="Demo Company (US)",
    base_currency="USD",
    tax_rates=(
        _rate("NONE", "Tax Exempt", (("Tax Exempt", "0"),), "NONE", True, True),
        _rate(
            "TAX001",
            "Tax on Consulting",
            (("State Tax", "6.25"), ("City Tax", "2")),
            "OUTPUT",
            True,
            True,
        ),
        _rate(
            "TAX002",
            "Tax on Goods",
            (("State Tax", "6.25"), ("County Tax", "2.5")),
            "OUTPUT",
            True,
            True,
        ),
        _rate("INPUT", "Tax on Purchases", (("Purchases", "0"),), "INPUT", False, True),
        _rate(
            "GSTONIMPORTS",
            "Sales Tax on Imports",
            (("Imports", "0"),),
            "GSTONIMPORTS",
            False,
            False,
            liabilities_only=True,
        ),
    ),
    sales_tax="NONE",
    purchases_tax="INPUT",
    no_tax="NONE",
    tax_account_name="Sales Tax",
)

GLOBAL = RegionProfile(
    code="global",
    country_code="US",
    version="GLOBAL",
    name="Demo Company (Global)",
    base_currency="USD",
    tax_rates=(
        _rate("NONE", "Tax Exempt", (("Tax Exempt", "0"),), "NONE", True, True),
        _rate(
            "OUTPUT",
            "Sales Tax on Income (10%)",
            (("Sales Tax on Income", "10"),),
            "OUTPUT",
            True,
            False,
        ),
        _rate(
            "INPUT",
            "Tax on Purchases (10%)",
            (("Tax on Purchases", "10"),),
            "INPUT",
            False,
            True,
        ),
        _rate(
            "OUTPUT2",
            "Standard Rate Sales (20%)",
            (("Standard Rate Sales", "20"),),
            "OUTPUT",
            True,
            False,
        ),
        _rate(
            "INPUT2",
            "Standard Rate Purchases (20%)",
            (("Standard Rate Purchases", "20"),),
            "INPUT",
            False,
            True,
        ),
        _rate(
            "EXEMPTOUTPUT",
            "Zero Rated Sales",
            (("Zero Rated Sales", "0"),),
            "OUTPUT",
            True,
            False,
        ),
    ),
    sales_tax="OUTPUT",
    purchases_tax="INPUT",
    no_tax="NONE",
    tax_account_name="Sales Tax",
)

PROFILES: dict[str, RegionProfile] = {p.code: p for p in (UK, AU, NZ, US, GLOBAL)}


def profile(region: str | None) -> RegionProfile:
    """The profile of a region code (uk, au, nz, us, global); default UK."""
    code = (region or DEFAULT_REGION).strip().lower()
    if code not in PROFILES:
        raise ValueError(
            f"unknown region {region!r}: choose one of {', '.join(REGIONS)}"
        )
    return PROFILES[code]
