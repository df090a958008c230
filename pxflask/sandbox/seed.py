"""Seed data: a demo organisation with a chart of accounts and tax rates."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from .options import TenantSeed
from .regions import RegionProfile, profile
from .state import Clock, Tenant

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound",
    "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar",
    "CAD": "Canadian Dollar",
    "JPY": "Japanese Yen",
    "CHF": "Swiss Franc",
    "ZAR": "South African Rand",
    "SGD": "Singapore Dollar",
}

# Units of each currency per 1 USD: the sandbox's fixed "XE.com day rate".
RATES_PER_USD = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "AUD": Decimal("1.52"),
    "NZD": Decimal("1.66"),
    "CAD": Decimal("1.36"),
    "JPY": Decimal("150.25"),
    "CHF": Decimal("0.88"),
    "ZAR": Decimal("18.40"),
    "SGD": Decimal("1.34"),
}

ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}

# (code, name, type, tax role (SALES/PURCHASES/NONE: the region's TaxType), system)
CHART: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("090", "Business Bank Account", "BANK", "NONE", None),
    ("091", "Business Savings Account", "BANK", "NONE", None),
    ("200", "Sales", "REVENUE", "SALES", None),
    ("260", "Other Revenue", "REVENUE", "SALES", None),
    ("270", "Interest Income", "REVENUE", "NONE", None),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "PURCHASES", None),
    ("400", "Advertising", "OVERHEADS", "PURCHASES", None),
    ("404", "Bank Fees", "OVERHEADS", "NONE", None),
    ("408", "Cleaning", "OVERHEADS", "PURCHASES", None),
    ("412", "Consulting & Accounting", "EXPENSE", "PURCHASES", None),
    ("420", "Entertainment", "OVERHEADS", "NONE", None),
    ("429", "General Expenses", "OVERHEADS", "PURCHASES", None),
    ("433", "Insurance", "EXPENSE", "PURCHASES", None),
    ("445", "Light, Power, Heating", "OVERHEADS", "PURCHASES", None),
    ("449", "Motor Vehicle Expenses", "OVERHEADS", "PURCHASES", None),
    ("453", "Office Expenses", "OVERHEADS", "PURCHASES", None),
    ("461", "Printing & Stationery", "OVERHEADS", "PURCHASES", None),
    ("469", "Rent", "OVERHEADS", "PURCHASES", None),
    ("473", "Repairs and Maintenance", "OVERHEADS", "PURCHASES", None),
    ("477", "Wages and Salaries", "EXPENSE", "NONE", None),
    ("485", "Subscriptions", "OVERHEADS", "PURCHASES", None),
    ("489", "Telephone & Internet", "OVERHEADS", "PURCHASES", None),
    ("493", "Travel - National", "OVERHEADS", "PURCHASES", None),
    ("497", "Bank Revaluations", "OVERHEADS", "NONE", "BANKCURRENCYGAIN"),
    ("498", "Unrealised Currency Gains", "OVERHEADS", "NONE", "UNREALISEDCURRENCYGAIN"),
    ("499", "Realised Currency Gains", "OVERHEADS", "NONE", "REALISEDCURRENCYGAIN"),
    ("610", "Accounts Receivable", "CURRENT", "NONE", "DEBTORS"),
    ("620", "Prepayments", "CURRENT", "NONE", None),
    ("630", "Inventory", "INVENTORY", "NONE", None),
    ("710", "Office Equipment", "FIXED", "PURCHASES", None),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", "CREDITORS"),
    ("820", "Sales Tax", "CURRLIAB", "NONE", "GST"),
    ("825", "Employee Tax Payable", "CURRLIAB", "NONE", None),
    ("860", "Rounding", "CURRLIAB", "NONE", "ROUNDING"),
    ("877", "Tracking Transfers", "CURRLIAB", "NONE", "TRACKINGTRANSFERS"),
    ("880", "Owner A Drawings", "EQUITY", "NONE", None),
    ("960", "Retained Earnings", "EQUITY", "NONE", "RETAINEDEARNINGS"),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", None),
)


def seeded_id(tenant_id: str, kind: str, key: str) -> str:
    """A deterministic UUID for a seeded record."""
    return str(uuid.uuid5(uuid.UUID(tenant_id), f"{kind}:{key}"))


def make_tax_rate(
    tax_type: str,
    name: str,
    components: list[dict[str, Any]],
    report_tax_type: str | None,
    revenue: bool = True,
    expenses: bool = True,
    liabilities: bool | None = None,
) -> dict[str, Any]:
    """A stored TaxRate record."""
    effective = sum((Decimal(str(c["Rate"])) for c in components), Decimal(0))
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report_tax_type,
        "CanApplyToAssets": expenses,
        "CanApplyToEquity": expenses,
        "CanApplyToExpenses": expenses,
        "CanApplyToLiabilities": expenses if liabilities is None else liabilities,
        "CanApplyToRevenue": revenue,
        "DisplayTaxRate": effective.quantize(Decimal("0.0001")),
        "EffectiveRate": effective.quantize(Decimal("0.0001")),
        "Status": "ACTIVE",
        "TaxComponents": components,
    }


def make_account(
    tenant: Tenant,
    account_id: str,
    fields: dict[str, Any],
    clock: Clock,
) -> dict[str, Any]:
    """A stored Account record from validated fields."""
    acc_type = fields["Type"]
    record = {
        "AccountID": account_id,
        "Code": fields.get("Code"),
        "Name": fields["Name"],
        "Type": acc_type,
        "Status": fields.get("Status") or "ACTIVE",
        "Description": fields.get("Description"),
        "TaxType": fields.get("TaxType") or profile(tenant.region).no_tax,
        "Class": ACCOUNT_CLASS.get(acc_type, "EXPENSE"),
        "EnablePaymentsToAccount": bool(fields.get("EnablePaymentsToAccount")),
        "ShowInExpenseClaims": bool(fields.get("ShowInExpenseClaims")),
        "ReportingCode": fields.get("ReportingCode"),
        "HasAttachments": False,
        "UpdatedDateUTC": clock.stamp(),
        "AddToWatchlist": False,
    }
    if fields.get("SystemAccount"):
        record["SystemAccount"] = fields["SystemAccount"]
    if acc_type == "BANK":
        record["BankAccountNumber"] = fields.get("BankAccountNumber")
        record["BankAccountType"] = fields.get("BankAccountType") or "BANK"
        record["CurrencyCode"] = fields.get("CurrencyCode") or tenant.base_currency
    return record


def seed_tenant(seed: TenantSeed, clock: Clock) -> Tenant:
    """Build one organisation with accounts, tax rates and currencies."""
    tenant_id = seed.tenant_id.lower()
    region = profile(seed.region)
    tenant = Tenant(
        tenant_id=tenant_id,
        name=seed.name,
        base_currency=seed.base_currency,
        country_code=seed.country_code,
        region=region.code,
    )
    created = clock.stamp()
    tenant.currencies = [seed.base_currency] + [
        code for code in seed.currencies if code != seed.base_currency
    ]
    tenant.organisation = {
        "OrganisationID": tenant_id,
        "APIKey": "SANDBOX" + tenant_id[:8].upper(),
        "Name": seed.name,
        "LegalName": seed.name,
        "PaysTax": True,
        "Version": region.version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": seed.base_currency,
        "CountryCode": seed.country_code,
        "IsDemoCompany": True,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 12,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": created,
        "Timezone": "UTC",
        "OrganisationEntityType": "COMPANY",
        "ShortCode": "!" + tenant_id[:5],
        "Class": "PREMIUM",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Professional services",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }
    _seed_tax_rates(tenant, region)
    roles = {
        "SALES": region.sales_tax,
        "PURCHASES": region.purchases_tax,
        "NONE": region.no_tax,
    }
    for code, name, acc_type, role, system in CHART:
        if system == "GST":
            name = region.tax_account_name
        fields: dict[str, Any] = {
            "Code": code,
            "Name": name,
            "Type": acc_type,
            "TaxType": roles[role],
            "SystemAccount": system,
        }
        if acc_type == "BANK":
            fields["BankAccountNumber"] = "12100012345" + code
        account_id = seeded_id(tenant_id, "account", code)
        tenant.table("Accounts")[account_id] = make_account(
            tenant, account_id, fields, clock
        )
    return tenant


def _seed_tax_rates(tenant: Tenant, region: RegionProfile) -> None:
    """The region's standard tax rates."""
    for rate in region.tax_rates:
        components = [
            {
                "Name": name,
                "Rate": Decimal(value).quantize(Decimal("0.0001")),
                "IsCompound": False,
                "IsNonRecoverable": False,
            }
            for name, value in rate.components
        ]
        tenant.table("TaxRates")[rate.tax_type] = make_tax_rate(
            rate.tax_type,
            rate.name,
            components,
            rate.report_tax_type,
            rate.revenue,
            rate.expenses,
            liabilities=True if rate.liabilities_only else None,
        )
