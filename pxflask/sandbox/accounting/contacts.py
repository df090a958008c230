"""Contacts: unique active names, unique contact numbers, archiving."""

from __future__ import annotations

from typing import Any

from .common import Ctx, Invalid, Resource, new_id, text

COPIED = (
    "FirstName",
    "LastName",
    "CompanyNumber",
    "AccountNumber",
    "BankAccountDetails",
    "TaxNumber",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "DefaultCurrency",
    "SalesDefaultAccountCode",
    "PurchasesDefaultAccountCode",
    "Addresses",
    "Phones",
    "ContactPersons",
    "PaymentTerms",
)
STATUSES = ("ACTIVE", "ARCHIVED", "GDPRREQUEST")


def _key(name: str) -> str:
    """Comparison form of a contact name."""
    return " ".join(name.split()).casefold()


def _active_name(record: dict[str, Any]) -> str | None:
    """Index key: the comparison form of an active contact's name."""
    if record.get("ContactStatus") != "ACTIVE":
        return None
    name = record.get("Name")
    return _key(name) if isinstance(name, str) else None


def _number(record: dict[str, Any]) -> Any:
    """Index key: the ContactNumber (None when empty)."""
    return record.get("ContactNumber") or None


class Contacts(Resource):
    """The Contacts collection."""

    name = "Contacts"
    batched = True
    id_field = "ContactID"
    error_flag = "HasValidationErrors"
    category = "CONTACT"

    def find_existing(
        self, ctx: Ctx, raw: dict[str, Any], method: str
    ) -> dict[str, Any] | None:
        """By ContactID, or (POST) by ContactNumber."""
        found = super().find_existing(ctx, raw, method)
        if found is None and method == "POST" and raw.get("ContactNumber"):
            found = self.by_number(ctx, raw["ContactNumber"])
        return found

    def by_number(self, ctx: Ctx, number: str) -> dict[str, Any] | None:
        """A contact by ContactNumber."""
        return self.table(ctx).find("number", _number, number)

    def by_name(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        """An active contact by name."""
        return self.table(ctx).find("active_name", _active_name, _key(name))

    def _validate(self, ctx: Ctx, merged: dict[str, Any], own_id: str | None) -> None:
        """Field rules and uniqueness."""
        name = text(merged, "Name", 255, "Contact name")
        if not name or not name.strip():
            raise Invalid("The contact name must be specified.")
        status = merged.get("ContactStatus") or "ACTIVE"
        if status not in STATUSES:
            raise Invalid(f"ContactStatus '{status}' is not valid.")
        text(merged, "ContactNumber", 50, "Contact number")
        text(merged, "EmailAddress", 255, "Email address")
        email = merged.get("EmailAddress")
        if email and ("@" not in email or "." not in email.split("@")[-1]):
            raise Invalid("Email address must be valid.")
        errors = []
        if status == "ACTIVE":
            other = self.by_name(ctx, name)
            if other is not None and other["ContactID"] != own_id:
                errors.append(
                    f"The contact name {name} is already assigned to another "
                    "contact. The contact name must be unique across all active "
                    "contacts."
                )
        number = merged.get("ContactNumber")
        if number:
            other = self.by_number(ctx, number)
            if other is not None and other["ContactID"] != own_id:
                errors.append(
                    f"The contact number {number} is already assigned to another "
                    "contact. The contact number must be unique across all "
                    "contacts."
                )
        if errors:
            raise Invalid(*errors)

    def _apply(self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]) -> None:
        """Copy accepted fields into the record."""
        for key in ("Name", "ContactNumber", "EmailAddress", "ContactStatus", *COPIED):
            if key in raw:
                record[key] = raw[key]
        for flag in ("IsCustomer", "IsSupplier"):
            if raw.get(flag):
                record[flag] = True
        record["UpdatedDateUTC"] = ctx.stamp()

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new contact."""
        self._validate(ctx, raw, None)
        record: dict[str, Any] = {
            "ContactID": new_id(),
            "ContactStatus": "ACTIVE",
            "IsCustomer": False,
            "IsSupplier": False,
        }
        self._apply(ctx, record, raw)
        self.table(ctx)[record["ContactID"]] = record
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Change a contact (name uniqueness re-checked)."""
        merged = {**record, **{k: v for k, v in raw.items() if v is not None}}
        self._validate(ctx, merged, record["ContactID"])
        self._apply(ctx, record, raw)
        self.table(ctx).reindex(record["ContactID"])
        return record

    def visible(self, record: dict[str, Any], args: dict[str, str]) -> bool:
        """Archived contacts only with includeArchived=true."""
        if record["ContactStatus"] == "ACTIVE":
            return True
        return args.get("includeArchived", "").lower() == "true"

    def list_filter(
        self, records: list[dict[str, Any]], args: dict[str, str]
    ) -> list[dict[str, Any]]:
        """searchTerm over name, number and email."""
        term = (args.get("searchTerm") or "").casefold()
        if not term:
            return records
        return [
            v
            for v in records
            if any(
                term in str(v.get(k) or "").casefold()
                for k in (
                    "Name",
                    "FirstName",
                    "LastName",
                    "ContactNumber",
                    "EmailAddress",
                )
            )
        ]

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """A contact as Xero returns it."""
        out: dict[str, Any] = {
            "ContactID": record["ContactID"],
            "ContactStatus": record["ContactStatus"],
            "Name": record["Name"],
        }
        for key in ("ContactNumber", "EmailAddress", *COPIED):
            if record.get(key) is not None:
                out[key] = record[key]
        out.setdefault("Addresses", [])
        out.setdefault("Phones", [])
        out.update(
            UpdatedDateUTC=record["UpdatedDateUTC"],
            ContactGroups=[],
            IsSupplier=record["IsSupplier"],
            IsCustomer=record["IsCustomer"],
            ContactPersons=record.get("ContactPersons") or [],
            HasAttachments=False,
            HasValidationErrors=False,
        )
        return out

    def summarise(self, view: dict[str, Any]) -> dict[str, Any]:
        """summaryOnly drops addresses, phones and persons."""
        return {
            k: v
            for k, v in view.items()
            if k
            not in (
                "Addresses",
                "Phones",
                "ContactPersons",
                "ContactGroups",
                "PaymentTerms",
            )
        }
