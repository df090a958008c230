"""Quotes in the sandbox: Xero's statuses and transitions, numbers, lines, reads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import models as sdk

from tests.fixtures.sandbox import TEST_REGION

from .conftest import raw_call

NO_TAX = "EXEMPTOUTPUT" if TEST_REGION == "au" else "NONE"
"""A 0% sales rate in the test region (an AU organisation has no NONE)."""

LINE = {
    "Description": "Design work",
    "Quantity": 3,
    "UnitAmount": 33,
    "AccountCode": "200",
}


def _quote(contact_id: str | None, **extra: Any) -> dict[str, Any]:
    """A quote body with one taxed line (the region's standard sales rate)."""
    body: dict[str, Any] = {"Date": "2026-07-01", "LineItems": [dict(LINE)], **extra}
    if contact_id is not None:
        body["Contact"] = {"ContactID": contact_id}
    return body


def _write(sandbox: Any, method: str, *quotes: dict[str, Any]) -> list[dict]:
    """PUT/POST /Quotes?summarizeErrors=false; the elements answered."""
    r = raw_call(sandbox, method, "/Quotes?summarizeErrors=false", {"Quotes": quotes})
    assert r.status == 200, r.data
    return json.loads(r.data)["Quotes"]


def _errors(element: dict[str, Any]) -> list[str]:
    """The validation messages of one answered element."""
    return [m["Message"] for m in element.get("ValidationErrors") or []]


@pytest.fixture
def contact_id(xero_sandbox) -> str:
    """A customer in Xero."""
    return xero_sandbox.inject.contact("Quote Ltd")["ContactID"]


def test_sdk_creates_a_numbered_draft_with_totals_from_its_lines(
    xero_sandbox, api, tenant, contact_id
):
    """The SDK's create_quotes: DRAFT, QU- number, Xero's line totals, ExpiryDate."""
    quote = sdk.Quote(
        contact=sdk.Contact(contact_id=contact_id),
        date=date(2026, 7, 1),
        expiry_date=date(2026, 7, 31),
        line_items=[
            sdk.LineItem(
                description="Work",
                quantity=Decimal("2"),
                unit_amount=Decimal("10.05"),
                account_code="200",
                tax_type=NO_TAX,
            )
        ],
        reference="PX-EST-1",
        terms="30 days",
    )
    made = api.create_quotes(tenant, sdk.Quotes(quotes=[quote])).quotes[0]
    assert made.status.value == "DRAFT"
    assert made.quote_number.startswith("QU-")
    assert made.total == Decimal("20.10") and made.total_tax == 0
    assert str(made.expiry_date) == "2026-07-31"
    assert made.reference == "PX-EST-1" and made.terms == "30 days"
    assert made.line_amount_types.value == "EXCLUSIVE"


def test_a_sent_line_tax_amount_is_kept(xero_sandbox, contact_id):
    """A line TaxAmount (allowed on quote lines by the LineItem schema) is used."""
    line = {**LINE, "TaxType": "OUTPUT2", "TaxAmount": 20}
    made = _write(xero_sandbox, "PUT", _quote(contact_id, LineItems=[line]))[0]
    if _errors(made):  # regions without OUTPUT2
        line["TaxType"] = "OUTPUT"
        made = _write(xero_sandbox, "PUT", _quote(contact_id, LineItems=[line]))[0]
    assert not _errors(made)
    assert Decimal(str(made["TotalTax"])) == Decimal("20.00")  # own: 19.80 or 9.90
    assert Decimal(str(made["Total"])) == Decimal("119.00")


def test_per_element_errors_contact_status_and_unique_number(xero_sandbox, contact_id):
    """A batch keeps its good elements; each bad one carries Xero's message."""
    ok = _quote(contact_id, QuoteNumber="Q-1")
    answered = _write(
        xero_sandbox,
        "PUT",
        ok,
        _quote(None),
        _quote(contact_id, Status="ACCEPTED"),
        _quote(contact_id, QuoteNumber="Q-1"),
    )
    assert not _errors(answered[0]) and answered[0]["QuoteNumber"] == "Q-1"
    assert "Contact must be specified" in _errors(answered[1])[0]
    assert "not valid for a new Quote" in _errors(answered[2])[0]
    assert _errors(answered[3]) == ["Quote # must be unique."]


def _move(sandbox: Any, quote_id: str, status: str) -> dict[str, Any]:
    """POST one status change; the answered element."""
    return _write(sandbox, "POST", {"QuoteID": quote_id, "Status": status})[0]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["SENT", "ACCEPTED", "INVOICED"], None),
        (["SENT", "DECLINED", "SENT", "ACCEPTED"], None),
        (["DECLINED"], "from DRAFT to DECLINED"),
        (["ACCEPTED"], "from DRAFT to ACCEPTED"),
        (["SENT", "ACCEPTED", "DECLINED"], "from ACCEPTED to DECLINED"),
        (["SENT", "ACCEPTED", "INVOICED", "SENT"], "from INVOICED to SENT"),
    ],
)
def test_status_transitions(xero_sandbox, contact_id, path, refused):
    """Xero's quote life cycle; a refused move names both statuses."""
    quote_id = _write(xero_sandbox, "PUT", _quote(contact_id))[0]["QuoteID"]
    errors: list[str] = []
    for status in path:
        answered = _move(xero_sandbox, quote_id, status)
        errors = _errors(answered)
        if errors:
            break
        assert answered["Status"] == status
    if refused is None:
        assert not errors
    else:
        assert errors and refused in errors[0]


def test_deleted_is_final_and_lines_only_edit_while_draft_or_sent(
    xero_sandbox, contact_id
):
    """An ACCEPTED quote keeps its lines; a DELETED one takes nothing more."""
    quote_id = _write(xero_sandbox, "PUT", _quote(contact_id, Status="SENT"))[0][
        "QuoteID"
    ]
    edited = _write(
        xero_sandbox,
        "POST",
        {"QuoteID": quote_id, "LineItems": [{**LINE, "Quantity": 1}]},
    )[0]
    assert Decimal(str(edited["SubTotal"])) == Decimal("33.00")
    _move(xero_sandbox, quote_id, "ACCEPTED")
    refused = _write(
        xero_sandbox, "POST", {"QuoteID": quote_id, "LineItems": [dict(LINE)]}
    )[0]
    assert "cannot be edited" in _errors(refused)[0]
    assert _move(xero_sandbox, quote_id, "DELETED")["Status"] == "DELETED"
    assert "not of valid status" in _errors(_move(xero_sandbox, quote_id, "SENT"))[0]


def test_left_out_terms_and_reference_are_cleared(xero_sandbox, contact_id):
    """A POST without Reference or Terms clears them (lines stay)."""
    made = _write(
        xero_sandbox, "PUT", _quote(contact_id, Reference="R-1", Terms="Net 30")
    )[0]
    again = _write(xero_sandbox, "POST", {"QuoteID": made["QuoteID"], "Title": "T"})[0]
    assert "Reference" not in again and again["Terms"] == ""
    assert again["Title"] == "T" and again["Total"] == made["Total"]


def test_lock_dates_do_not_apply_to_quotes(xero_sandbox, contact_id):
    """A quote is not posted: one dated before the period lock date is created."""
    xero_sandbox.inject.lock_dates(date(2026, 12, 31))
    try:
        made = _write(xero_sandbox, "PUT", _quote(contact_id))[0]
    finally:
        xero_sandbox.inject.lock_dates()
    assert not _errors(made) and made["QuoteID"]


def test_reads_filter_by_number_and_if_modified_since(
    xero_sandbox, api, tenant, contact_id
):
    """GET /Quotes: QuoteNumber filter, If-Modified-Since, paging by 100."""
    first = _write(xero_sandbox, "PUT", _quote(contact_id, QuoteNumber="F-1"))[0]
    found = api.get_quotes(tenant, quote_number="F-1").quotes
    assert [q.quote_id for q in found] == [first["QuoteID"]]
    later = datetime.now(UTC) + timedelta(days=1)
    assert api.get_quotes(tenant, if_modified_since=later).quotes == []
    page = api.get_quotes(tenant, page=1).quotes
    assert first["QuoteID"] in {str(q.quote_id) for q in page}
