"""Seed data: a demo organisation with a chart of accounts and tax rates."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from .options import TenantSeed
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

# (code, name, type, tax type, system account)
CHART: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("090", "Business Bank Account", "BANK", "NONE", None),
    ("091", "Business Savings Account", "BANK", "NONE", None),
    ("200", "Sales", "REVENUE", "OUTPUT", None),
    ("260", "Other Revenue", "REVENUE", "OUTPUT", None),
    ("270", "Interest Income", "REVENUE", "NONE", None),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", None),
    ("400", "Advertising", "OVERHEADS", "INPUT", None),
    ("404", "Bank Fees", "OVERHEADS", "NONE", None),
    ("408", "Cleaning", "OVERHEADS", "INPUT", None),
    ("412", "Consulting & Accounting", "EXPENSE", "INPUT", None),
    ("420", "Entertainment", "OVERHEADS", "NONE", None),
    ("429", "General Expenses", "OVERHEADS", "INPUT", None),
    ("433", "Insurance", "EXPENSE", "INPUT", None),
    ("445", "Light, Power, Heating", "OVERHEADS", "INPUT", None),
    ("449", "Motor Vehicle Expenses", "OVERHEADS", "INPUT", None),
    ("453", "Office Expenses", "OVERHEADS", "INPUT", None),
    ("461", "Printing & Stationery", "OVERHEADS", "INPUT", None),
    ("469", "Rent", "OVERHEADS", "INPUT", None),
    ("473", "Repairs and Maintenance", "OVERHEADS", "INPUT", None),
    ("477", "Wages and Salaries", "EXPENSE", "NONE", None),
    ("485", "Subscriptions", "OVERHEADS", "INPUT", None),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT", None),
    ("493", "Travel - National", "OVERHEADS", "INPUT", None),
    ("497", "Bank Revaluations", "OVERHEADS", "NONE", "BANKCURRENCYGAIN"),
    ("498", "Unrealised Currency Gains", "OVERHEADS", "NONE", "UNREALISEDCURRENCYGAIN"),
    ("499", "Realised Currency Gains", "OVERHEADS", "NONE", "REALISEDCURRENCYGAIN"),
    ("610", "Accounts Receivable", "CURRENT", "NONE", "DEBTORS"),
    ("620", "Prepayments", "CURRENT", "NONE", None),
    ("630", "Inventory", "INVENTORY", "NONE", None),
    ("710", "Office Equipment", "FIXED", "INPUT", None),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", "CREDITORS"),
    ("820", "Sales Tax", "CURRLIAB", "NONE", "GST"),
    ("825", "Employee Tax Payable", "CURRLIAB", "NONE", None),
    ("860", "Rounding", "CURRLIAB", "NONE", "ROUNDING"),
    ("877", "Tracking Transfers", "CURRLIAB", "NONE", "TRACKINGTRANSFERS"),
    ("880", "Owner A Drawings", "EQUITY", "NONE", None),
    ("960", "Retained Earnings", "EQUITY", "NONE", "RETAINEDEARNINGS"),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", None),
)

# (tax type, name, rate, report tax type, applies to revenue, applies to expenses)
TAX_RATES: tuple[tuple[str, str, str, str, bool, bool], ...] = (
    ("NONE", "Tax Exempt", "0", "NONE", True, True),
    ("OUTPUT", "Sales Tax on Income (10%)", "10", "OUTPUT", True, False),
    ("INPUT", "Tax on Purchases (10%)", "10", "INPUT", False, True),
    ("OUTPUT2", "Standard Rate Sales (20%)", "20", "OUTPUT", True, False),
    ("INPUT2", "Standard Rate Purchases (20%)", "20", "INPUT", False, True),
    ("EXEMPTOUTPUT", "Zero Rated Sales", "0", "OUTPUT", True, False),
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
        "CanApplyToLiabilities": expenses,
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
        "TaxType": fields.get("TaxType") or "NONE",
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
    tenant = Tenant(
        tenant_id=tenant_id,
        name=seed.name,
        base_currency=seed.base_currency,
        country_code=seed.country_code,
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
        "Version": "GLOBAL",
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
    for tax_type, name, rate, report, revenue, expenses in TAX_RATES:
        component = {
            "Name": name.split(" (")[0],
            "Rate": Decimal(rate).quantize(Decimal("0.0001")),
            "IsCompound": False,
            "IsNonRecoverable": False,
        }
        tenant.table("TaxRates")[tax_type] = make_tax_rate(
            tax_type, name, [component], report, revenue, expenses
        )
    for code, name, acc_type, tax_type, system in CHART:
        fields: dict[str, Any] = {
            "Code": code,
            "Name": name,
            "Type": acc_type,
            "TaxType": tax_type,
            "SystemAccount": system,
        }
        if acc_type == "BANK":
            fields["BankAccountNumber"] = "12100012345" + code
        account_id = seeded_id(tenant_id, "account", code)
        tenant.table("Accounts")[account_id] = make_account(
            tenant, account_id, fields, clock
        )
    return tenant
