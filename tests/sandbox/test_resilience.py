"""Idempotency, rate limits and fault switches, seen through the SDK."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import urllib3
from xero_python.accounting import Contact, Contacts, Invoice, Invoices, LineItem
from xero_python.exceptions import HTTPStatusException
from xero_python.exceptions.http_status_exceptions import (
    BadRequestException,
    RateLimitException,
)

from .conftest import raw_call


def _invoices(contact_id: str, amount: str = "10") -> Invoices:
    """A one-invoice batch."""
    return Invoices(
        invoices=[
            Invoice(
                type="ACCREC",
                contact=Contact(contact_id=contact_id),
                status="AUTHORISED",
                date=date(2026, 11, 1),
                due_date=date(2026, 11, 30),
                line_items=[
                    LineItem(
                        description="x",
                        quantity=Decimal(1),
                        unit_amount=Decimal(amount),
                        account_code="200",
                    )
                ],
            )
        ]
    )


@pytest.fixture
def contact_id(xero_sandbox) -> str:
    """A contact created server-side."""
    return xero_sandbox.inject.contact("Idem Co")["ContactID"]


@pytest.mark.xero_sandbox(idempotency_ttl_s=30)
def test_idempotency_replay_and_misuse(xero_sandbox, api, tenant, contact_id):
    """Same key + same body replays; different body → 400; TTL configurable."""
    first = api.create_invoices(tenant, _invoices(contact_id), idempotency_key="k-1")
    again = api.create_invoices(tenant, _invoices(contact_id), idempotency_key="k-1")
    assert first.invoices[0].invoice_id == again.invoices[0].invoice_id
    assert len(xero_sandbox.inject.all("Invoices")) == 1
    assert xero_sandbox.sandbox.idempotency.replays == 1
    with pytest.raises(BadRequestException) as err:
        api.create_invoices(tenant, _invoices(contact_id, "11"), idempotency_key="k-1")
    assert b"idempotency key" in err.value.body
    xero_sandbox.advance_time(31)
    later = api.create_invoices(tenant, _invoices(contact_id), idempotency_key="k-1")
    assert later.invoices[0].invoice_id != first.invoices[0].invoice_id


def test_commit_then_fail_and_idempotent_retry(xero_sandbox, api, tenant, contact_id):
    """The write lands but the client sees 504; a keyed retry does not duplicate."""
    xero_sandbox.faults.commit_then_fail(1, status=504)
    with pytest.raises(HTTPStatusException) as err:
        api.create_invoices(tenant, _invoices(contact_id), idempotency_key="k-2")
    assert err.value.status == 504
    assert len(xero_sandbox.inject.all("Invoices")) == 1
    retry = api.create_invoices(tenant, _invoices(contact_id), idempotency_key="k-2")
    assert (
        retry.invoices[0].invoice_id
        == xero_sandbox.inject.all("Invoices")[0]["InvoiceID"]
    )
    # without a key the same retry makes a duplicate, as in real life
    xero_sandbox.faults.commit_then_fail(1, status=500)
    with pytest.raises(HTTPStatusException):
        api.create_invoices(tenant, _invoices(contact_id, "12"))
    api.create_invoices(tenant, _invoices(contact_id, "12"))
    assert len(xero_sandbox.inject.all("Invoices")) == 3


def test_commit_then_drop_connection(xero_sandbox, api, tenant, contact_id):
    """status=0 drops the connection after the write is applied."""
    xero_sandbox.faults.commit_then_fail(1, status=0)
    with pytest.raises(urllib3.exceptions.HTTPError):
        api.create_invoices(tenant, _invoices(contact_id))
    assert len(xero_sandbox.inject.all("Invoices")) == 1


def test_503_next_calls_and_fraction(xero_sandbox, api, tenant):
    """fail_next(n) then recovery; fail_fraction(1.0) fails everything."""
    xero_sandbox.faults.fail_next(2)
    for _ in range(2):
        with pytest.raises(HTTPStatusException) as err:
            api.get_organisations(tenant)
        assert err.value.status == 503
    assert api.get_organisations(tenant).organisations
    xero_sandbox.faults.fail_fraction(1.0)
    with pytest.raises(HTTPStatusException):
        api.get_contacts(tenant)
    xero_sandbox.faults.clear()
    api.get_contacts(tenant)


@pytest.mark.xero_sandbox(calls_per_window=3, window_s=2)
def test_minute_limit_429_with_retry_after(xero_sandbox, api, tenant):
    """The per-window budget gives 429 minute + Retry-After; it resets."""
    for _ in range(3):
        api.get_organisations(tenant)
    with pytest.raises(RateLimitException) as err:
        api.get_organisations(tenant)
    assert err.value.rate_limit == "minute"
    headers = err.value.headers
    assert headers["Retry-After"] in ("1", "2")
    assert headers["X-MinLimit-Remaining"] == "0"
    assert int(headers["X-DayLimit-Remaining"]) == 5000 - 3
    xero_sandbox.advance_time(2)
    assert api.get_organisations(tenant).organisations
    assert xero_sandbox.counters.tenant_calls[tenant] == 5


def test_day_limit(xero_sandbox, api, tenant):
    """An exhausted daily budget gives 429 day."""
    xero_sandbox.limiter.exhaust_day(tenant)
    with pytest.raises(RateLimitException) as err:
        api.get_organisations(tenant)
    assert err.value.rate_limit == "day"
    assert int(err.value.headers["Retry-After"]) > 3600


@pytest.mark.xero_sandbox(concurrent_limit=2)
def test_concurrent_limit(xero_sandbox):
    """More than concurrent_limit calls in flight → 429 concurrent."""
    xero_sandbox.faults.set_latency(0.4)
    token = xero_sandbox.issue_token()
    results: list[tuple[int, str | None]] = []

    def call() -> None:
        """One slow call."""
        resp = raw_call(xero_sandbox, "GET", "/Organisation", token=token)
        results.append((resp.status, resp.headers.get("X-Rate-Limit-Problem")))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str).count((200, None)) == 2
    assert results.count((429, "concurrent")) == 2
    assert xero_sandbox.limiter.max_in_flight[xero_sandbox.tenant_id] == 2


def test_rate_headers_on_every_response(xero_sandbox, api, tenant):
    """X-*Limit-Remaining are sent on ordinary responses."""
    data, status, headers = api.get_organisations(tenant, _return_http_data_only=False)
    assert status == 200
    assert headers["X-MinLimit-Remaining"] == "59"
    assert headers["X-AppMinLimit-Remaining"] == "9999"
    assert xero_sandbox.counters.calls_to("GET", "/Organisation") == 1


def test_summarize_errors_false_for_invoices(xero_sandbox, api, tenant, contact_id):
    """HasErrors on the failing invoice, the good one created (200)."""
    batch = _invoices(contact_id)
    batch.invoices.append(
        Invoice(
            type="ACCREC",
            contact=Contact(contact_id=contact_id),
            line_items=[
                LineItem(
                    description="bad",
                    quantity=Decimal(1),
                    unit_amount=Decimal(1),
                    account_code="999",
                )
            ],
        )
    )
    result = api.create_invoices(tenant, batch, summarize_errors=False).invoices
    assert [i.has_errors for i in result] == [False, True]
    assert "999" in result[1].validation_errors[0].message
    assert len(xero_sandbox.inject.all("Invoices")) == 1


def test_contacts_batch_created_during_summarized_error(xero_sandbox, api, tenant):
    """Guard: summarised 400 still commits the valid elements (Xero quirk)."""
    with pytest.raises(BadRequestException):
        api.create_contacts(
            tenant, Contacts(contacts=[Contact(name="A1"), Contact(name="A1")])
        )
    assert [c["Name"] for c in xero_sandbox.inject.all("Contacts")] == ["A1"]
