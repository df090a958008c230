"""Shared accounting machinery: errors, context, lookups and the Resource base."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from ..serialize import date_string, parse_date, to_decimal
from ..state import Table, Tenant

if TYPE_CHECKING:
    from ..core import Sandbox


class Invalid(Exception):
    """An element failed Xero's validation (goes into ValidationErrors)."""

    def __init__(self, *messages: str) -> None:
        """One or more validation messages."""
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class NotFound(Exception):
    """The addressed record does not exist (404)."""


class BadRequest(Exception):
    """The whole request is malformed (400 without elements)."""


@dataclass
class Ctx:
    """Per-request context handed to resource logic."""

    sb: Sandbox
    tenant: Tenant
    unitdp: int = 2

    def stamp(self) -> datetime:
        """A fresh UpdatedDateUTC."""
        return self.sb.clock.stamp()

    def today(self) -> date:
        """The sandbox's current date."""
        return self.sb.clock.now().date()

    def event(self, category: str, event_type: str, resource_id: str) -> None:
        """Queue a webhook event for this tenant."""
        self.sb.record_event(self.tenant.tenant_id, category, event_type, resource_id)


def new_id() -> str:
    """A fresh Xero-style GUID."""
    return str(uuid.uuid4())


def text(raw: dict[str, Any], key: str, max_len: int, label: str) -> str | None:
    """An optional string field with a length limit."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{label} must be text")
    if len(value) > max_len:
        raise Invalid(f"{label} must not be more than {max_len} characters long.")
    return value


def opt_date(raw: dict[str, Any], key: str) -> date | None:
    """An optional date field in any Xero input format."""
    if raw.get(key) in (None, ""):
        return None
    try:
        return parse_date(raw[key])
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{key} is not a valid date") from exc


def opt_decimal(raw: dict[str, Any], key: str) -> Decimal | None:
    """An optional numeric field."""
    if raw.get(key) is None:
        return None
    try:
        return to_decimal(raw[key])
    except ValueError as exc:
        raise Invalid(f"{key} must be a number") from exc


def add_date(out: dict[str, Any], key: str, value: date | None) -> None:
    """Put Key (/Date()/ via the encoder) and KeyString into a view."""
    if value is None:
        return
    out[key] = value
    out[key + "String"] = date_string(value)


def find_account(
    ctx: Ctx, ref: dict[str, Any] | None, code: str | None = None
) -> dict[str, Any] | None:
    """An account by {AccountID}/{Code} reference or code."""
    accounts = ctx.tenant.table("Accounts")
    if ref:
        if ref.get("AccountID"):
            return accounts.get(str(ref["AccountID"]).lower())
        code = ref.get("Code")
    if code is None:
        return None
    return next(
        (
            a
            for a in accounts.values()
            if a["Code"] == code and a["Status"] != "DELETED"
        ),
        None,
    )


def find_tax_rate(ctx: Ctx, tax_type: str | None) -> dict[str, Any] | None:
    """An active tax rate by TaxType."""
    if tax_type is None:
        return None
    rate = ctx.tenant.table("TaxRates").get(tax_type)
    if rate is None or rate["Status"] != "ACTIVE":
        return None
    return rate


def contact_brief(contact: dict[str, Any], full: bool = True) -> dict[str, Any]:
    """The contact as embedded in documents."""
    out: dict[str, Any] = {"ContactID": contact["ContactID"], "Name": contact["Name"]}
    if not full:
        return out
    if contact.get("ContactNumber"):
        out["ContactNumber"] = contact["ContactNumber"]
    out.update(
        ContactStatus=contact["ContactStatus"],
        EmailAddress=contact.get("EmailAddress"),
        Addresses=contact.get("Addresses") or [],
        Phones=contact.get("Phones") or [],
        ContactGroups=[],
        ContactPersons=contact.get("ContactPersons") or [],
        HasValidationErrors=False,
    )
    return {k: v for k, v in out.items() if v is not None}


class Resource:
    """Base class: how one Xero collection is stored, written and shown."""

    name: ClassVar[str] = ""
    id_field: ClassVar[str] = ""
    error_flag: ClassVar[str] = "HasErrors"
    category: ClassVar[str | None] = None
    lines_when_unpaged: ClassVar[bool] = True
    keyed_by_lower_id: ClassVar[bool] = True
    batched: ClassVar[bool] = False
    """Written in batches: PUT/POST of the collection (routes.BATCH)."""

    def table(self, ctx: Ctx) -> Table:
        """The tenant's records of this resource."""
        return ctx.tenant.table(self.name)

    def get(self, ctx: Ctx, key: str) -> dict[str, Any]:
        """One record by id (raise NotFound)."""
        record = self.table(ctx).get(key.lower())
        if record is None:
            raise NotFound(key)
        return record

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """The full response form of a record."""
        raise NotImplementedError

    def written_view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """The form a write answers with (the full form unless Xero differs)."""
        return self.view(ctx, record)

    def summarise(self, view: dict[str, Any]) -> dict[str, Any]:
        """The summaryOnly form of a view."""
        return view

    def list_view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool
    ) -> dict[str, Any]:
        """The form a list GET shows (without LineItems unless lines)."""
        view = self.view(ctx, record)
        if not lines:
            view.pop("LineItems", None)
        return view

    def summary_view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """The summaryOnly form of a record."""
        return self.summarise(self.view(ctx, record))

    def visible(self, record: dict[str, Any], args: dict[str, str]) -> bool:
        """Whether a list GET shows the record (e.g. archived contacts)."""
        return True

    def list_filter(
        self, records: list[dict[str, Any]], args: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Resource-specific list parameters (Statuses, ContactIDs...) on records."""
        return records

    def find_existing(
        self, ctx: Ctx, raw: dict[str, Any], method: str
    ) -> dict[str, Any] | None:
        """The record a PUT/POST element addresses, if any."""
        ident = raw.get(self.id_field)
        if ident:
            record = self.table(ctx).get(str(ident).lower())
            if record is None:
                raise Invalid(f"{self.id_field} {ident} does not exist.")
            return record
        return None

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate and store a new record."""
        raise NotImplementedError

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and apply changes to a record."""
        raise NotImplementedError

    def write(self, ctx: Ctx, raw: dict[str, Any], method: str) -> dict[str, Any]:
        """Create or update one element; emit the webhook event."""
        if not isinstance(raw, dict):
            raise Invalid("Element must be an object")
        existing = self.find_existing(ctx, raw, method)
        if existing is None:
            record = self.create(ctx, raw)
            event = "CREATE"
        else:
            record = self.update(ctx, existing, raw)
            event = "UPDATE"
        if self.category:
            ctx.event(self.category, event, record[self.id_field])
        return record
