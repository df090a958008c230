"""Bank transactions: RECEIVE/SPEND money against a BANK account.

RECEIVE-OVERPAYMENT / RECEIVE-PREPAYMENT also create the customer credit
(credits.py) with the transaction's id, as Xero does.
"""

from __future__ import annotations

from typing import Any

from ..regions import profile
from ..serialize import iso_utc
from .common import (
    Ctx,
    Invalid,
    Resource,
    add_date,
    contact_brief,
    find_account,
    new_id,
    opt_date,
    text,
)
from .credits import CREDIT_TYPES, credit_resource, open_credit, void_credit
from .documents import resolve_contact
from .lines import build_lines, line_views, stored_lines_as_raw
from .lockdates import check_open

TYPES = ("RECEIVE", "SPEND", *CREDIT_TYPES)


class BankTransactions(Resource):
    """The BankTransactions collection."""

    name = "BankTransactions"
    batched = True
    id_field = "BankTransactionID"
    error_flag = "HasErrors"

    def _build(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate a full (merged) bank transaction."""
        tx_type = raw.get("Type")
        if tx_type not in TYPES:
            raise Invalid(f"Type must be one of {', '.join(TYPES)}.")
        bank = find_account(ctx, raw.get("BankAccount") or {})
        if bank is None or bank["Type"] != "BANK":
            raise Invalid("A valid BankAccount must be specified.")
        contact = resolve_contact(ctx, raw.get("Contact"), tx_type != "SPEND")
        bank_currency = bank.get("CurrencyCode") or ctx.tenant.base_currency
        currency = raw.get("CurrencyCode") or bank_currency
        if currency not in ctx.tenant.currencies:
            raise Invalid(f"Organisation is not subscribed to currency {currency}")
        if currency != bank_currency:
            raise Invalid(
                f"The currency {currency} does not match the currency "
                f"{bank_currency} of the bank account."
            )
        lat = raw.get("LineAmountTypes") or "Exclusive"
        if tx_type == "RECEIVE-OVERPAYMENT":
            lat, lines, totals = _overpayment_lines(ctx, raw.get("LineItems"))
        else:
            kind = "SPEND" if tx_type == "SPEND" else "RECEIVE"
            lines, totals = build_lines(ctx, raw.get("LineItems"), kind, lat, True)
            _refuse_tax_overrides(lines)
        if not lines:
            raise Invalid("Bank transactions must have at least one line item.")
        return {
            "Type": tx_type,
            "ContactID": contact["ContactID"],
            "BankAccountID": bank["AccountID"],
            "Date": opt_date(raw, "Date") or ctx.today(),
            "Reference": text(raw, "Reference", 255, "Reference"),
            "IsReconciled": bool(raw.get("IsReconciled")),
            "CurrencyCode": currency,
            "LineAmountTypes": lat,
            "LineItems": lines,
            "SubTotal": totals.sub_total,
            "TotalTax": totals.total_tax,
            "Total": totals.total,
        }

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new AUTHORISED bank transaction."""
        if raw.get("Status") not in (None, "AUTHORISED"):
            raise Invalid("New bank transactions must be AUTHORISED.")
        record: dict[str, Any] = {"BankTransactionID": new_id(), "Status": "AUTHORISED"}
        record.update(self._build(ctx, raw))
        check_open(ctx, record["Date"])
        record["UpdatedDateUTC"] = ctx.stamp()
        self.table(ctx)[record["BankTransactionID"]] = record
        if record["Type"] in CREDIT_TYPES:
            open_credit(ctx, record)
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Edit or delete (Status DELETED) an unreconciled transaction."""
        if record["Status"] == "DELETED":
            raise Invalid("Bank transaction not of valid status for modification")
        check_open(ctx, record["Date"])
        if record["IsReconciled"] and raw.get("IsReconciled") is not False:
            raise Invalid("A reconciled bank transaction cannot be edited.")
        credit = record["Type"] in CREDIT_TYPES
        if credit and raw.get("Status") != "DELETED":
            raise Invalid("Overpayments and prepayments cannot be edited.")
        if raw.get("Status") == "DELETED":
            if credit:
                void_credit(ctx, record)
            record["Status"] = "DELETED"
            record["UpdatedDateUTC"] = ctx.stamp()
            return record
        base = {
            "Type": record["Type"],
            "Contact": {"ContactID": record["ContactID"]},
            "BankAccount": {"AccountID": record["BankAccountID"]},
            "Date": record["Date"],
            "Reference": record["Reference"],
            "IsReconciled": record["IsReconciled"],
            "CurrencyCode": record["CurrencyCode"],
            "LineAmountTypes": record["LineAmountTypes"],
            "LineItems": stored_lines_as_raw(record["LineItems"]),
        }
        merged = {**base, **{k: v for k, v in raw.items() if v is not None}}
        fields = self._build(ctx, merged)
        check_open(ctx, fields["Date"])
        record.update(fields)
        record["UpdatedDateUTC"] = ctx.stamp()
        return record

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """A bank transaction as Xero returns it."""
        contact = ctx.tenant.table("Contacts")[record["ContactID"]]
        bank = ctx.tenant.table("Accounts")[record["BankAccountID"]]
        out: dict[str, Any] = {
            "BankTransactionID": record["BankTransactionID"],
            "Type": record["Type"],
            "Contact": contact_brief(contact),
            "BankAccount": {
                "AccountID": bank["AccountID"],
                "Code": bank["Code"],
                "Name": bank["Name"],
            },
            "IsReconciled": record["IsReconciled"],
        }
        if record["Type"] in CREDIT_TYPES:
            field = credit_resource(CREDIT_TYPES[record["Type"]]).id_field
            out[field] = record[field]
        add_date(out, "Date", record["Date"])
        if record.get("Reference"):
            out["Reference"] = record["Reference"]
        out.update(
            Status=record["Status"],
            CurrencyCode=record["CurrencyCode"],
            LineAmountTypes=record["LineAmountTypes"],
            LineItems=line_views(record["LineItems"], ctx.unitdp),
            SubTotal=record["SubTotal"],
            TotalTax=record["TotalTax"],
            Total=record["Total"],
            UpdatedDateUTC=record["UpdatedDateUTC"],
            UpdatedDateUTCString=iso_utc(record["UpdatedDateUTC"]),
            HasAttachments=False,
        )
        return out


def _refuse_tax_overrides(lines: list[dict[str, Any]]) -> None:
    """Xero refuses a TaxAmount other than its own on bank transactions.

    Reported in XeroAPI/xero-node#768 (a SPEND: "Tax amount 52.23 is incorrect
    for INPUT2 tax type, should be 52.28"); invoices and credit notes keep it.
    """
    for line in lines:
        if line.get("_tax_given") and line["TaxAmount"] != line["_tax_computed"]:
            raise Invalid(
                f"Tax amount {line['TaxAmount']} is incorrect for"
                f" {line.get('TaxType')} tax type, should be {line['_tax_computed']}"
            )


def _overpayment_lines(ctx: Ctx, raw_lines: Any) -> tuple[str, list, Any]:
    """Overpayment lines: no tax, posted to Accounts Receivable (Xero fixes both).

    "No tax" is the organisation's own no-tax type: NONE in the UK, BASEXCLUDED in
    AU, which has no NONE at all.
    """
    no_tax = profile(ctx.tenant.region).no_tax
    plain = [
        {
            **{
                k: v
                for k, v in line.items()
                if k not in ("AccountCode", "AccountID", "ItemCode", "TaxType")
            },
            "TaxType": no_tax,
        }
        for line in raw_lines or []
        if isinstance(line, dict)
    ]
    lines, totals = build_lines(ctx, plain, "RECEIVE", "NoTax", False)
    receivable = next(
        (
            a
            for a in ctx.tenant.table("Accounts").values()
            if a.get("SystemAccount") == "DEBTORS"
        ),
        None,
    )
    for line in lines:
        if receivable is not None:
            line["AccountCode"] = receivable["Code"]
            line["AccountID"] = receivable["AccountID"]
    return "NoTax", lines, totals
