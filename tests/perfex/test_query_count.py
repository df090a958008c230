"""Reads issue a number of queries that does not grow with the number of rows."""

from __future__ import annotations

from pxflask.perfex import query, reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from tests.perfex.conftest import TODAY, QueryCounter


def _counts(db: PerfexDB) -> dict[str, int]:
    """Statements issued by each read over everything."""
    calls = {
        "invoices": lambda: reads.read_invoices(db),
        "invoices_filtered": lambda: reads.read_invoices(
            db, statuses=[2, 3], date_from=TODAY.replace(year=TODAY.year - 1)
        ),
        "fingerprints": lambda: reads.invoice_fingerprints(db),
        "customers": lambda: reads.read_customers(db),
        "credit_notes": lambda: reads.read_credit_notes(db),
        "payments": lambda: reads.read_payments(db),
        "expenses": lambda: reads.read_expenses(db),
        "items": lambda: reads.read_items(db),
    }
    out = {}
    for name, call in calls.items():
        with QueryCounter(db.engine) as counter:
            call()
        out[name] = counter.count
    return out


def test_query_count_does_not_grow_with_invoices(perfex_url):
    """Same statements for 10 invoices and for 200 (and a handful at most)."""
    seed_demo(perfex_url, customers=4, invoices=10, seed=1, today=TODAY)
    db = PerfexDB.connect(perfex_url)
    try:
        small = _counts(db)
        assert len(reads.read_invoices(db)) == 10
        seed_demo(
            db.engine, customers=20, invoices=190, seed=2, force=True, today=TODAY
        )
        large = _counts(db)
        assert len(reads.read_invoices(db)) == 200
    finally:
        db.dispose()
    assert small == large
    assert large["invoices"] <= 6
    assert large["fingerprints"] == 1
    assert large["customers"] == 3


def test_id_lists_are_sent_in_chunks(sqlite_url, monkeypatch):
    """An explicit id list costs one round of queries per chunk of ids."""
    seed_demo(sqlite_url, customers=3, invoices=25, today=TODAY)
    db = PerfexDB.connect(sqlite_url)
    try:
        monkeypatch.setattr(query, "ID_CHUNK", 10)
        with QueryCounter(db.engine) as counter:
            got = reads.read_invoices(db, range(1, 26))
        assert len(got) == 25
        assert counter.count == 2 + 3 * 3  # currencies, padding; 3 chunks x 3
    finally:
        db.dispose()
