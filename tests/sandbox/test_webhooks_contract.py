"""Webhook signing/delivery, contract mode, and the pure helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask, request
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.serving import make_server
from xero_python.accounting import Contact, Contacts

from pxflask.sandbox import webhooks
from pxflask.sandbox.serialize import dumps, loads, ms_date, parse_date
from pxflask.sandbox.totals import compute_document

from .conftest import raw_call

KEY = "test-webhook-key"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A webhook endpoint that checks x-xero-signature like a real consumer."""
    app = Flask("receiver")
    received: list[dict] = []

    @app.post("/hook")
    def hook():
        """200 for a valid signature, 401 otherwise; no body."""
        body = request.get_data()
        expected = base64.b64encode(
            hmac.new(KEY.encode(), body, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(
            expected, request.headers.get("x-xero-signature", "")
        ):
            return "", 401
        received.append(json.loads(body))
        return "", 200

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.port}/hook", received
    server.shutdown()
    server.server_close()


def test_intent_to_receive(receiver):
    """Correctly signed → 200, wrongly signed → 401."""
    url, received = receiver
    assert webhooks.send_intent_to_receive(url, KEY) == (200, 401)
    assert received[0]["events"] == []
    assert {"firstEventSequence", "lastEventSequence", "entropy"} <= set(received[0])


def test_events_from_changes_are_signed(xero_sandbox, api, tenant, receiver):
    """Changes queue CONTACT/INVOICE events; delivery is signed with the key."""
    url, received = receiver
    contact = api.create_contacts(
        tenant, Contacts(contacts=[Contact(name="Hooked")])
    ).contacts[0]
    xero_sandbox.inject.invoice(contact.contact_id)
    assert webhooks.deliver_pending(xero_sandbox.sandbox, url, KEY) == 200
    events = received[0]["events"]
    assert [(e["eventCategory"], e["eventType"]) for e in events] == [
        ("CONTACT", "CREATE"),
        ("INVOICE", "CREATE"),
    ]
    assert events[0]["resourceId"] == contact.contact_id
    assert events[0]["tenantId"] == tenant
    assert received[0]["lastEventSequence"] == received[0]["firstEventSequence"] + 1
    bad = webhooks.send_webhook(
        url, [webhooks.make_event(tenant, "INVOICE", contact.contact_id)], KEY + "x"
    )
    assert bad == 401


def test_contract_mode_flags_bad_request(xero_sandbox):
    """A request that breaks the spec is recorded as a violation."""
    resp = raw_call(
        xero_sandbox,
        "PUT",
        "/Contacts",
        {"Contacts": [{"Name": "Bad", "IsCustomer": "yes"}]},
    )
    assert resp.status == 200  # the sandbox itself is lenient here
    found = xero_sandbox.clear_violations()
    assert len(found) == 1
    assert "IsCustomer" in found[0] and "boolean" in found[0]
    resp = raw_call(xero_sandbox, "GET", "/Invoices?page=abc")
    assert resp.status == 400
    assert xero_sandbox.clear_violations()


@pytest.mark.xero_sandbox(region="global")
def test_dates_and_money_on_the_wire(xero_sandbox):
    """Dates are /Date(ms+0000)/ with DateString; money is 2 dp numbers."""
    cid = xero_sandbox.inject.contact("Wire")["ContactID"]
    xero_sandbox.inject.invoice(
        cid,
        Date="2026-11-01",
        DueDate="2026-12-01",
        lines=[
            {
                "Description": "x",
                "Quantity": 1,
                "UnitAmount": "10",
                "AccountCode": "200",
            }
        ],
    )
    text = raw_call(xero_sandbox, "GET", "/Invoices?page=1").data.decode()
    assert '"Date":"/Date(1793491200000+0000)/"' in text
    assert '"DateString":"2026-11-01T00:00:00"' in text
    assert '"Total":11.00' in text and '"UnitAmount":10.00' in text


def test_serialize_helpers():
    """Round trips of the wire helpers."""
    assert ms_date(date(2026, 11, 1)) == "/Date(1793491200000+0000)/"
    assert parse_date("/Date(1793491200000+0000)/") == date(2026, 11, 1)
    assert parse_date("/Date(1793491200000)/") == date(2026, 11, 1)
    assert parse_date("2026-11-01T00:00:00") == date(2026, 11, 1)
    assert dumps({"a": Decimal("1.50"), "b": [True, None]}) == (
        '{"a":1.50,"b":[true,null]}'
    )
    assert loads("1.50") == Decimal("1.50")


amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=2)


@given(
    st.lists(
        st.tuples(amounts, st.sampled_from(["0", "10", "20", "12.5"])),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["Exclusive", "Inclusive", "NoTax"]),
)
def test_totals_are_sums_of_rounded_lines(lines, lat):
    """Total = SubTotal + TotalTax and TotalTax = sum of per-line 2 dp taxes."""
    raw = [
        {"Quantity": 1, "UnitAmount": unit, "_rate": Decimal(rate)}
        for unit, rate in lines
    ]
    computed, totals = compute_document(raw, lat, lambda li: li["_rate"], 2)
    assert totals.total == totals.sub_total + totals.total_tax
    assert totals.total_tax == sum(li["TaxAmount"] for li in computed)
    assert all(
        li["TaxAmount"] == li["TaxAmount"].quantize(Decimal("0.01")) for li in computed
    )
    if lat == "Inclusive":
        assert totals.total == sum(li["LineAmount"] for li in computed)
    if lat == "NoTax":
        assert totals.total_tax == 0
