"""Online invoices and invoice e-mails: GET .../OnlineInvoice, POST .../Email.

Xero's rules as far as they are known (README of pxflask, "Links to Xero"):
an online invoice exists for approved (AUTHORISED or PAID) sales invoices only;
Xero e-mails a sales invoice that is SUBMITTED, AUTHORISED or PAID, to the
contact's address and its contact persons marked IncludeInEmails, one invoice
per call, within a daily e-mail limit of the organisation. Sent e-mails are kept
on the tenant (`Tenant.emails`) so tests can assert them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response

from ..http import json_response
from .batch import envelope, validation_error
from .common import Ctx, Invalid
from .pipeline import api_call
from .registry import RESOURCES
from .responses import ok

ONLINE_HOST = "https://in.xero.com/"
ONLINE_STATUSES = ("AUTHORISED", "PAID")
EMAIL_STATUSES = ("SUBMITTED", "AUTHORISED", "PAID")
NOT_ONLINE = "An online invoice is only available for an approved sales invoice"
NOT_EMAILED = "Only sales invoices that are submitted, approved or paid can be emailed"
NO_ADDRESS = "The contact of this invoice does not have an email address"
DAY_LIMIT = "The daily limit of emails sent by this organisation has been reached"


def online_url(ctx: Ctx, invoice_id: str) -> str:
    """The invoice's stable customer-facing URL (a 40-character token)."""
    seed = f"{ctx.tenant.tenant_id}/{invoice_id}".encode()
    token = hashlib.sha256(seed).hexdigest()[:40]
    return ONLINE_HOST + token


def recipients(ctx: Ctx, invoice: dict[str, Any]) -> list[str]:
    """The contact's address and its persons' marked IncludeInEmails."""
    contacts = RESOURCES["Contacts"].table(ctx)
    contact = contacts.get(str(invoice.get("ContactID") or "").lower()) or {}
    found = [str(contact.get("EmailAddress") or "").strip()]
    for person in contact.get("ContactPersons") or []:
        if person.get("IncludeInEmails"):
            found.append(str(person.get("EmailAddress") or "").strip())
    return [address for address in found if address]


def _refused(invoice_id: str, message: str) -> Response:
    """Xero's 400 for a refused invoice operation."""
    element = {
        "InvoiceID": invoice_id,
        "ValidationErrors": [{"Message": message}],
    }
    return json_response(validation_error([element]), 400)


def _sent_today(ctx: Ctx) -> int:
    """E-mails the organisation sent on the sandbox's current day."""
    today = ctx.today().isoformat()
    return sum(1 for mail in ctx.tenant.emails if mail["Date"] == today)


def email(ctx: Ctx, invoice: dict[str, Any]) -> None:
    """Send one invoice (raise Invalid with Xero's reason when refused)."""
    if invoice.get("Type") != "ACCREC" or invoice.get("Status") not in EMAIL_STATUSES:
        raise Invalid(NOT_EMAILED)
    to = recipients(ctx, invoice)
    if not to:
        raise Invalid(NO_ADDRESS)
    if _sent_today(ctx) >= ctx.sb.options.email_day_limit:
        raise Invalid(DAY_LIMIT)
    ctx.tenant.emails.append(
        {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice.get("InvoiceNumber"),
            "To": to,
            "Date": ctx.today().isoformat(),
        }
    )
    invoice["SentToContact"] = True
    invoice["UpdatedDateUTC"] = ctx.stamp()
    RESOURCES["Invoices"].table(ctx)[str(invoice["InvoiceID"]).lower()] = invoice


def register(bp: Blueprint) -> None:
    """Add the two routes to the accounting blueprint."""

    def get_online_invoice(key: str) -> Response:
        """GET /Invoices/{id}/OnlineInvoice."""

        def handler(ctx: Ctx) -> Response:
            """The URL, or a 400 when the invoice has none."""
            invoice = RESOURCES["Invoices"].get(ctx, key)
            if (
                invoice.get("Type") != "ACCREC"
                or invoice.get("Status") not in ONLINE_STATUSES
            ):
                return _refused(invoice["InvoiceID"], NOT_ONLINE)
            url = online_url(ctx, invoice["InvoiceID"])
            return ok(envelope(ctx, "OnlineInvoices", [{"OnlineInvoiceUrl": url}]))

        return api_call("/Invoices/{InvoiceID}/OnlineInvoice", handler)

    def post_email(key: str) -> Response:
        """POST /Invoices/{id}/Email: 204, or a 400 with Xero's reason."""

        def handler(ctx: Ctx) -> Response:
            """E-mail the invoice."""
            invoice = RESOURCES["Invoices"].get(ctx, key)
            try:
                email(ctx, invoice)
            except Invalid as exc:
                return _refused(invoice["InvoiceID"], "; ".join(exc.messages))
            return Response(status=204)

        return api_call("/Invoices/{InvoiceID}/Email", handler)

    bp.add_url_rule(
        "/Invoices/<key>/OnlineInvoice",
        "get_online_invoice",
        get_online_invoice,
        methods=["GET"],
    )
    bp.add_url_rule(
        "/Invoices/<key>/Email", "email_invoice", post_email, methods=["POST"]
    )
