"""Invoices and credit notes: numbering, currencies, statuses and amounts due."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from ..seed import RATES_PER_USD
from ..serialize import iso_utc, quantize
from .common import (
    Ctx,
    Invalid,
    NotFound,
    Resource,
    add_date,
    contact_brief,
    new_id,
    opt_date,
    opt_decimal,
    text,
)
from .contacts import Contacts
from .lines import SALES_TYPES, build_lines, line_views, stored_lines_as_raw
from .lockdates import check_open

EDITABLE = ("DRAFT", "SUBMITTED")
REFERENCE_TYPES = ("ACCREC", "ACCRECCREDIT")
"""Types whose `Reference` Xero keeps ("ACCREC only"; a bill's is its InvoiceNumber)."""
SAFE_WHEN_ALLOCATED = (
    "Reference",
    "DueDate",
    "ExpectedPaymentDate",
    "PlannedPaymentDate",
    "SentToContact",
    "Url",
    "Status",
)
NOT_VALID_STATUS = "{label} not of valid status for modification"
ALLOCATED = (
    "This document cannot be edited as it has a payment or credit note allocated to it."
)


def default_rate(base: str, currency: str) -> Decimal:
    """The sandbox's fixed day rate: units of currency per 1 base unit."""
    if currency == base:
        return Decimal("1.000000")
    rate = RATES_PER_USD[currency] / RATES_PER_USD[base]
    return quantize(rate, 6)


def resolve_contact(ctx: Ctx, raw: Any, sales: bool) -> dict[str, Any]:
    """The contact a document refers to; unknown names create a contact."""
    contacts = Contacts()
    if not isinstance(raw, dict) or not raw:
        raise Invalid("A Contact must be specified for this type of transaction")
    found = None
    if raw.get("ContactID"):
        found = contacts.table(ctx).get(str(raw["ContactID"]).lower())
        if found is None:
            raise Invalid(
                f"The contact with ContactID {raw['ContactID']} was not found."
            )
    elif raw.get("ContactNumber"):
        found = contacts.by_number(ctx, raw["ContactNumber"])
        if found is None and not raw.get("Name"):
            raise Invalid(f"Contact number {raw['ContactNumber']} was not found.")
    if found is None and raw.get("Name"):
        found = contacts.by_name(ctx, raw["Name"])
        if found is None:
            found = contacts.write(
                ctx,
                {
                    "Name": raw["Name"],
                    **{
                        k: raw[k]
                        for k in ("ContactNumber", "EmailAddress")
                        if raw.get(k)
                    },
                },
                "PUT",
            )
    if found is None:
        raise Invalid("A Contact must be specified for this type of transaction")
    if found["ContactStatus"] != "ACTIVE":
        raise Invalid(f"The contact {found['Name']} is archived and cannot be used.")
    flag = "IsCustomer" if sales else "IsSupplier"
    if not found.get(flag):
        found[flag] = True
    return found


class Document(Resource):
    """Shared logic of Invoices and CreditNotes."""

    batched = True

    types: ClassVar[tuple[str, ...]] = ()
    number_field: ClassVar[str] = ""
    numbered_type: ClassVar[str] = ""
    prefix: ClassVar[str] = ""
    label: ClassVar[str] = ""
    create_statuses: ClassVar[tuple[str, ...]] = ("DRAFT", "SUBMITTED", "AUTHORISED")
    posts: ClassVar[bool] = True
    """Posted to the ledger, so lock dates apply (quotes: False)."""

    def number_of(self, record: dict[str, Any]) -> Any:
        """Index key: the document number (None when empty)."""
        return record.get(self.number_field) or None

    def outstanding(self, record: dict[str, Any]) -> Decimal:
        """AmountDue (invoice) or RemainingCredit (credit note)."""
        raise NotImplementedError

    def allocated(self, record: dict[str, Any]) -> bool:
        """Whether payments or credit are allocated to it."""
        raise NotImplementedError

    def get(self, ctx: Ctx, key: str) -> dict[str, Any]:
        """By ID or by number."""
        table = self.table(ctx)
        record = table.get(key.lower())
        if record is None:
            record = table.find("number", self.number_of, key)
        if record is None:
            raise NotFound(key)
        return record

    def find_existing(
        self, ctx: Ctx, raw: dict[str, Any], method: str
    ) -> dict[str, Any] | None:
        """By ID, or (POST) by number for the numbered type."""
        found = super().find_existing(ctx, raw, method)
        number = raw.get(self.number_field)
        if found is None and method == "POST" and number:
            found = self.table(ctx).find(
                "number",
                self.number_of,
                number,
                lambda r: (
                    r["Type"] == (raw.get("Type") or r["Type"])
                    and r["Type"] == self.numbered_type
                ),
            )
        return found

    def _number(self, ctx: Ctx, raw: dict[str, Any], doc_type: str, own: str | None):
        """Validate or generate the document number."""
        number = text(raw, self.number_field, 255, f"{self.label} number")
        table = self.table(ctx)

        def used(value: str) -> bool:
            """Whether another document of the numbered type has this number."""
            return any(
                r["Type"] == self.numbered_type and r[self.id_field] != own
                for r in table.find_all("number", self.number_of, value)
            )

        if doc_type != self.numbered_type:
            return number
        if number:
            if used(number):
                raise Invalid(f"{self.label} # must be unique.")
            return number
        while True:
            candidate = f"{self.prefix}{ctx.tenant.next_number(self.prefix):04d}"
            if not used(candidate):
                return candidate

    def _build(
        self, ctx: Ctx, raw: dict[str, Any], own: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Validate a full (merged) document; return the fields to store."""
        doc_type = raw.get("Type")
        if doc_type not in self.types:
            raise Invalid(f"{self.label} Type must be one of {', '.join(self.types)}.")
        status = raw.get("Status") or "DRAFT"
        contact = resolve_contact(ctx, raw.get("Contact"), doc_type in SALES_TYPES)
        currency = raw.get("CurrencyCode") or ctx.tenant.base_currency
        if currency not in ctx.tenant.currencies:
            raise Invalid(f"Organisation is not subscribed to currency {currency}")
        rate = opt_decimal(raw, "CurrencyRate")
        if rate is not None and rate <= 0:
            raise Invalid("CurrencyRate must be greater than zero.")
        if currency == ctx.tenant.base_currency:
            rate = Decimal("1.000000")
        elif rate is None:
            rate = default_rate(ctx.tenant.base_currency, currency)
        lat = raw.get("LineAmountTypes") or "Exclusive"
        lines, totals = build_lines(
            ctx, raw.get("LineItems"), doc_type, lat, status == "AUTHORISED"
        )
        if status in ("SUBMITTED", "AUTHORISED") and not lines:
            raise Invalid(f"{self.label} must have at least one line item.")
        if totals.total < 0:
            raise Invalid(f"The {self.label.lower()} total must not be negative.")
        fields = {
            "Type": doc_type,
            "ContactID": contact["ContactID"],
            "Date": opt_date(raw, "Date") or ctx.today(),
            "DueDate": opt_date(raw, "DueDate"),
            "LineAmountTypes": lat,
            self.number_field: self._number(
                ctx, raw, doc_type, own[self.id_field] if own else None
            ),
            "Reference": (
                text(raw, "Reference", 255, "Reference")
                if doc_type in REFERENCE_TYPES
                else None  # ACCREC/ACCRECCREDIT only: ignored on bills (no error)
            ),
            "CurrencyCode": currency,
            "CurrencyRate": quantize(rate, 6),
            "Status": status,
            "LineItems": lines,
            "SubTotal": totals.sub_total,
            "TotalTax": totals.total_tax,
            "Total": totals.total,
            "TotalDiscount": totals.total_discount,
        }
        for key in ("ExpectedPaymentDate", "PlannedPaymentDate"):
            fields[key] = opt_date(raw, key)
        for key in ("SentToContact", "Url", "BrandingThemeID"):
            if key in raw:
                fields[key] = raw[key]
        return fields

    def new_record(self) -> dict[str, Any]:
        """Amount bookkeeping fields of a new record."""
        raise NotImplementedError

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new document (DRAFT, SUBMITTED or AUTHORISED)."""
        status = raw.get("Status") or "DRAFT"
        if status not in self.create_statuses:
            raise Invalid(f"Status '{status}' is not valid for a new {self.label}.")
        record = {self.id_field: new_id(), **self.new_record()}
        record.update(self._build(ctx, raw, None))
        if self.posts:
            check_open(ctx, record["Date"])
        record["UpdatedDateUTC"] = ctx.stamp()
        self.settle(ctx, record)
        self.table(ctx)[record[self.id_field]] = record
        return record

    def _as_raw(self, record: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        """The stored record in input form, overlaid with the request."""
        base = {
            key: record.get(key)
            for key in (
                "Type",
                "Date",
                "DueDate",
                "LineAmountTypes",
                "Reference",
                "CurrencyCode",
                "CurrencyRate",
                "Status",
                "SentToContact",
                "ExpectedPaymentDate",
                "PlannedPaymentDate",
                "Url",
                self.number_field,
            )
        }
        base["Contact"] = {"ContactID": record["ContactID"]}
        base["LineItems"] = stored_lines_as_raw(record["LineItems"])
        overlay = {k: v for k, v in raw.items() if v is not None}
        if (
            overlay.get("CurrencyCode", record["CurrencyCode"])
            != record["CurrencyCode"]
        ):
            base.pop("CurrencyRate")
        return {**base, **overlay}

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply Xero's status transitions and edit rules."""
        status = record["Status"]
        new_status = raw.get("Status") or status
        label = self.label
        content = set(raw) - {self.id_field, self.number_field, *SAFE_WHEN_ALLOCATED}
        if status in ("VOIDED", "DELETED"):
            raise Invalid(NOT_VALID_STATUS.format(label=label))
        check_open(ctx, record["Date"])
        if status == "PAID":
            raise Invalid(
                ALLOCATED
                if self.allocated(record)
                else NOT_VALID_STATUS.format(label=label)
            )
        if status == "AUTHORISED":
            if new_status in ("DRAFT", "SUBMITTED", "DELETED"):
                raise Invalid(NOT_VALID_STATUS.format(label=label))
            if self.allocated(record) and (content or new_status == "VOIDED"):
                raise Invalid(ALLOCATED)
        elif new_status == "VOIDED":
            raise Invalid(NOT_VALID_STATUS.format(label=label))
        if new_status not in ("DRAFT", "SUBMITTED", "AUTHORISED", "VOIDED", "DELETED"):
            raise Invalid(f"Status '{new_status}' is not valid.")
        if new_status in ("VOIDED", "DELETED"):
            record["Status"] = new_status
            record["UpdatedDateUTC"] = ctx.stamp()
            return record
        if record["Type"] != raw.get("Type", record["Type"]) and status == "AUTHORISED":
            raise Invalid(f"The Type of an approved {label} cannot be changed.")
        merged = self._as_raw(record, raw)
        recompute = "LineItems" in raw or "LineAmountTypes" in raw
        if not recompute:
            merged["LineItems"] = []
        fields = self._build(
            ctx,
            {**merged, "Status": new_status}
            if recompute
            else {**merged, "Status": "DRAFT"},
            record,
        )
        check_open(ctx, fields["Date"])
        if not recompute:
            for key in ("LineItems", "SubTotal", "TotalTax", "Total", "TotalDiscount"):
                fields.pop(key)
            fields["Status"] = new_status
            if new_status in ("SUBMITTED", "AUTHORISED") and not record["LineItems"]:
                raise Invalid(f"{label} must have at least one line item.")
        record.update(fields)
        record["UpdatedDateUTC"] = ctx.stamp()
        self.settle(ctx, record)
        self.table(ctx).reindex(record[self.id_field])
        return record

    def settle(self, ctx: Ctx, record: dict[str, Any]) -> None:
        """Move AUTHORISED <-> PAID as the outstanding amount hits/leaves zero."""
        outstanding = self.outstanding(record)
        if record["Status"] == "AUTHORISED" and outstanding <= 0:
            record["Status"] = "PAID"
            record["FullyPaidOnDate"] = ctx.today()
        elif record["Status"] == "PAID" and outstanding > 0:
            record["Status"] = "AUTHORISED"
            record["FullyPaidOnDate"] = None

    def list_filter(
        self, records: list[dict[str, Any]], args: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Statuses and ContactIDs."""
        from .query import csv_values

        statuses = set(csv_values(args.get("Statuses")))
        if statuses:
            records = [r for r in records if r["Status"] in statuses]
        contact_ids = {c.lower() for c in csv_values(args.get("ContactIDs"))}
        if contact_ids:
            records = [r for r in records if r["ContactID"] in contact_ids]
        return records

    def list_view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool
    ) -> dict[str, Any]:
        """The list form, built without line views when lines is False."""
        return self.view(ctx, record, lines=lines)

    def summary_view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """The summaryOnly form, built without line views."""
        return self.summarise(self.view(ctx, record, lines=False))

    def view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool = True
    ) -> dict[str, Any]:
        """The full response form (LineItems only when lines)."""
        raise NotImplementedError

    def common_view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool = True
    ) -> dict[str, Any]:
        """Fields shared by invoices and credit notes."""
        contact = Contacts().table(ctx)[record["ContactID"]]
        out: dict[str, Any] = {
            "Type": record["Type"],
            self.id_field: record[self.id_field],
        }
        if record.get(self.number_field):
            out[self.number_field] = record[self.number_field]
        if record.get("Reference"):
            out["Reference"] = record["Reference"]
        out["Contact"] = contact_brief(contact)
        add_date(out, "Date", record["Date"])
        add_date(out, "DueDate", record.get("DueDate"))
        add_date(out, "FullyPaidOnDate", record.get("FullyPaidOnDate"))
        out.update(Status=record["Status"], LineAmountTypes=record["LineAmountTypes"])
        if lines:
            out["LineItems"] = line_views(record["LineItems"], ctx.unitdp)
        out.update(
            SubTotal=record["SubTotal"],
            TotalTax=record["TotalTax"],
            Total=record["Total"],
            UpdatedDateUTC=record["UpdatedDateUTC"],
            UpdatedDateUTCString=iso_utc(record["UpdatedDateUTC"]),
            CurrencyCode=record["CurrencyCode"],
            CurrencyRate=record["CurrencyRate"],
            HasAttachments=False,
            HasErrors=False,
        )
        if record["TotalDiscount"]:
            out["TotalDiscount"] = record["TotalDiscount"]
        if record.get("SentToContact") is not None:
            out["SentToContact"] = bool(record["SentToContact"])
        return out

    def summarise(self, view: dict[str, Any]) -> dict[str, Any]:
        """summaryOnly: no lines, payments or allocations; brief contact."""
        out = {
            k: v
            for k, v in view.items()
            if k
            not in (
                "LineItems",
                "Payments",
                "CreditNotes",
                "Allocations",
                "Prepayments",
                "Overpayments",
            )
        }
        out["Contact"] = {
            "ContactID": view["Contact"]["ContactID"],
            "Name": view["Contact"]["Name"],
        }
        return out


def strip_none(data: dict[str, Any]) -> dict[str, Any]:
    """Drop None values (the spec has no nullable strings)."""
    return {k: v for k, v in data.items() if v is not None}


def payment_brief(payment: dict[str, Any]) -> dict[str, Any]:
    """A payment as embedded in a document."""
    out = {
        "PaymentID": payment["PaymentID"],
        "Amount": payment["Amount"],
        "CurrencyRate": payment["CurrencyRate"],
        "HasAccount": False,
        "HasValidationErrors": False,
    }
    if payment.get("Reference"):
        out["Reference"] = payment["Reference"]
    out["Date"] = payment["Date"]
    return out
