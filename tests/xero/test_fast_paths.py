"""The gateway's fast wire paths give exactly what the xero-python SDK gives."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import models
from xero_python.api_client import ApiClient, ModelFinder
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.deserializer import deserialize as sdk_deserialize
from xero_python.api_client.serializer import serialize as sdk_serialize

from pxflask.xero import payloads

CONTACT = {
    "Name": "Acme Ltd",
    "ContactNumber": "PX-1",
    "EmailAddress": "a@example.com",
    "IsCustomer": True,
    "Addresses": [
        {"AddressType": "POBOX", "AddressLine1": "1 High St", "City": "London"}
    ],
    "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "020 7000"}],
    "ContactGroups": [],
}
INVOICE = {
    "Type": "ACCREC",
    "Contact": {"ContactID": "00000000-0000-0000-0000-000000000001"},
    "Date": "2026-03-01",
    "DueDate": date(2026, 3, 31),
    "LineAmountTypes": "Exclusive",
    "InvoiceNumber": "INV-7",
    "Reference": "ref",
    "Status": "AUTHORISED",
    "CurrencyCode": "GBP",
    "CurrencyRate": Decimal("1.25"),
    "LineItems": [
        {
            "Description": "x",
            "Quantity": Decimal("2"),
            "UnitAmount": Decimal("1.2345"),
            "DiscountRate": 10,
            "AccountCode": "200",
            "TaxType": "OUTPUT2",
            "Tracking": [{"Name": "Region", "Option": "North"}],
        }
    ],
}
PAYMENT = {
    "Invoice": {"InvoiceID": "00000000-0000-0000-0000-000000000002"},
    "Account": {"Code": "090"},
    "Date": date(2026, 1, 2),
    "Amount": "10.50",
    "Reference": "pay",
}
CREDIT_NOTE = {
    "Type": "ACCRECCREDIT",
    "Contact": {"ContactID": "00000000-0000-0000-0000-000000000001"},
    "Date": "2026-02-03",
    "LineAmountTypes": "Inclusive",
    "LineItems": [{"Description": "y", "Quantity": 1, "UnitAmount": "5"}],
}
BANK_TRANSACTION = {
    "Type": "RECEIVE",
    "Contact": {"ContactID": "00000000-0000-0000-0000-000000000001"},
    "BankAccount": {"Code": "090"},
    "Date": "2026-02-03",
    "LineItems": [{"Description": "z", "UnitAmount": Decimal("3.3")}],
}
ITEM = {
    "Code": "SKU-1",
    "Name": "Widget",
    "IsSold": True,
    "SalesDetails": {"UnitPrice": Decimal("9.9999"), "AccountCode": "200"},
}
ACCOUNT = {"Code": "201", "Name": "Sales 2", "Type": "REVENUE"}
TAX_RATE = {
    "Name": "VAT 5",
    "ReportTaxType": "OUTPUT",
    "TaxComponents": [{"Name": "VAT", "Rate": Decimal("5.0")}],
}
CASES = [
    ("Contact", CONTACT),
    ("Invoice", INVOICE),
    ("Payment", PAYMENT),
    ("CreditNote", CREDIT_NOTE),
    ("BankTransaction", BANK_TRANSACTION),
    ("Item", ITEM),
    ("Account", ACCOUNT),
    ("TaxRate", TAX_RATE),
]


def sdk_plain(model_name: str, data: Any) -> Any:
    """What the SDK path gives: deserialize into models, then from_model."""
    return payloads.from_model(sdk_deserialize(model_name, data, ModelFinder(models)))


@pytest.mark.parametrize(("model_name", "payload"), CASES)
def test_serialize_matches_the_sdk(model_name, payload):
    """Request bodies are byte-for-byte what the SDK would send."""
    model = payloads.to_model(model_name, payload)
    assert payloads.serialize(model) == sdk_serialize(model)
    assert json.dumps(payloads.serialize(model)) == json.dumps(sdk_serialize(model))
    body, wire = payloads.wire(model)
    assert body == sdk_serialize(model)
    assert wire == json.dumps(
        sdk_serialize(model), sort_keys=True, separators=(",", ":")
    )


def test_serialized_collection_matches_the_sdk_wrapper():
    """The batch body equals serialize(Contacts(contacts=[...])) of the SDK."""
    spec = payloads.entity("contacts")
    elements = [payloads.to_model("Contact", CONTACT) for _ in range(3)]
    wrapper = payloads.collection(spec, elements)
    body = payloads.serialized_collection(
        spec, [payloads.serialize(m) for m in elements]
    )
    assert body == sdk_serialize(wrapper)
    assert sdk_serialize(body) is body  # the SDK passes it through untouched


def response_of(model_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A Xero-like JSON answer for a payload (ids, statuses, dates, errors)."""
    data = json.loads(
        json.dumps(sdk_serialize(payloads.to_model(model_name, payload))),
        parse_float=Decimal,
    )
    data.update(
        {
            "UpdatedDateUTC": "/Date(1772323200123+0000)/",
            "HasErrors": False,
            "StatusAttributeString": "OK",
            "UnknownFieldFromTheFuture": {"x": 1},
            "ValidationErrors": [{"Message": "bad"}],
            "Warnings": [],
        }
    )
    return data


@pytest.mark.parametrize(("model_name", "payload"), CASES)
def test_plain_from_json_matches_the_sdk(model_name, payload):
    """Answers parsed without models equal from_model() of the SDK's models."""
    data = response_of(model_name, payload)
    assert payloads.plain_from_json(model_name, data) == sdk_plain(model_name, data)


@pytest.mark.parametrize(
    ("model_name", "data"),
    [
        ("Contact", {"Name": None, "IsCustomer": None}),  # SDK quirks: "None", False
        ("Invoice", {"Date": "/Date(1772323200000+0100)/", "Total": 5}),
        ("Invoice", {"DueDate": "/Date(1772323200000)/", "LineItems": []}),
        ("Invoice", {"Contact": {}, "Payments": [{"Amount": "1.5"}]}),
    ],
)
def test_plain_from_json_irregular_values(model_name, data):
    """Odd values take the SDK's own path, so the result is still identical."""
    assert payloads.plain_from_json(model_name, data) == sdk_plain(model_name, data)


@pytest.mark.parametrize(
    ("model_name", "data"),
    [
        ("Invoice", {"LineAmountTypes": "Sideways"}),
        ("Contact", {"IsSupplier": "yes"}),
    ],
)
def test_plain_from_json_raises_like_the_sdk(model_name, data):
    """A value the SDK cannot read fails the same way."""
    with pytest.raises(ValueError):
        sdk_plain(model_name, data)
    with pytest.raises(ValueError):
        payloads.plain_from_json(model_name, data)


def test_answers_from_json_matches_sdk_deserialize():
    """A whole response body: the collection's elements as the SDK path gives."""
    spec = payloads.entity("invoices")
    body = {
        "Id": "x",
        "Status": "OK",
        "DateTimeUTC": "/Date(1772323200000)/",
        "Invoices": [response_of("Invoice", INVOICE), {"InvoiceID": "i2"}],
    }
    raw = json.dumps(body, default=str).encode()
    response = type("Response", (), {"text": raw.decode()})()
    api = ApiClient(Configuration(debug=False), pool_threads=1)
    expected = [
        payloads.from_model(x)
        for x in api.deserialize(response, "Invoices", ModelFinder(models)).invoices
    ]
    assert payloads.answers_from_json(spec, raw) == expected
    assert payloads.answers_from_json(spec, b"{}") == []
    assert payloads.answers_from_json(spec, b"[]") == []
    updated = payloads.answers_from_json(spec, raw)[0]["UpdatedDateUTC"]
    assert updated == datetime(2026, 3, 1, 0, 0, 0, 123000, tzinfo=UTC)
