"""The sandbox keeps voided and deleted invoice numbers taken, as Xero does."""

from __future__ import annotations

import pytest
from xero_python.accounting import Invoice, Invoices
from xero_python.exceptions.http_status_exceptions import BadRequestException

from .test_accounting import _contact, _error_messages, _invoice, _line, _v

pytestmark = pytest.mark.xero_sandbox(region="global")


@pytest.mark.parametrize(
    ("status", "target"), [("AUTHORISED", "VOIDED"), ("DRAFT", "DELETED")]
)
def test_a_dead_invoice_keeps_its_number(api, tenant, status, target):
    """A VOIDED or DELETED invoice's number cannot be used by a new invoice."""
    contact = _contact(api, tenant)
    first = api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                _invoice(
                    contact.contact_id,
                    [_line("1", "10")],
                    status=status,
                    invoice_number="INV-REUSED",
                )
            ]
        ),
    ).invoices[0]
    dead = api.update_invoice(
        tenant,
        first.invoice_id,
        Invoices(invoices=[Invoice(invoice_id=first.invoice_id, status=target)]),
    ).invoices[0]
    assert _v(dead.status) == target
    with pytest.raises(BadRequestException) as err:
        api.create_invoices(
            tenant,
            Invoices(
                invoices=[
                    _invoice(
                        contact.contact_id,
                        [_line("1", "10")],
                        invoice_number="INV-REUSED",
                    )
                ]
            ),
        )
    assert _error_messages(err.value) == ["Invoice # must be unique."]
