"""Documents made in Xero through the module's API (Perfex's models), else directly."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from pxflask.perfex import module_api
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.document_writes import CREDIT_NOTE, INVOICE, NewDocument, NewLine
from pxflask.perfex.module_api import ModuleUnavailable, PerfexModule
from tests.perfex_module.php import free_port, php_server

TOKEN = "api-token-0123456789"  # noqa: S105 - a test token
XERO_ID = "5e1f2a3b-0000-4000-8000-00000000abcd"


def _state(tmp_path: Path) -> Path:
    """The stand-ins' Perfex state: the token and the numbering options."""
    options = {
        "pxflask_bearer_token": TOKEN,
        "next_invoice_number": "7",
        "invoice_prefix": "INV-",
        "invoice_number_format": "1",
        "next_credit_note_number": "3",
        "credit_note_prefix": "CN-",
        "credit_note_number_format": "1",
    }
    state = tmp_path / "state.json"
    rows = [
        {"id": n, "name": k, "value": v} for n, (k, v) in enumerate(options.items())
    ]
    state.write_text(json.dumps({"tbloptions": rows, "tblinvoices": []}))
    return state


def _doc(kind: str = INVOICE, **kw: object) -> NewDocument:
    """A document of two lines, one taxed twice."""
    values: dict = {
        "kind": kind,
        "clientid": 4,
        "on": date(2026, 3, 2),
        "currency_id": 1,
        "subtotal": Decimal("110.00"),
        "total_tax": Decimal("22.00"),
        "total": Decimal("132.00"),
        "lines": (
            NewLine(
                "Design", Decimal(2), Decimal("50.00"), (("VAT", Decimal("20.00")),)
            ),
            NewLine("Hosting", Decimal(1), Decimal("10.00"), (("VAT", Decimal(20)),)),
        ),
        "duedate": date(2026, 4, 1),
        "adminnote": f"Made in Xero: Xero invoice INV-0042 ({XERO_ID})",
        "reference_no": "CN-0009",
    }
    values.update(kw)
    return NewDocument(**values)


def test_a_document_goes_through_perfex_s_model_once(tmp_path):
    """Perfex's model adds it with the next number, its lines and taxes; once."""
    state = _state(tmp_path)
    with php_server(state) as url:
        module = PerfexModule(url, TOKEN)
        first = module.create_document(_doc(), XERO_ID)
        again = module.create_document(_doc(), XERO_ID)
        note = module.create_document(_doc(CREDIT_NOTE), "aaaaaaaa-bbbb")
        with pytest.raises(ValueError, match="send kind"):
            module.create_document(_doc(lines=()), XERO_ID)
        with pytest.raises(ModuleUnavailable, match="HTTP 401"):
            PerfexModule(url, "wrong").create_document(_doc(), XERO_ID)
    assert first == (1, "INV-000001") and again == first
    assert note == (1, "CN-000001")
    tables = json.loads(state.read_text())
    [invoice] = tables["tblinvoices"]
    assert invoice["number"] == "7" and invoice["date"] == "2026-03-02"
    assert invoice["clientid"] == 4 and invoice["total"] == "132.00"
    assert XERO_ID in invoice["adminnote"]
    [credit] = tables["tblcreditnotes"]
    assert credit["number"] == "3" and credit["reference_no"] == "CN-0009"
    options = {row["name"]: row["value"] for row in tables["tbloptions"]}
    assert options["next_invoice_number"] == "8"
    assert options["next_credit_note_number"] == "4"
    items = [i for i in tables["tblitemable"] if i["rel_type"] == "invoice"]
    assert [
        (i["description"], i["qty"], i["rate"], i["item_order"]) for i in items
    ] == [
        ("Design", "2", "50.00", 1),
        ("Hosting", "1", "10.00", 2),
    ]
    taxes = [t for t in tables["tblitem_tax"] if t["rel_type"] == "invoice"]
    assert [(t["taxname"], t["taxrate"]) for t in taxes] == [
        ("VAT", "20.00"),
        ("VAT", "20"),
    ]


def test_the_direct_write_is_the_fallback(tmp_path, perfex_copy_url):
    """The module down: the document is written straight into Perfex's tables."""
    perfex = PerfexDB.connect(perfex_copy_url)
    client = perfex.tables.clients
    with perfex.engine.connect() as conn:
        customer = conn.execute(sa.select(sa.func.min(client.c.userid))).scalar_one()
    perfex.module = PerfexModule(f"http://127.0.0.1:{free_port()}", TOKEN, 2.0)
    doc_id, number = module_api.create_document(
        perfex, _doc(clientid=customer), XERO_ID
    )
    inv = perfex.tables.invoices
    with perfex.engine.connect() as conn:
        row = conn.execute(sa.select(inv).where(inv.c.id == doc_id)).mappings().one()
    assert row["clientid"] == customer and row["total"] == Decimal("132.00")
    assert row["formatted_number"] == number and XERO_ID in row["adminnote"]
    perfex.engine.dispose()
