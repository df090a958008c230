"""Uniqueness indexes and the list path at scale, without HTTP."""

from __future__ import annotations

import copy
import time
import uuid
from datetime import timedelta

import pytest

from pxflask.sandbox import Sandbox
from pxflask.sandbox.accounting.batch import list_records
from pxflask.sandbox.accounting.common import Ctx, Invalid
from pxflask.sandbox.accounting.registry import RESOURCES
from pxflask.sandbox.inject import InjectionError
from pxflask.sandbox.state import Table


@pytest.fixture
def sb() -> Sandbox:
    """A fresh in-memory sandbox."""
    return Sandbox()


def _put(sb: Sandbox, resource: str, payload: dict) -> dict:
    """Create like a PUT element (no upsert); raise InjectionError when refused."""
    with sb.lock:
        ctx = Ctx(sb, sb.state.tenant(), 4)
        try:
            return RESOURCES[resource].write(ctx, payload, "PUT")
        except Invalid as exc:
            raise InjectionError("; ".join(exc.messages)) from exc


def _key(record: dict) -> str | None:
    """Test index key."""
    return record.get("K")


def test_table_index_follows_store_delete_and_order():
    """Stores, in-place changes re-stored, deletes and table order."""
    table = Table()
    table["a"] = {"K": "x"}
    table["b"] = {"K": "y"}
    assert table.find("k", _key, "x") is table["a"]
    table["c"] = {"K": "x"}
    assert [r is table["a"] for r in table.find_all("k", _key, "x")] == [True, False]
    table["a"]["K"] = "z"
    table["a"] = table["a"]
    assert table.find("k", _key, "x") is table["c"]
    assert table.find("k", _key, "z") is table["a"]
    del table["c"]
    assert table.find("k", _key, "x") is None
    table.pop("b")
    assert table.find("k", _key, "y") is None
    table["b"] = {"K": "z"}
    assert table.find_all("k", _key, "z") == [table["a"], table["b"]]
    assert table.find("k", _key, ["unhashable"]) is None
    assert table.in_order({"b", "a", "missing"}) == [table["a"], table["b"]]
    table.clear()
    assert table.find("k", _key, "z") is None


def test_contact_indexes_follow_rename_archive_and_reset(sb):
    """Name and number stay unique through create/update/archive/reset."""
    inject = sb.inject
    first = inject.contact("Acme  Ltd", ContactNumber="N-1")
    with pytest.raises(InjectionError, match="name"):
        inject.contact("acme ltd")
    with pytest.raises(InjectionError, match="number"):
        _put(sb, "Contacts", {"Name": "Other", "ContactNumber": "N-1"})
    inject.update("Contacts", first["ContactID"], {"Name": "Renamed"})
    inject.contact("Acme Ltd")
    with pytest.raises(InjectionError, match="name"):
        inject.contact("RENAMED")
    inject.archive_contact(first["ContactID"])
    inject.contact("Renamed")
    with pytest.raises(InjectionError, match="number"):
        _put(sb, "Contacts", {"Name": "Third", "ContactNumber": "N-1"})
    sb.reset()
    inject.contact("Renamed", ContactNumber="N-1")


def test_invoice_and_item_indexes(sb):
    """ACCREC numbers and item codes stay unique; direct stores are indexed."""
    inject = sb.inject
    contact = inject.contact("Buyer")
    invoice = inject.invoice(contact["ContactID"], InvoiceNumber="A-1")
    doc = {"Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}}
    with pytest.raises(InjectionError, match="unique"):
        _put(sb, "Invoices", {**doc, "InvoiceNumber": "A-1"})
    _put(sb, "Invoices", {**doc, "Type": "ACCPAY", "InvoiceNumber": "A-1"})
    inject.update("Invoices", invoice["InvoiceID"], {"InvoiceNumber": "A-2"})
    _put(sb, "Invoices", {**doc, "InvoiceNumber": "A-1"})
    assert inject.get("Invoices", "A-2")["InvoiceID"] == invoice["InvoiceID"]
    with sb.lock:
        table = sb.state.tenant().table("Invoices")
        clone = copy.copy(table[invoice["InvoiceID"]])
        clone.update(InvoiceID=str(uuid.uuid4()), InvoiceNumber="A-3")
        table[clone["InvoiceID"]] = clone
    with pytest.raises(InjectionError, match="unique"):
        _put(sb, "Invoices", {**doc, "InvoiceNumber": "A-3"})
    item = inject.write("Items", {"Code": "Widget"})
    with pytest.raises(InjectionError, match="already exists"):
        _put(sb, "Items", {"Code": "WIDGET"})
    inject.update("Items", item["ItemID"], {"Code": "Gadget"})
    _put(sb, "Items", {"Code": "widget"})
    with pytest.raises(InjectionError, match="already exists"):
        _put(sb, "Items", {"Code": "GADGET"})


def test_list_pages_cost_only_the_page(sb):
    """A page of a large set builds only its own views."""
    contact = sb.inject.contact("Bulk")
    template = sb.inject.invoice(contact["ContactID"])
    start = sb.clock.now() - timedelta(days=1)
    with sb.lock:
        table = sb.state.tenant().table("Invoices")
        raw = table[template["InvoiceID"].lower()]
        for i in range(20_000):
            record = copy.copy(raw)
            record["InvoiceID"] = str(uuid.uuid4())
            record["InvoiceNumber"] = f"BULK-{i:06d}"
            record["UpdatedDateUTC"] = start + timedelta(milliseconds=i)
            table[record["InvoiceID"]] = record
    ctx = Ctx(sb, sb.state.tenant())
    resource = RESOURCES["Invoices"]
    started = time.perf_counter()
    body = list_records(
        ctx, resource, {"page": "20", "pageSize": "1000", "summaryOnly": "true"}, None
    )
    elapsed = time.perf_counter() - started
    assert body["pagination"] == {
        "page": 20,
        "pageSize": 1000,
        "pageCount": 21,
        "itemCount": 20_001,
    }
    assert body["Invoices"][0]["InvoiceNumber"] == "BULK-018999"
    assert "LineItems" not in body["Invoices"][0]
    assert elapsed < 2.0
    since = (start + timedelta(milliseconds=19_990)).isoformat()
    recent = list_records(ctx, resource, {"page": "1"}, since)
    assert [v["InvoiceNumber"] for v in recent["Invoices"]][:3] == [
        "INV-0001",
        "BULK-019990",
        "BULK-019991",
    ]
    assert recent["pagination"]["itemCount"] == 11
