"""Invoice and credit-note numbers follow Perfex's padding option exactly."""

from __future__ import annotations

import pytest

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import INVOICE_DRAFT
from pxflask.perfex.seed import seed_demo
from pxflask.reconcile.loaders import perfex_invoices
from pxflask.sync.entities.invoices.mapper import invoice_number
from tests.perfex.conftest import TODAY


@pytest.fixture
def padded_db(perfex_url):
    """A seeded Perfex database whose stored formatted numbers are stale."""
    seed_demo(perfex_url, customers=3, invoices=20, seed=3, today=TODAY)
    db = PerfexDB.connect(perfex_url)
    with db.engine.begin() as conn:
        conn.execute(
            db.tables.invoices.update()
            .where(db.tables.invoices.c.number_format == 1)
            .values(formatted_number="STALE-1")
        )
    yield db
    db.dispose()


def _set_padding(db: PerfexDB, value: str | None) -> None:
    """Set (or, with None, delete) the number_padding_prefixes option."""
    opt = db.tables.options
    with db.engine.begin() as conn:
        conn.execute(opt.delete().where(opt.c.name == "number_padding_prefixes"))
        if value is not None:
            conn.execute(
                opt.insert().values(
                    name="number_padding_prefixes", value=value, autoload=1
                )
            )


@pytest.mark.parametrize(("option", "width"), [("", 0), ("3", 3), ("0", 0), (None, 6)])
def test_numbers_follow_the_padding_option(padded_db, option, width):
    """Empty means no padding, a width pads, only a missing option is 6."""
    _set_padding(padded_db, option)
    plain = reads.read_invoices(padded_db)
    checked = 0
    for inv in plain:
        if inv.status == INVOICE_DRAFT or inv.number_format != 1:
            continue
        expected = f"{inv.prefix}{str(inv.number).rjust(width, '0')}"
        assert inv.formatted_number == expected
        assert invoice_number(inv) == expected
        checked += 1
    assert checked
    frame = perfex_invoices(padded_db).set_index("perfex_id")["invoice_number"]
    assert {i.id: frame[i.id] for i in plain if i.status != INVOICE_DRAFT} == {
        i.id: i.formatted_number for i in plain if i.status != INVOICE_DRAFT
    }
    for note in reads.read_credit_notes(padded_db):
        if note.number_format == 1:
            assert note.formatted_number == (
                f"{note.prefix}{str(note.number).rjust(width, '0')}"
            )
