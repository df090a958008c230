"""Reading Xero for the reconciliation: invoice, bill and payment records, calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pxflask.reconcile.perfex_side import cents as _cents


def naive_utc(value: Any) -> datetime | None:
    """A Xero timestamp as naive UTC (None when absent)."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def latest_update(
    page: Iterable[Mapping[str, Any]], latest: datetime | None = None
) -> datetime | None:
    """The largest UpdatedDateUTC of a page's records and ``latest``."""
    for item in page:
        stamp = naive_utc(item.get("UpdatedDateUTC"))
        if stamp is not None and (latest is None or stamp > latest):
            latest = stamp
    return latest


def lower_id(value: Any) -> str | None:
    """A GUID in lower case (the links store them so)."""
    return str(value).lower() if value else None


def text_or_none(value: Any) -> str | None:
    """Text or None (enum values are already strings)."""
    if value is None or value == "":
        return None
    return str(getattr(value, "value", value))


def xero_invoice_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """``XERO_INVOICES`` records of a page's ACCREC invoices, and its latest update."""
    page = list(page)
    records: list[dict[str, Any]] = []
    latest = latest_update(page)
    for inv in page:
        if text_or_none(inv.get("Type")) != "ACCREC":
            continue
        contact = inv.get("Contact") or {}
        records.append(
            {
                "xero_invoice_id": lower_id(inv.get("InvoiceID")),
                "invoice_number": text_or_none(inv.get("InvoiceNumber")),
                "contact_id": lower_id(contact.get("ContactID")),
                "contact_name": text_or_none(contact.get("Name")),
                "contact_number": text_or_none(contact.get("ContactNumber")),
                "date": inv.get("Date"),
                "due_date": inv.get("DueDate"),
                "currency": (text_or_none(inv.get("CurrencyCode")) or "").upper(),
                "subtotal_cents": _cents(inv.get("SubTotal")),
                "tax_cents": _cents(inv.get("TotalTax")),
                "total_cents": _cents(inv.get("Total")),
                "paid_cents": _cents(inv.get("AmountPaid"))
                + _cents(inv.get("AmountCredited")),
                "status": text_or_none(inv.get("Status")),
            }
        )
    return records, latest


def xero_bill_records(page: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``XERO_BILLS`` records of a page's ACCPAY invoices (the same invoice pages)."""
    return [
        {
            "xero_bill_id": lower_id(inv.get("InvoiceID")),
            "bill_number": text_or_none(inv.get("InvoiceNumber")),
            "date": inv.get("Date"),
            "currency": (text_or_none(inv.get("CurrencyCode")) or "").upper(),
            "total_cents": _cents(inv.get("Total")),
            "tax_cents": _cents(inv.get("TotalTax")),
            "status": text_or_none(inv.get("Status")),
        }
        for inv in page
        if text_or_none(inv.get("Type")) == "ACCPAY" and inv.get("InvoiceID")
    ]


def xero_payment_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """``XERO_PAYMENTS`` records of a page's invoice payments, and its latest update."""
    page = list(page)
    records: list[dict[str, Any]] = []
    latest = latest_update(page)
    for pay in page:
        invoice = pay.get("Invoice") or {}
        kind = text_or_none(pay.get("PaymentType")) or "ACCRECPAYMENT"
        if not invoice.get("InvoiceID") or kind != "ACCRECPAYMENT":
            continue
        if text_or_none(invoice.get("Type")) not in (None, "ACCREC"):
            continue
        records.append(
            {
                "xero_payment_id": lower_id(pay.get("PaymentID")),
                "xero_invoice_id": lower_id(invoice.get("InvoiceID")),
                "invoice_number": text_or_none(invoice.get("InvoiceNumber")),
                "date": pay.get("Date"),
                "amount_cents": _cents(pay.get("Amount")),
                "currency": (text_or_none(invoice.get("CurrencyCode")) or "").upper(),
                "status": text_or_none(pay.get("Status")),
            }
        )
    return records, latest


def api_calls(gateway: Any) -> int:
    """The gateway's API call count so far."""
    return int(gateway.stats.snapshot().get("total", 0))


def connected_tenant(gateway: Any) -> str:
    """The connected tenant id; raise NotConnected when there is none."""
    from pxflask.xero.errors import NotConnected

    status = gateway.connection_status()
    if not status.connected or not status.tenant_id:
        raise NotConnected(status.message or "Xero is not connected")
    return str(status.tenant_id)
