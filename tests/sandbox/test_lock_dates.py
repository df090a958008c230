"""Lock dates: the sandbox refuses accounting writes dated on or before them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from pxflask.sandbox.regions import profile
from tests.fixtures.sandbox import TEST_REGION

from .conftest import HTTP, raw_call

LOCK = date(2026, 6, 30)
LOCKED_DAY = "2026-06-30"
OPEN_DAY = "2026-07-01"
PERIOD = "The document date cannot be before the period lock date, currently set at "
NO_TAX = profile(TEST_REGION).no_tax
"""The suite organisation's untaxed line type (AU has no NONE)."""
END_OF_YEAR = (
    "The document date cannot be before the end of year lock date, currently set at "
)


def _invoice(contact_id: str, on: str) -> dict[str, Any]:
    """An AUTHORISED ACCREC invoice body of one 100.00 line."""
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Status": "AUTHORISED",
        "Date": on,
        "DueDate": "2026-08-31",
        "LineItems": [
            {
                "Description": "Work",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": "200",
                "TaxType": NO_TAX,
            }
        ],
    }


def _json(response: Any) -> dict[str, Any]:
    """A response body as JSON."""
    return json.loads(response.data)


def _messages(body: dict[str, Any], collection: str) -> list[list[str]]:
    """Validation messages per element of a summarised or unsummarised answer."""
    elements = body.get("Elements") or body.get(collection) or []
    return [[m["Message"] for m in e.get("ValidationErrors") or []] for e in elements]


@pytest.fixture
def contact_id(xero_sandbox) -> str:
    """A customer in Xero."""
    return xero_sandbox.inject.contact("Lock Ltd")["ContactID"]


def test_no_lock_dates_by_default_then_set_and_shown(xero_sandbox, api, tenant):
    """The Organisation has no lock date until one is set; the SDK reads both."""
    org = api.get_organisations(tenant).organisations[0]
    assert org.period_lock_date is None and org.end_of_year_lock_date is None
    xero_sandbox.inject.lock_dates(LOCK, date(2025, 12, 31))
    org = api.get_organisations(tenant).organisations[0]
    assert org.period_lock_date == LOCK
    assert org.end_of_year_lock_date == date(2025, 12, 31)
    xero_sandbox.inject.lock_dates()
    assert api.get_organisations(tenant).organisations[0].period_lock_date is None


@pytest.mark.parametrize("summarize", [True, False])
def test_invoices_on_or_before_the_lock_are_refused_per_element(
    xero_sandbox, contact_id, summarize
):
    """The locked element fails with Xero's message; the open one is created."""
    xero_sandbox.inject.lock_dates(LOCK)
    body = {
        "Invoices": [_invoice(contact_id, LOCKED_DAY), _invoice(contact_id, OPEN_DAY)]
    }
    query = "" if summarize else "?summarizeErrors=false"
    answer = raw_call(xero_sandbox, "PUT", "/Invoices" + query, body)
    data = _json(answer)
    if summarize:
        assert answer.status == 400 and data["Type"] == "ValidationException"
        assert _messages(data, "Invoices") == [[PERIOD + "30-Jun-2026"]]
    else:
        assert answer.status == 200
        assert _messages(data, "Invoices") == [[PERIOD + "30-Jun-2026"], []]
        assert [i["DateString"][:10] for i in xero_sandbox.inject.all("Invoices")] == [
            OPEN_DAY
        ]


def test_end_of_year_lock_counts_and_the_later_date_wins(xero_sandbox, contact_id):
    """Both locks apply: a date before both names both, between them only one."""
    xero_sandbox.inject.lock_dates(date(2026, 3, 31), LOCK)
    body = {
        "Invoices": [
            _invoice(contact_id, "2026-03-31"),
            _invoice(contact_id, "2026-05-15"),
        ]
    }
    answer = raw_call(xero_sandbox, "PUT", "/Invoices?summarizeErrors=false", body)
    assert _messages(_json(answer), "Invoices") == [
        [PERIOD + "31-Mar-2026", END_OF_YEAR + "30-Jun-2026"],
        [END_OF_YEAR + "30-Jun-2026"],
    ]


def test_edits_voids_payments_and_allocations_in_a_locked_period(
    xero_sandbox, contact_id
):
    """Once its period is locked a document can be neither edited nor voided."""
    inject = xero_sandbox.inject
    invoice = inject.write("Invoices", _invoice(contact_id, "2026-06-15"))
    paid = inject.payment(invoice["InvoiceID"], "10.00", on=date(2026, 6, 20))
    note = inject.write(
        "CreditNotes",
        {**_invoice(contact_id, "2026-06-15"), "Type": "ACCRECCREDIT"},
    )
    inject.lock_dates(LOCK)
    key = invoice["InvoiceID"]
    for change in ({"Reference": "edited"}, {"Status": "VOIDED"}):
        answer = raw_call(xero_sandbox, "POST", f"/Invoices/{key}", change)
        assert answer.status == 400
        assert _messages(_json(answer), "Invoices") == [[PERIOD + "30-Jun-2026"]]
    payment = {
        "Invoice": {"InvoiceID": key},
        "Account": {"Code": "090"},
        "Amount": 5,
        "Date": LOCKED_DAY,
    }
    answer = raw_call(xero_sandbox, "PUT", "/Payments", {"Payments": [payment]})
    assert answer.status == 400 and "period lock date" in answer.data.decode()
    answer = raw_call(
        xero_sandbox, "PUT", "/Payments", {"Payments": [{**payment, "Date": OPEN_DAY}]}
    )
    assert answer.status == 200
    answer = raw_call(
        xero_sandbox, "POST", f"/Payments/{paid['PaymentID']}", {"Status": "DELETED"}
    )
    assert answer.status == 400 and "period lock date" in answer.data.decode()
    path = f"/CreditNotes/{note['CreditNoteID']}/Allocations"
    allocation = {"Invoice": {"InvoiceID": key}, "Amount": 1, "Date": LOCKED_DAY}
    answer = raw_call(xero_sandbox, "PUT", path, {"Allocations": [allocation]})
    assert answer.status == 400 and "period lock date" in answer.data.decode()
    allocation["Date"] = OPEN_DAY
    answer = raw_call(xero_sandbox, "PUT", path, {"Allocations": [allocation]})
    assert answer.status == 200
    assert inject.get("Invoices", key)["AmountCredited"] == 1


def test_bank_transactions_and_allocation_delete_in_a_locked_period(
    xero_sandbox, contact_id
):
    """Spend money dated in a locked period: no create, edit or delete."""
    spend = {
        "Type": "SPEND",
        "Contact": {"ContactID": contact_id},
        "BankAccount": {"Code": "090"},
        "Date": "2026-06-01",
        "LineItems": [
            {
                "Description": "Paper",
                "Quantity": 1,
                "UnitAmount": 20,
                "AccountCode": "429",
                "TaxType": NO_TAX,
            }
        ],
    }
    made = xero_sandbox.inject.write("BankTransactions", spend)
    invoice = xero_sandbox.inject.write("Invoices", _invoice(contact_id, "2026-06-15"))
    note = xero_sandbox.inject.write(
        "CreditNotes", {**_invoice(contact_id, "2026-06-15"), "Type": "ACCRECCREDIT"}
    )
    path = f"/CreditNotes/{note['CreditNoteID']}/Allocations"
    allocation = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Amount": 1,
        "Date": "2026-06-16",
    }
    answer = raw_call(xero_sandbox, "PUT", path, {"Allocations": [allocation]})
    allocation_id = _json(answer)["Allocations"][0]["AllocationID"]
    xero_sandbox.inject.lock_dates(LOCK)
    answer = raw_call(
        xero_sandbox,
        "PUT",
        "/BankTransactions?summarizeErrors=false",
        {"BankTransactions": [spend]},
    )
    assert _messages(_json(answer), "BankTransactions") == [[PERIOD + "30-Jun-2026"]]
    tx = made["BankTransactionID"]
    for change in ({"Reference": "edited"}, {"Status": "DELETED"}):
        answer = raw_call(xero_sandbox, "POST", f"/BankTransactions/{tx}", change)
        assert answer.status == 400 and "period lock date" in answer.data.decode()
    token = xero_sandbox.issue_token()
    answer = HTTP.request(
        "DELETE",
        f"{xero_sandbox.api_url}{path}/{allocation_id}",
        headers={
            "Authorization": "Bearer " + token["access_token"],
            "xero-tenant-id": xero_sandbox.tenant_id,
            "Accept": "application/json",
        },
    )
    assert answer.status == 400 and "period lock date" in answer.data.decode()
    assert xero_sandbox.inject.get("Invoices", invoice["InvoiceID"])["AmountCredited"]


def test_control_endpoint_sets_and_clears_the_lock(xero_sandbox):
    """POST /_sandbox/lock-dates sets both dates; an empty body clears them."""
    url = xero_sandbox.url + "/_sandbox"
    body = json.dumps({"period": "2026-06-30", "end_of_year": "2025-12-31"})
    answer = HTTP.request(
        "POST",
        url + "/lock-dates",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200
    org = xero_sandbox.state.tenant().organisation
    assert org["PeriodLockDate"] == LOCK
    assert org["EndOfYearLockDate"] == date(2025, 12, 31)
    HTTP.request(
        "POST",
        url + "/lock-dates",
        body=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert "PeriodLockDate" not in xero_sandbox.state.tenant().organisation
