"""Settings resources: Accounts and TaxRates (Organisation/Currencies are views)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..regions import profile
from ..seed import ACCOUNT_CLASS, make_account, make_tax_rate
from .common import Ctx, Invalid, Resource, new_id, opt_decimal, text

BANK_ACCOUNT_TYPES = ("BANK", "CREDITCARD", "PAYPAL")


class Accounts(Resource):
    """The chart of accounts (one account per PUT, as in Xero)."""

    name = "Accounts"
    id_field = "AccountID"
    error_flag = "HasValidationErrors"

    def _check(self, ctx: Ctx, merged: dict[str, Any], own_id: str | None) -> None:
        """Account field rules and uniqueness of Code and Name."""
        code = text(merged, "Code", 10, "Account code")
        name = text(merged, "Name", 150, "Account name")
        acc_type = merged.get("Type")
        if not name:
            raise Invalid("Please enter a name for the account.")
        if acc_type not in ACCOUNT_CLASS:
            raise Invalid(f"Account Type '{acc_type}' is not valid.")
        if acc_type != "BANK" and not code:
            raise Invalid("Please enter a code for the account.")
        if acc_type == "BANK":
            if not merged.get("BankAccountNumber"):
                raise Invalid("Bank Account Number is required for bank accounts.")
            if merged.get("BankAccountType", "BANK") not in BANK_ACCOUNT_TYPES:
                raise Invalid("BankAccountType is not valid.")
        currency = merged.get("CurrencyCode")
        if currency and currency not in ctx.tenant.currencies:
            raise Invalid(f"Organisation is not subscribed to currency {currency}")
        tax_type = merged.get("TaxType")
        if tax_type and tax_type not in ctx.tenant.table("TaxRates"):
            raise Invalid(f"The TaxType code '{tax_type}' does not exist.")
        for other in self.table(ctx).values():
            if other["AccountID"] == own_id or other["Status"] == "DELETED":
                continue
            if code and other["Code"] == code:
                raise Invalid("Please enter a unique Code.")
            if other["Name"].casefold() == name.casefold():
                raise Invalid("Please enter a unique Name.")

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new account."""
        self._check(ctx, raw, None)
        fields = {k: v for k, v in raw.items() if k != "SystemAccount"}
        record = make_account(ctx.tenant, new_id(), fields, ctx.sb.clock)
        self.table(ctx)[record["AccountID"]] = record
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Change an account (Status ARCHIVED/ACTIVE included)."""
        merged = {**record, **{k: v for k, v in raw.items() if v is not None}}
        self._check(ctx, merged, record["AccountID"])
        if merged.get("Status") not in ("ACTIVE", "ARCHIVED"):
            raise Invalid("Account Status must be ACTIVE or ARCHIVED.")
        for key in (
            "Code",
            "Name",
            "Description",
            "TaxType",
            "Status",
            "EnablePaymentsToAccount",
            "ShowInExpenseClaims",
            "BankAccountNumber",
            "ReportingCode",
        ):
            if key in raw:
                record[key] = raw[key]
        if "Type" in raw:
            record["Type"] = raw["Type"]
            record["Class"] = ACCOUNT_CLASS[raw["Type"]]
        record["UpdatedDateUTC"] = ctx.stamp()
        return record

    def in_use(self, ctx: Ctx, record: dict[str, Any]) -> bool:
        """Whether any document line or payment uses the account."""
        code = record["Code"]
        for name in ("Invoices", "CreditNotes", "BankTransactions"):
            for doc in ctx.tenant.table(name).values():
                if any(line.get("AccountCode") == code for line in doc["LineItems"]):
                    return True
        return any(
            p["AccountID"] == record["AccountID"]
            for p in ctx.tenant.table("Payments").values()
        )

    def delete(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """Delete an unused, non-system account."""
        if record.get("SystemAccount") or self.in_use(ctx, record):
            raise Invalid(
                "Cannot delete this account as it is a system account or has "
                "transactions. Archive it instead."
            )
        record["Status"] = "DELETED"
        record["UpdatedDateUTC"] = ctx.stamp()
        return record

    def visible(self, record: dict[str, Any], args: dict[str, str]) -> bool:
        """Deleted accounts are gone."""
        return record["Status"] != "DELETED"

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """An account as Xero returns it."""
        return {k: v for k, v in record.items() if v is not None}


class TaxRates(Resource):
    """Tax rates; API-created ones get TaxType TAX001, TAX002..."""

    name = "TaxRates"
    id_field = "TaxType"
    keyed_by_lower_id = False
    error_flag = "HasValidationErrors"

    def get(self, ctx: Ctx, key: str) -> dict[str, Any]:
        """A tax rate by TaxType."""
        from .common import NotFound

        record = self.table(ctx).get(key)
        if record is None:
            raise NotFound(key)
        return record

    def find_existing(
        self, ctx: Ctx, raw: dict[str, Any], method: str
    ) -> dict[str, Any] | None:
        """By TaxType, or by Name on POST."""
        if raw.get("TaxType"):
            found = self.table(ctx).get(raw["TaxType"])
            if found is None:
                raise Invalid(f"TaxType {raw['TaxType']} does not exist.")
            return found
        if method == "POST" and raw.get("Name"):
            return next(
                (r for r in self.table(ctx).values() if r["Name"] == raw["Name"]),
                None,
            )
        return None

    def _components(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        """Validate TaxComponents."""
        comps = raw.get("TaxComponents")
        if not isinstance(comps, list) or not comps:
            raise Invalid("At least one tax component is required.")
        out = []
        for comp in comps:
            if not isinstance(comp, dict) or not comp.get("Name"):
                raise Invalid("Each tax component needs a Name.")
            rate = opt_decimal(comp, "Rate")
            if rate is None or rate < 0 or rate > 100:
                raise Invalid("Tax component Rate must be between 0 and 100.")
            out.append(
                {
                    "Name": comp["Name"],
                    "Rate": rate.quantize(Decimal("0.0001")),
                    "IsCompound": bool(comp.get("IsCompound")),
                    "IsNonRecoverable": bool(comp.get("IsNonRecoverable")),
                }
            )
        return out

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new tax rate from Name + TaxComponents."""
        name = text(raw, "Name", 50, "Tax rate name")
        if not name:
            raise Invalid("Name is required.")
        if any(r["Name"] == name for r in self.table(ctx).values()):
            raise Invalid(f"A tax rate with the name {name} already exists.")
        comps = self._components(raw)
        report = _report_tax_type(ctx, raw.get("ReportTaxType"))
        tax_type = f"TAX{ctx.tenant.next_number('TAX'):03d}"
        while tax_type in self.table(ctx):
            tax_type = f"TAX{ctx.tenant.next_number('TAX'):03d}"
        record = make_tax_rate(tax_type, name, comps, report)
        self.table(ctx)[tax_type] = record
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Change components or status (ACTIVE/DELETED/ARCHIVED)."""
        status = raw.get("Status", record["Status"])
        if status not in ("ACTIVE", "DELETED", "ARCHIVED"):
            raise Invalid("Status must be ACTIVE, DELETED or ARCHIVED.")
        if "TaxComponents" in raw:
            fresh = make_tax_rate(
                record["TaxType"],
                raw.get("Name", record["Name"]),
                self._components(raw),
                raw.get("ReportTaxType", record.get("ReportTaxType")),
            )
            record.update(fresh)
        record["Status"] = status
        return record

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """A tax rate as Xero returns it."""
        return {k: v for k, v in record.items() if v is not None}


def _report_tax_type(ctx: Ctx, value: Any) -> str | None:
    """A new rate's ReportTaxType, checked against the organisation's region.

    Xero: "required only for AU, NZ & UK based organisations"; "US and Global
    versions do not support the ReportTaxType element".
    """
    region = profile(ctx.tenant.region)
    if not region.requires_report_tax_type:
        if value:
            raise Invalid(
                "ReportTaxType is not supported for this organisation's version "
                f"of Xero ({region.version})."
            )
        return None
    if not value:
        raise Invalid(
            "ReportTaxType is required when creating a tax rate for an "
            f"organisation in {region.country_code}."
        )
    if value not in region.report_tax_types:
        raise Invalid(f"ReportTaxType '{value}' is not valid for this organisation.")
    return str(value)


def organisation_view(ctx: Ctx) -> dict[str, Any]:
    """The Organisation element."""
    return dict(ctx.tenant.organisation)


def currency_views(ctx: Ctx) -> list[dict[str, Any]]:
    """The subscribed currencies."""
    from ..seed import CURRENCY_NAMES

    return [
        {"Code": code, "Description": CURRENCY_NAMES.get(code, code)}
        for code in ctx.tenant.currencies
    ]
