"""Online invoices and invoice e-mails in the sandbox, through the SDK and gateway."""

from __future__ import annotations

import pytest
from xero_python.accounting import (
    Contact,
    ContactPerson,
    Contacts,
    Invoices,
    RequestEmpty,
)
from xero_python.exceptions.http_status_exceptions import BadRequestException

from pxflask.sandbox.accounting.online import (
    DAY_LIMIT,
    NO_ADDRESS,
    NOT_EMAILED,
    NOT_ONLINE,
)
from pxflask.sandbox.regions import profile
from pxflask.xero import Limits, QuotaExhausted, XeroRequestError
from tests.fixtures.sandbox import TEST_REGION
from tests.xero.helpers import make_gateway, settings_for

from .test_accounting import _error_messages, _invoice, _line


def _contact(api, tenant, **fields):
    """One contact (with an e-mail address unless told otherwise)."""
    fields.setdefault("email_address", "ap@acme.example")
    fields.setdefault("name", "Acme Ltd")
    return api.create_contacts(tenant, Contacts(contacts=[Contact(**fields)])).contacts[
        0
    ]


def _one(api, tenant, contact_id, status="AUTHORISED", kind="ACCREC"):
    """Create one invoice; its id."""
    line = _line("1", "10", tax=profile(TEST_REGION).no_tax)
    invoice = _invoice(contact_id, [line], status=status)
    invoice.type = kind
    if kind == "ACCPAY":
        invoice.invoice_number = "BILL-1"
    made = api.create_invoices(tenant, Invoices(invoices=[invoice])).invoices[0]
    return made.invoice_id


def emails(xero_sandbox) -> list[dict]:
    """What the sandbox e-mailed for the demo tenant."""
    return xero_sandbox.state.tenants[xero_sandbox.tenant_id].emails


def test_online_invoice_only_for_approved_sales_invoices(api, tenant, xero_sandbox):
    """AUTHORISED gets a stable in.xero.com URL; drafts and bills are refused."""
    contact = _contact(api, tenant).contact_id
    approved = _one(api, tenant, contact)
    first = api.get_online_invoice(tenant, approved).online_invoices[0]
    again = api.get_online_invoice(tenant, approved).online_invoices[0]
    assert first.online_invoice_url.startswith("https://in.xero.com/")
    assert first.online_invoice_url == again.online_invoice_url
    for status, kind in (("DRAFT", "ACCREC"), ("SUBMITTED", "ACCREC")):
        refused = _one(api, tenant, contact, status=status, kind=kind)
        with pytest.raises(BadRequestException) as err:
            api.get_online_invoice(tenant, refused)
        assert _error_messages(err.value) == [NOT_ONLINE]
    bill = _one(api, tenant, contact, kind="ACCPAY")
    with pytest.raises(BadRequestException):
        api.get_online_invoice(tenant, bill)
    assert xero_sandbox.clear_violations() == []


def test_email_sends_to_the_contact_and_its_persons(api, tenant, xero_sandbox):
    """204; the e-mail is recorded with its addresses; the invoice is marked sent."""
    person = ContactPerson(
        first_name="Jo", email_address="jo@acme.example", include_in_emails=True
    )
    quiet = ContactPerson(
        first_name="No", email_address="no@acme.example", include_in_emails=False
    )
    contact = _contact(api, tenant, contact_persons=[person, quiet]).contact_id
    invoice_id = _one(api, tenant, contact)
    api.email_invoice(tenant, invoice_id, RequestEmpty())
    (mail,) = emails(xero_sandbox)
    assert mail["InvoiceID"] == invoice_id
    assert mail["To"] == ["ap@acme.example", "jo@acme.example"]
    assert api.get_invoice(tenant, invoice_id).invoices[0].sent_to_contact is True
    assert xero_sandbox.clear_violations() == []


def test_email_refusals(api, tenant, xero_sandbox):
    """Drafts, bills and contacts without an address are refused; nothing sent."""
    contact = _contact(api, tenant).contact_id
    nobody = _contact(api, tenant, name="Nobody", email_address=None).contact_id
    cases = [
        (_one(api, tenant, contact, status="DRAFT"), NOT_EMAILED),
        (_one(api, tenant, contact, kind="ACCPAY"), NOT_EMAILED),
        (_one(api, tenant, nobody), NO_ADDRESS),
    ]
    for invoice_id, message in cases:
        with pytest.raises(BadRequestException) as err:
            api.email_invoice(tenant, invoice_id, RequestEmpty())
        assert _error_messages(err.value) == [message]
    assert emails(xero_sandbox) == []


@pytest.mark.xero_sandbox(email_day_limit=1)
def test_the_daily_email_limit(api, tenant, xero_sandbox):
    """Past the organisation's e-mails of the day, Xero refuses the next one."""
    contact = _contact(api, tenant).contact_id
    api.email_invoice(tenant, _one(api, tenant, contact), RequestEmpty())
    with pytest.raises(BadRequestException) as err:
        api.email_invoice(tenant, _one(api, tenant, contact), RequestEmpty())
    assert _error_messages(err.value) == [DAY_LIMIT]
    assert len(emails(xero_sandbox)) == 1


def test_gateway_calls_are_counted_and_budgeted(tmp_path, api, tenant, xero_sandbox):
    """The gateway's two calls go through the one call path and its day budget."""
    settings = settings_for(xero_sandbox.config, XERO_GRANT="client_credentials")
    gw = make_gateway(
        settings, f"sqlite:///{tmp_path / 'm.db'}", limits=Limits(day_budget=4)
    )
    gw.connect_client_credentials()
    contact = _contact(api, tenant).contact_id
    invoice_id = _one(api, tenant, contact)
    draft = _one(api, tenant, contact, status="DRAFT")
    assert gw.get_online_invoice(invoice_id).startswith("https://in.xero.com/")
    gw.email_invoice(invoice_id)
    with pytest.raises(XeroRequestError) as err:
        gw.email_invoice(draft)
    assert err.value.status == 400 and err.value.message == NOT_EMAILED
    calls = gw.stats.snapshot()["calls"]
    assert calls["get_online_invoice"] == 1 and calls["email_invoice"] == 2
    assert gw.day_calls_left() == 1
    gw.get_online_invoice(invoice_id)
    with pytest.raises(QuotaExhausted):
        gw.email_invoice(invoice_id)
    assert len(emails(xero_sandbox)) == 1
