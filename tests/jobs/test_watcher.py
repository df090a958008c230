"""The Perfex watcher: cheap aggregate marks find new and edited rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from pxflask.extensions import db
from pxflask.jobs import watch_job
from pxflask.models import SyncRun
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import get_queue
from pxflask.sync.settings import set_setting
from pxflask.sync.watcher import Change, detect_changes

ENTITIES = ["taxes", "payment-modes", "customers", "items", "invoices", "payments"]


def _execute(perfex: PerfexDB, statement) -> int:
    """Run one write on the Perfex DB; return the inserted id, if any."""
    with perfex.engine.begin() as conn:
        result = conn.execute(statement)
        return result.inserted_primary_key[0] if result.is_insert else 0


@pytest.fixture
def seeded_perfex(perfex_url):
    """A small seeded Perfex DB, on SQLite and on MariaDB."""
    seed_demo(perfex_url, customers=4, invoices=6, seed=3)
    perfex = PerfexDB.connect(perfex_url)
    yield perfex
    perfex.engine.dispose()


def test_new_rows_are_targeted_edits_sync_the_entity(seeded_perfex):
    """An insert yields its key; an edit of an older row yields the whole entity."""
    marks: dict[str, str] = {}
    assert detect_changes(seeded_perfex, ENTITIES, marks.get, marks.__setitem__) == []
    assert detect_changes(seeded_perfex, ENTITIES, marks.get, marks.__setitem__) == []

    tables = seeded_perfex.tables
    tax_id = _execute(
        seeded_perfex, tables.taxes.insert().values(name="Watch tax", taxrate="7.50")
    )
    _execute(
        seeded_perfex,
        tables.invoices.update().where(tables.invoices.c.id == 1).values(status=5),
    )
    changes = detect_changes(seeded_perfex, ENTITIES, marks.get, marks.__setitem__)
    assert sorted(changes, key=lambda c: c.entity) == [
        Change("invoices", everything=True),
        Change("taxes", keys=(str(tax_id),)),
    ]
    assert detect_changes(seeded_perfex, ENTITIES, marks.get, marks.__setitem__) == []


def test_watch_job_queues_targeted_syncs_in_realtime_mode(tmp_path, perfex_copy_url):
    """The watcher job compares with its marks and queues a sync per change."""
    from tests.fixtures.webapp import make_test_app
    from tests.jobs.conftest import XERO_APP, _dispose

    app = make_test_app(tmp_path, perfex_copy_url, **XERO_APP)
    try:
        queue = get_queue(app)
        assert queue.wait(queue.enqueue(watch_job)) == {
            "skipped": "sync mode is not realtime"
        }
        with app.app_context():
            set_setting(db.session, "sync_mode", "realtime")
        assert queue.wait(queue.enqueue(watch_job))["changes"] == 0
        engine = sa.create_engine(perfex_copy_url)
        taxes = sa.Table("tbltaxes", sa.MetaData(), autoload_with=engine)
        with engine.begin() as conn:
            new_id = conn.execute(
                taxes.insert().values(name="Hooked", taxrate=3)
            ).inserted_primary_key[0]
        engine.dispose()
        result = queue.wait(queue.enqueue(watch_job))
        assert result["changes"] == 1
        with app.app_context():
            run = db.session.get(SyncRun, result["runs"][0])
            assert run.scope == f"taxes#taxes:{new_id}"
            assert run.trigger == "watch"
            assert db.session.scalar(select(sa.func.count()).select_from(SyncRun)) == 1
    finally:
        _dispose(app)


def test_new_rows_with_cents_are_not_mistaken_for_edits(seeded_perfex):
    """Totals of new invoices leave the older rows' mark exact; a cent edit shows."""
    marks: dict[str, str] = {}
    detect_changes(seeded_perfex, ["invoices"], marks.get, marks.__setitem__)
    inv = seeded_perfex.tables.invoices
    with seeded_perfex.engine.connect() as conn:
        row = dict(conn.execute(select(inv).where(inv.c.id == 2)).mappings().one())
    row.pop("id")
    added = []
    for cents in (10, 20, 12345, 98761, 3):
        total = "{}.{:02d}".format(*divmod(cents, 100))
        values = {**row, "hash": f"{cents:032d}", "total": total, "subtotal": total}
        added.append(str(_execute(seeded_perfex, inv.insert().values(**values))))
    changes = detect_changes(seeded_perfex, ["invoices"], marks.get, marks.__setitem__)
    assert changes == [Change("invoices", keys=tuple(added))]
    _execute(
        seeded_perfex,
        inv.update()
        .where(inv.c.id == 3)
        .values(total=inv.c.total + sa.literal("0.01")),
    )
    changes = detect_changes(seeded_perfex, ["invoices"], marks.get, marks.__setitem__)
    assert changes == [Change("invoices", everything=True)]
    assert (
        detect_changes(seeded_perfex, ["invoices"], marks.get, marks.__setitem__) == []
    )


def test_credit_notes_credits_and_expenses_are_watched(seeded_perfex):
    """The opt-in entities are watched too: a new expense, an edited credit note."""
    entities = ["credit-notes", "expenses"]
    marks: dict[str, str] = {}
    assert detect_changes(seeded_perfex, entities, marks.get, marks.__setitem__) == []
    tables = seeded_perfex.tables
    with seeded_perfex.engine.connect() as conn:
        first = conn.execute(select(tables.expenses).limit(1)).mappings().one()
    new = {k: v for k, v in first.items() if k != "id"}
    new.update(amount="12.34", expense_name="Watched lunch")
    expense_id = _execute(seeded_perfex, tables.expenses.insert().values(**new))
    note = tables.creditnotes
    _execute(seeded_perfex, note.update().where(note.c.id == 1).values(status=3))
    changes = detect_changes(seeded_perfex, entities, marks.get, marks.__setitem__)
    assert sorted(changes, key=lambda c: c.entity) == [
        Change("credit-notes", everything=True),
        Change("expenses", keys=(str(expense_id),)),
    ]
    assert detect_changes(seeded_perfex, entities, marks.get, marks.__setitem__) == []


def test_first_look_after_a_start_or_a_pause_syncs_what_was_synced(seeded_perfex):
    """No marks, or a look long ago: every synced entity is compared with its sync."""
    marks: dict[str, str] = {}
    synced = {"invoices", "customers"}.__contains__

    def look(now: float) -> list[Change]:
        return detect_changes(
            seeded_perfex,
            ENTITIES,
            marks.get,
            marks.__setitem__,
            synced=synced,
            stale_after=120,
            now=now,
        )

    first = look(1_000)
    assert sorted(c.entity for c in first) == ["customers", "invoices"]
    assert all(c.everything for c in first)
    assert look(1_030) == []
    inv = seeded_perfex.tables.invoices
    _execute(
        seeded_perfex,
        inv.update().where(inv.c.id == 2).values(adminnote="unwatched column"),
    )
    assert look(1_060) == [], "the marks do not see this column"
    after_pause = look(5_000)
    assert sorted(c.entity for c in after_pause) == ["customers", "invoices"]
    assert look(5_030) == []


def test_watch_job_first_look_queues_a_sync_of_entities_synced_before(
    tmp_path, perfex_copy_url
):
    """Real time: the job's first look queues a run of each entity synced before."""
    from pxflask.models import Link
    from tests.fixtures.webapp import make_test_app
    from tests.jobs.conftest import XERO_APP, _dispose

    app = make_test_app(tmp_path, perfex_copy_url, **XERO_APP)
    try:
        with app.app_context():
            set_setting(db.session, "sync_mode", "realtime")
            db.session.add(Link(entity="invoices", perfex_key="1", state="synced"))
            db.session.commit()
        queue = get_queue(app)
        result = queue.wait(queue.enqueue(watch_job))
        assert result["changes"] == 1
        with app.app_context():
            run = db.session.get(SyncRun, result["runs"][0])
            assert run.scope == "invoices" and run.trigger == "watch"
        assert queue.wait(queue.enqueue(watch_job))["changes"] == 0
    finally:
        _dispose(app)
