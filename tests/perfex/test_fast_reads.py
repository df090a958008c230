"""The bulk read machinery: column-wise record building and awkward stored values."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import (
    Currency,
    Invoice,
    Line,
    LineTax,
    build_records,
)
from pxflask.perfex.seed import seed_demo
from tests.perfex.conftest import TODAY

US = "\x1f"  # a control character in stored text


def _sample_lines() -> list[Line]:
    """Lines covering None, empty text, taxes and both flags."""
    vat = LineTax("VAT", Decimal("20.00"))
    return [
        Line(1, "a", None, Decimal("1.00"), Decimal("2.50"), None, 0, ()),
        Line(2, "", "", Decimal("3.00"), Decimal("0.00"), "", 5, (vat,), True, False),
        Line(3, "c", "long", Decimal("1.25"), Decimal("9.99"), "h", 2, (vat, vat)),
    ]


def test_build_records_makes_equal_records():
    """build_records gives the records the constructor gives, still frozen."""
    expected = _sample_lines()
    columns = list(zip(*(dataclasses.astuple(x) for x in expected), strict=True))
    # astuple turns nested LineTax records into tuples: restore them.
    columns[7] = tuple(line.taxes for line in expected)
    built = build_records(Line, len(expected), columns)
    assert built == expected
    assert [hash(b) for b in built] == [hash(e) for e in expected]
    assert all(type(b) is Line for b in built)
    assert repr(built[1]) == repr(expected[1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        built[0].qty = Decimal("2.00")  # type: ignore[misc]
    assert build_records(Line, 0, [()] * 10) == []


def test_build_records_invoice_matches_constructor():
    """Every Invoice field lands in its own slot."""
    values = dict(  # noqa: C408 - field names as keywords
        id=7,
        number=12,
        prefix="INV-",
        number_format=1,
        formatted_number="INV-000012",
        customer_id=3,
        date=date(2025, 1, 2),
        duedate=None,
        currency=Currency(1, "USD", "$", True),
        subtotal=Decimal("10.00"),
        total_tax=Decimal("2.00"),
        total=Decimal("12.00"),
        adjustment=Decimal("0.00"),
        discount_percent=Decimal("0.00"),
        discount_total=Decimal("0.00"),
        discount_type="",
        status=2,
        clientnote=None,
        terms="t",
        datecreated=datetime(2025, 1, 2, 3, 4, 5),
        lines=tuple(_sample_lines()),
        damaged="date is the zero date '0000-00-00'",
    )
    names = [f.name for f in dataclasses.fields(Invoice)]
    assert sorted(names) == sorted(values)
    (built,) = build_records(Invoice, 1, [[values[n]] for n in names])
    assert built == Invoice(**values)
    for name in names:
        assert getattr(built, name) is values[name]


def test_build_records_rejects_wrong_columns():
    """A missing field or a short column is an error, not a half-built record."""
    with pytest.raises(TypeError):
        build_records(Line, 1, [[1]] * 9)
    with pytest.raises(AttributeError):
        build_records(Line, 2, [[1, 2]] * 9 + [[True]])


@pytest.fixture
def tricky_db(perfex_url, monkeypatch):
    """A small demo database with separators, NULLs and empty texts in odd places."""
    seed_demo(perfex_url, customers=4, invoices=40, seed=3, today=TODAY)
    db = PerfexDB.connect(perfex_url)
    inv, li, tx = db.tables.invoices, db.tables.itemable, db.tables.item_tax
    with db.engine.begin() as conn:
        line_ids = list(
            conn.execute(
                sa.select(li.c.id).where(li.c.rel_type == "invoice").order_by(li.c.id)
            ).scalars()
        )
        one, two, three, last = line_ids[3], line_ids[4], line_ids[5], line_ids[-1]
        conn.execute(
            li.update().where(li.c.id == one).values(description=f"a{US}b{US}c")
        )
        conn.execute(
            li.update()
            .where(li.c.id == two)
            .values(long_description=None, unit=None, item_order=None)
        )
        conn.execute(li.update().where(li.c.id == three).values(long_description=""))
        conn.execute(li.update().where(li.c.id == last).values(unit="", description=""))
        conn.execute(
            inv.update().where(inv.c.id == 9).values(clientnote=f"x{US}", terms=None)
        )
        conn.execute(
            inv.update()
            .where(inv.c.id == 10)
            .values(
                clientnote="",
                adjustment=None,
                formatted_number="",
                prefix=None,
                duedate=None,
            )
        )
        conn.execute(inv.update().where(inv.c.id == 30).values(terms=f"{US}"))
        first_tax = conn.execute(
            sa.select(sa.func.min(tx.c.id)).where(tx.c.rel_id == 25)
        ).scalar()
        conn.execute(tx.update().where(tx.c.id == first_tax).values(taxname=f"T{US}X"))
    yield db, line_ids
    db.dispose()


def test_tricky_values_read_exactly(tricky_db):
    """Separators in text, NULLs and empty strings come back as stored."""
    db, line_ids = tricky_db
    plain = reads.read_invoices(db)
    assert [i.id for i in plain] == list(range(1, 41))
    by_id = {i.id: i for i in plain}
    lines = {line.id: line for i in plain for line in i.lines}
    one, two, three, last = (line_ids[i] for i in (3, 4, 5, -1))
    assert lines[one].description == f"a{US}b{US}c"
    assert (lines[two].long_description, lines[two].unit) == (None, None)
    assert lines[two].item_order == 0
    assert lines[three].long_description == ""
    assert (lines[last].unit, lines[last].description) == ("", "")
    assert by_id[9].clientnote == f"x{US}" and by_id[9].terms is None
    ten = by_id[10]
    assert (ten.clientnote, ten.adjustment, ten.prefix, ten.duedate) == (
        "",
        Decimal("0.00"),
        "",
        None,
    )
    assert ten.formatted_number  # computed when empty
    assert by_id[30].terms == US
    assert any(t.name == f"T{US}X" for line in by_id[25].lines for t in line.taxes)
    for invoice in plain:
        orders = [line.item_order for line in invoice.lines]
        assert orders == sorted(orders)


def test_tricky_values_with_ids_filters_and_pages(tricky_db):
    """Id lists, filters and paging return what the full read returns for them."""
    db, _ = tricky_db
    by_id = {i.id: i for i in reads.read_invoices(db)}
    got = reads.read_invoices(db, [40, 4, 9, 10, 25, 30, 2, 999])
    assert got == [by_id[i] for i in (2, 4, 9, 10, 25, 30, 40)]
    page = reads.read_invoices(db, after_id=7, limit=20)
    assert page == [by_id[i] for i in range(8, 28)]
    chosen = reads.read_invoices(db, statuses=[1, 2, 4])
    assert chosen == [i for i in by_id.values() if i.status in (1, 2, 4)]
