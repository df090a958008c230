"""The bulk read machinery: column-wise record building and packed-read fallbacks."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pxflask.perfex import _packed, reads
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

US = _packed.US


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
    assert names == list(values)
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
    # Small buckets: several per read, the tricky rows in different ones.
    monkeypatch.setattr(_packed, "BUCKET", 8)
    yield db, line_ids
    db.dispose()


def _both_ways(db: PerfexDB, **kwargs) -> tuple[list[Invoice], list[Invoice]]:
    """read_invoices through the packed path (MySQL only) and the plain one."""
    db.packed_reads = True
    packed = reads.read_invoices(db, **kwargs)
    db.packed_reads = False
    plain = reads.read_invoices(db, **kwargs)
    return packed, plain


def test_tricky_values_read_exactly(tricky_db):
    """Separators in text, NULLs and empty strings come back as stored."""
    db, line_ids = tricky_db
    packed, plain = _both_ways(db)
    assert packed == plain
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
    """Id lists, filters and paging agree between the packed and plain paths."""
    db, _ = tricky_db
    ids = [40, 4, 9, 10, 25, 30, 2, 999]
    packed, plain = _both_ways(db, ids=ids)
    assert packed == plain
    assert [i.id for i in plain] == [2, 4, 9, 10, 25, 30, 40]
    packed, plain = _both_ways(db, after_id=7, limit=20)
    assert packed == plain
    assert [i.id for i in plain] == list(range(8, 28))
    packed, plain = _both_ways(db, statuses=[1, 2, 4])
    assert packed == plain


@pytest.mark.parametrize("perfex_url", ["mariadb"], indirect=True)
def test_unsafe_buckets_are_reread_plainly(tricky_db, count_queries):
    """Only the buckets holding separators cost extra queries (MySQL only)."""
    db, _ = tricky_db
    assert db.is_mysql
    with count_queries(db.engine) as counter:
        reads.read_invoices(db)
    # currencies, padding, SET, headers, taxes, lines in two halves (split at a
    # header bucket); then lines for the buckets of lines 4 (invoice 1) and the tax
    # of invoice 25, headers for 9 and 30.
    assert counter.count == 7 + 2 * 2 + 2


def test_packed_split_detects_cut_and_shifted_buckets():
    """A bucket is safe only with count * width fields and the right id sum."""
    good = f"1{US}a{US}2{US}b"
    assert list(_packed._split([(0, 2, 3, good)], 2)) == [(0, 2, ["1", "a", "2", "b"])]
    assert list(_packed._split([(0, 2, 3, good.encode())], 2))[0][0] == 0
    # A separator in a text and a cut tail cancel out in the field count.
    assert list(_packed._split([(4, 2, 3, f"1{US}x{US}y{US}2")], 2)) == [4]
    assert list(_packed._split([(5, 2, 3, f"1{US}x{US}5{US}2")], 2)) == [5]
    assert list(_packed._split([(6, 2, 3, f"1{US}a{US}2")], 2)) == [6]
    assert list(_packed._split([(7, 2, 3, None)], 2)) == [7]
