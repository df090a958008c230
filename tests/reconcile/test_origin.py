"""Records made in Xero show where they came from: the rows' origin, the record page.

An invoice typed in Xero is brought into Perfex by the documents pull, a payment
typed in Xero by the payments pull (the real sync against the sandbox); the
reconciliation's CSV, XLSX and page then show origin ``xero`` for them and
``perfex`` for the pushed ones, and the pulled record's page says it was made in Xero.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.models import Base, Link, SyncLog
from pxflask.perfex import reads
from pxflask.reconcile.expense_sources import expense_links, pulled_from_bills
from pxflask.reconcile.origin import Linked
from pxflask.reconcile.refunds import (
    PERFEX_REFUND_COLUMNS,
    XERO_REFUND_COLUMNS,
    refund_rows,
)
from pxflask.reconcile.scope_snapshot import typed_frame
from pxflask.sync.engine import run_sync
from pxflask.sync.entities.documents_pull import ENTITY as DOCUMENTS
from pxflask.sync.entities.documents_pull.rules import reverse_taxes
from pxflask.sync.links import PULLED_FROM_XERO
from pxflask.sync.taxrates import cached_rates
from tests.fixtures.webapp import AuthActions, csrf_token
from tests.reconcile.conftest import SYNC_SETTINGS, World

PULLS = {**SYNC_SETTINGS, "documents_from_xero": "yes", "payments_from_xero": "yes"}
MADE_IN_XERO = re.compile(
    r"Made in Xero — brought into Perfex by pxflask on (\d{4}-\d\d-\d\d)"
)


@dataclass(frozen=True)
class Pulled:
    """The records pulled from Xero, and pushed ones of the same kinds."""

    invoice: int
    invoice_xero_id: str
    pushed_invoice: int
    payment: int
    pushed_payment: int


def _links(world: World, entity: str) -> dict[str, Link]:
    """The links of one entity by Perfex key."""
    with world.session() as session:
        found = session.scalars(sa.select(Link).where(Link.entity == entity))
        return {link.perfex_key: link for link in found}


def _mapped_tax(world: World) -> str:
    """A Xero TaxType with a rate above 0 that one Perfex tax is mapped to."""
    with world.session() as session:
        rates = {r.tax_type: r.rate for r in cached_rates(session)}
    numbers = {k: v.xero_number for k, v in _links(world, "taxes").items()}
    taxes = reads.read_taxes(world.perfex)
    reverse = reverse_taxes(PULLS, taxes, {k: v for k, v in numbers.items() if v})
    for tax_type, keys in sorted(reverse.items()):
        if len(keys) == 1 and rates.get(tax_type, 0) > 0:
            [key] = keys
            if len(key) == 1:
                return tax_type
    raise AssertionError("no mapped Perfex tax with a rate")


def _pull(world: World, entities: list[str]) -> None:
    """Run the pulls of some entities, as the sync does."""
    with world.session() as session:
        result = run_sync(session, world.perfex, world.make_gateway(), PULLS, entities)
    assert result.ok, result.failed


def _unpaid_pushed(world: World) -> dict[str, Any]:
    """A pushed, authorised Xero invoice without payments."""
    pushed = {link.xero_id for link in _links(world, "invoices").values()}
    return next(
        i
        for i in world.xero("Invoices")
        if i["InvoiceID"] in pushed
        and i["Status"] == "AUTHORISED"
        and not i["AmountPaid"]
        and Decimal(str(i["Total"])) > 2
    )


def pull_records(world: World) -> Pulled:
    """An invoice and a payment typed in Xero, pulled into Perfex."""
    target = _unpaid_pushed(world)
    made = world.sandbox.inject.invoice(
        target["Contact"]["ContactID"],
        [
            {
                "Description": "Typed in Xero",
                "Quantity": "1",
                "UnitAmount": "120.00",
                "AccountCode": "200",
                "TaxType": _mapped_tax(world),
            }
        ],
        CurrencyCode=target["CurrencyCode"],
        Date="2026-11-20",
        DueDate="2026-12-20",
    )
    world.sandbox.inject.payment(
        target["InvoiceID"], Decimal("1.00"), on=dt.date(2026, 11, 25)
    )
    _pull(world, [DOCUMENTS, "payments"])
    invoices = _links(world, "invoices")
    payments = _links(world, "payments")
    [invoice] = [
        int(k) for k, v in invoices.items() if v.idempotency_key == PULLED_FROM_XERO
    ]
    assert invoices[str(invoice)].xero_id == made["InvoiceID"]
    [payment] = [
        int(k) for k, v in payments.items() if v.idempotency_key == PULLED_FROM_XERO
    ]
    pushed_invoice = int(
        next(k for k, v in invoices.items() if v.xero_id == target["InvoiceID"])
    )
    pushed_payment = int(
        next(
            k
            for k, v in sorted(payments.items())
            if v.xero_id and v.idempotency_key != PULLED_FROM_XERO
        )
    )
    return Pulled(invoice, made["InvoiceID"], pushed_invoice, payment, pushed_payment)


@pytest.fixture
def admin(world_app):
    """A client of the world's panel, signed in as the seeded admin."""
    client = world_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def _refresh(client) -> str:
    """Run the reconciliation from the page; the page it shows afterwards."""
    token = csrf_token(client, "/reconcile/")
    answer = client.post(
        "/reconcile/refresh", data={"csrf_token": token}, follow_redirects=True
    )
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _csv(client, name: str) -> list[dict[str, str]]:
    """The rows of a CSV download."""
    body = client.get(f"/reconcile/download/{name}.csv").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def _sheet(client, name: str) -> list[dict[str, Any]]:
    """The rows of one sheet of the XLSX download (up to the totals)."""
    data = client.get("/reconcile/download/report.xlsx").data
    values = list(openpyxl.load_workbook(io.BytesIO(data))[name].values)
    header = [str(h) for h in values[0]]
    rows = []
    for row in values[1:]:
        if all(v is None for v in row):
            break  # the totals under a blank row
        rows.append(dict(zip(header, row, strict=True)))
    return rows


def _origins(rows: list[dict[str, Any]], key: str) -> dict[str, str]:
    """Perfex id (text) -> origin of the rows that have a Perfex record."""
    return {str(r[key]): str(r["origin"]) for r in rows if r[key] not in (None, "")}


def _page_row(client, scope: str, **filters: str) -> list[str]:
    """The rows of the page's table (their HTML) for some filters."""
    query = "&".join(f"{k}={v}" for k, v in {"category": "", **filters}.items())
    page = client.get(f"/reconcile/?scope={scope}&{query}").get_data(as_text=True)
    table = page[page.index('<table id="rows">') : page.index("</table>")]
    return re.findall(r"<tr>.*?</tr>", table, re.S)[1:]


def test_pulled_invoice_and_payment_read_xero_in_csv_xlsx_and_page(world, admin):
    """origin: xero for the pulled invoice and payment, perfex for pushed ones."""
    pulled = pull_records(world)
    _refresh(admin)

    invoices_csv = _origins(_csv(admin, "invoices"), "perfex_id")
    assert invoices_csv[str(pulled.invoice)] == "xero"
    assert invoices_csv[str(pulled.pushed_invoice)] == "perfex"
    assert set(invoices_csv.values()) == {"xero", "perfex"}
    assert list(invoices_csv.values()).count("xero") == 1
    payments_csv = _origins(_csv(admin, "payments"), "perfex_payment_id")
    assert payments_csv[str(pulled.payment)] == "xero"
    assert payments_csv[str(pulled.pushed_payment)] == "perfex"
    assert list(payments_csv.values()).count("xero") == 1

    # the workbook says the same as the CSV, row for row
    assert _origins(_sheet(admin, "invoices"), "perfex_id") == invoices_csv
    assert _origins(_sheet(admin, "payments"), "perfex_payment_id") == payments_csv

    # the page: a 'from Xero' badge on the pulled rows only; filterable by origin
    number = next(
        r["invoice_number"]
        for r in _csv(admin, "invoices")
        if r["perfex_id"] == str(pulled.invoice)
    )
    [row] = _page_row(admin, "invoices", q=number)
    assert 'class="badge xero"' in row and "from Xero" in row
    made_in_xero = _page_row(admin, "invoices", origin="xero")
    assert len(made_in_xero) == 1 and number in made_in_xero[0]
    made_in_perfex = _page_row(admin, "invoices", origin="perfex")
    assert made_in_perfex and not any("from Xero" in r for r in made_in_perfex)
    [payment_row] = _page_row(admin, "payments", origin="xero")
    assert str(pulled.payment) in payment_row and "from Xero" in payment_row
    pushed_rows = _page_row(admin, "payments", origin="perfex")
    assert any(f">{pulled.pushed_payment}<" in r for r in pushed_rows)
    assert not any("from Xero" in r for r in pushed_rows)


def _log_id(world: World, entity: str, key: int, action: str | None = None) -> int:
    """The newest log row of a record (of one action when given)."""
    with world.session() as session:
        stmt = sa.select(sa.func.max(SyncLog.id)).where(
            SyncLog.entity == entity, SyncLog.perfex_key == str(key)
        )
        if action:
            stmt = stmt.where(SyncLog.action == action)
        found = session.scalar(stmt)
    assert found is not None, f"no log row of {entity} {key}"
    return int(found)


def test_record_page_says_a_pulled_record_was_made_in_xero(world, admin):
    """The pulled invoice's and payment's pages carry the line; a pushed one not."""
    pulled = pull_records(world)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for entity, key in (("invoices", pulled.invoice), ("payments", pulled.payment)):
        page = admin.get(f"/sync/log/{_log_id(world, entity, key, 'pull')}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        found = MADE_IN_XERO.search(text)
        assert found is not None, f"{entity} {key}: no provenance line"
        assert found.group(1) == today  # the day of the pull (the log's UTC date)
    page = admin.get(f"/sync/log/{_log_id(world, 'invoices', pulled.pushed_invoice)}")
    assert page.status_code == 200
    assert "Made in Xero" not in page.get_data(as_text=True)


def test_linked_ids_reads_pulled_marks_and_bills_in_one_query(tmp_path):
    """Links with a Xero id, the pulled ones (bills without a Xero id too)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'module.db'}")
    Base.metadata.create_all(engine)
    rows = [
        ("1", "AAA", None),  # pushed
        ("2", "BBB", PULLED_FROM_XERO),  # spend money pulled from Xero
        ("3", None, PULLED_FROM_XERO),  # a bill pulled from Xero: no SPEND id
        ("4", None, None),  # pending push: neither
        ("spend:x", "CCC", None),  # not a Perfex id
    ]
    with sessionmaker(engine)() as session:
        session.add_all(
            Link(entity="expenses", perfex_key=k, xero_id=x, idempotency_key=m)
            for k, x, m in rows
        )
        session.add(Link(entity="payments", perfex_key="9", xero_id="DDD"))
        session.commit()
        statements: list[str] = []
        sa.event.listen(
            engine, "before_cursor_execute", lambda *a: statements.append(a[2])
        )
        links = expense_links(session)
    engine.dispose()
    assert len(statements) == 1
    assert dict(links) == {1: "aaa", 2: "bbb"}
    assert links.pulled == {2, 3}
    assert pulled_from_bills(links) == {3}


def _refunds(*ids: int) -> pd.DataFrame:
    """Perfex refunds of 10.00 each."""
    return typed_frame(
        [
            {
                "perfex_refund_id": i,
                "perfex_credit_note_id": 1,
                "xero_credit_note_id": "cn",
                "date": dt.date(2025, 6, 10),
                "currency": "GBP",
                "amount_cents": 1000,
            }
            for i in ids
        ],
        PERFEX_REFUND_COLUMNS,
    )


def _xero_refunds(*rows: tuple[str, int | None]) -> pd.DataFrame:
    """Xero refunds of 10.00 each: (PaymentID, the Perfex id its Reference names)."""
    return typed_frame(
        [
            {
                "xero_id": x,
                "credit_note_id": "cn",
                "reference_id": ref,
                "date": dt.date(2025, 6, 10),
                "status": "AUTHORISED",
                "currency": "GBP",
                "amount_cents": 1000,
            }
            for x, ref in rows
        ],
        XERO_REFUND_COLUMNS,
    )


def test_refund_rows_say_where_each_refund_was_made():
    """Pulled: xero; pushed: perfex; only in Xero: xero unless ours (link, marker)."""
    links = Linked([(1, "a"), (2, "b"), (3, "c")], pulled=[2])
    perfex = _refunds(1, 2, 4)  # 3 was pushed, then deleted in Perfex
    xero = _xero_refunds(("a", None), ("b", None), ("c", None), ("d", 5), ("e", None))
    rows = refund_rows(perfex, xero, links)
    key = rows["xero_payment_id"].fillna(
        "refund " + rows["perfex_refund_id"].astype(str)
    )
    assert dict(zip(key, rows["origin"].astype(str), strict=True)) == {
        "a": "perfex",  # pushed
        "b": "xero",  # pulled from Xero
        "c": "perfex",  # only in Xero now, but a push link names it
        "d": "perfex",  # only in Xero, its Reference names Perfex refund 5
        "e": "xero",  # typed in Xero, never brought over
        "refund 4": "perfex",  # in Perfex only
    }
    plain = refund_rows(perfex, xero, {1: "a", 2: "b"})  # a plain mapping: no marks
    assert plain.set_index("xero_payment_id").at["b", "origin"] == "perfex"
