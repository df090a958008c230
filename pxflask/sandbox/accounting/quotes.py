"""The Quotes collection: sales quotes, not posted to the ledger.

Xero's rules as modelled (FACTS.md "Quotes", the vendored spec, and what
integrations report; [U] marks a rule no source states, modelled strictly so a
sync that works here works against Xero):

- statuses DRAFT, SENT, DECLINED, ACCEPTED, INVOICED, DELETED; a new quote is
  DRAFT (default) or SENT [U: Xero may take others]; later statuses are reached by
  the transitions below, and DELETED is final;
- DRAFT -> DECLINED and ACCEPTED -> DECLINED are refused (reported against a live
  organisation, XeroAPI/xero-mcp-server#309); the table below is Xero's documented
  quote life cycle, with anything else refused [U];
- QuoteNumber is unique (generated QU-0001... when absent); a Contact is
  required; LineAmountTypes are EXCLUSIVE, INCLUSIVE or NOTAX; totals come from
  the lines as for invoices, a line's TaxAmount may be set (LineItem schema);
- lines, dates and contact can be edited while DRAFT or SENT [U]; a POST that
  leaves out Reference, Terms, Title or Summary clears them (xero-mcp-server#309);
- lock dates do not apply: a quote is not a transaction in the ledger;
- no webhooks (Xero's categories are CONTACT, INVOICE, CREDITNOTE, SUBSCRIPTION).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..serialize import iso_utc
from .common import Ctx, Invalid, add_date, contact_brief, opt_date, text
from .contacts import Contacts
from .documents import Document
from .lines import line_views
from .query import csv_values

QUOTE = "QUOTE"
"""The internal Type of every quote (Xero's Quote has no Type)."""
STATUSES = ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")
TRANSITIONS: dict[str, frozenset[str]] = {
    "DRAFT": frozenset({"SENT", "DELETED"}),
    "SENT": frozenset({"DRAFT", "ACCEPTED", "DECLINED", "DELETED"}),
    "ACCEPTED": frozenset({"SENT", "INVOICED", "DELETED"}),
    "DECLINED": frozenset({"SENT", "DELETED"}),
    "INVOICED": frozenset({"DELETED"}),
    "DELETED": frozenset(),
}
"""Status -> the statuses an update may move it to."""
EDITABLE = ("DRAFT", "SENT")
LINE_AMOUNT_TYPES = {
    "EXCLUSIVE": "Exclusive",
    "INCLUSIVE": "Inclusive",
    "NOTAX": "NoTax",
}
CLEARED_WHEN_LEFT_OUT = ("Reference", "Terms", "Title", "Summary")
STATUS_ONLY = {"QuoteID", "QuoteNumber", "Status", "Contact"}


def _line_amount_types(raw: dict[str, Any]) -> str:
    """LineAmountTypes as Xero's quotes spell it (upper case); EXCLUSIVE default."""
    value = str(raw.get("LineAmountTypes") or "EXCLUSIVE")
    upper = value.upper().replace("_", "")
    if upper not in LINE_AMOUNT_TYPES:
        raise Invalid(f"LineAmountTypes '{value}' is not valid.")
    return upper


class Quotes(Document):
    """The Quotes collection."""

    name = "Quotes"
    id_field = "QuoteID"
    category = None
    types = (QUOTE,)
    number_field = "QuoteNumber"
    numbered_type = QUOTE
    prefix = "QU-"
    label = "Quote"
    create_statuses = ("DRAFT", "SENT")
    posts = False

    def new_record(self) -> dict[str, Any]:
        """Nothing to track beyond the document."""
        return {}

    def outstanding(self, record: dict[str, Any]) -> Decimal:
        """Nothing is owed on a quote."""
        return Decimal(0)

    def allocated(self, record: dict[str, Any]) -> bool:
        """Nothing is allocated to a quote."""
        return False

    def settle(self, ctx: Ctx, record: dict[str, Any]) -> None:
        """Quotes are never paid."""

    def _build(
        self, ctx: Ctx, raw: dict[str, Any], own: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The invoice rules on a quote, then its own fields."""
        status = raw.get("Status") or "DRAFT"
        if status not in STATUSES:
            raise Invalid(f"Status '{status}' is not valid for a quote.")
        lat = _line_amount_types(raw)
        fields = super()._build(
            ctx,
            {**raw, "Type": QUOTE, "LineAmountTypes": LINE_AMOUNT_TYPES[lat]},
            own,
        )
        fields.update(
            LineAmountTypes=lat,
            ExpiryDate=opt_date(raw, "ExpiryDate"),
            Terms=text(raw, "Terms", 4000, "Terms"),
            Title=text(raw, "Title", 100, "Title"),
            Summary=text(raw, "Summary", 3000, "Summary"),
            Reference=text(raw, "Reference", 4000, "Reference"),
        )
        if fields["ExpiryDate"] and fields["ExpiryDate"] < fields["Date"]:
            raise Invalid("The expiry date must not be before the quote date.")
        return fields

    def _as_raw(self, record: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        """The stored quote in input form, overlaid with the request."""
        merged = super()._as_raw(record, raw)
        if raw.get("ExpiryDate") is None:
            merged["ExpiryDate"] = record.get("ExpiryDate")
        for key in CLEARED_WHEN_LEFT_OUT:
            if raw.get(key) is None:
                merged.pop(key, None)
        return merged

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Xero's quote transitions; content edits only while DRAFT or SENT."""
        status = record["Status"]
        new_status = raw.get("Status") or status
        if new_status not in STATUSES:
            raise Invalid(f"Status '{new_status}' is not valid for a quote.")
        if status == "DELETED":
            raise Invalid("Quote not of valid status for modification")
        if new_status != status and new_status not in TRANSITIONS[status]:
            raise Invalid(
                f"The quote status cannot be changed from {status} to {new_status}."
            )
        if new_status == "DELETED":
            record["Status"] = new_status
            record["UpdatedDateUTC"] = ctx.stamp()
            return record
        content = set(raw) - STATUS_ONLY
        if status not in EDITABLE and content - set(CLEARED_WHEN_LEFT_OUT):
            raise Invalid(f"A quote that is {status} cannot be edited.")
        fields = self._build(
            ctx, {**self._as_raw(record, raw), "Status": new_status}, record
        )
        record.update(fields)
        record["UpdatedDateUTC"] = ctx.stamp()
        self.table(ctx).reindex(record[self.id_field])
        return record

    def list_filter(
        self, records: list[dict[str, Any]], args: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Status, ContactID, QuoteNumber and the date ranges of GET /Quotes."""
        status = args.get("Status")
        if status:
            records = [r for r in records if r["Status"] == status.upper()]
        contact = (args.get("ContactID") or "").lower()
        if contact:
            records = [r for r in records if r["ContactID"] == contact]
        numbers = set(csv_values(args.get("QuoteNumber")))
        if numbers:
            records = [r for r in records if r.get("QuoteNumber") in numbers]
        for arg, field, after in (
            ("DateFrom", "Date", True),
            ("DateTo", "Date", False),
            ("ExpiryDateFrom", "ExpiryDate", True),
            ("ExpiryDateTo", "ExpiryDate", False),
        ):
            bound = opt_date(args, arg)
            if bound is not None:
                records = [
                    r
                    for r in records
                    if r.get(field) is not None
                    and (r[field] >= bound if after else r[field] <= bound)
                ]
        return records

    def view(
        self, ctx: Ctx, record: dict[str, Any], lines: bool = True
    ) -> dict[str, Any]:
        """A quote as Xero returns it."""
        contact = Contacts().table(ctx)[record["ContactID"]]
        out: dict[str, Any] = {
            "QuoteID": record["QuoteID"],
            "QuoteNumber": record["QuoteNumber"],
            "Terms": record.get("Terms") or "",
        }
        for key in ("Reference", "Title", "Summary"):
            if record.get(key):
                out[key] = record[key]
        out["Contact"] = contact_brief(contact)
        if lines:
            out["LineItems"] = line_views(record["LineItems"], ctx.unitdp)
        add_date(out, "Date", record["Date"])
        add_date(out, "ExpiryDate", record.get("ExpiryDate"))
        out.update(
            Status=record["Status"],
            CurrencyCode=record["CurrencyCode"],
            CurrencyRate=record["CurrencyRate"],
            SubTotal=record["SubTotal"],
            TotalTax=record["TotalTax"],
            Total=record["Total"],
            UpdatedDateUTC=record["UpdatedDateUTC"],
            UpdatedDateUTCString=iso_utc(record["UpdatedDateUTC"]),
            LineAmountTypes=record["LineAmountTypes"],
        )
        if record["TotalDiscount"]:
            out["TotalDiscount"] = record["TotalDiscount"]
        if record.get("BrandingThemeID"):
            out["BrandingThemeID"] = record["BrandingThemeID"]
        return out
