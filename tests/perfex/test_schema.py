"""Connecting to real-world Perfex databases: optional columns, errors, charsets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexConnectionError, PerfexDB, PerfexSchemaError
from pxflask.perfex.records import INVOICE_DRAFT
from pxflask.perfex.schema import create_tables
from pxflask.perfex.seed import seed_demo
from tests.fixtures.databases import drop_mariadb_database
from tests.perfex.conftest import TODAY, backend_url

OLD_COLUMNS = [
    "invoices.formatted_number",
    "creditnotes.formatted_number",
    "itemable.is_optional",
    "itemable.is_selected",
]


def _seed_small(url: str, prefix: str = "tbl") -> None:
    """A small demo database."""
    seed_demo(url, prefix=prefix, customers=3, invoices=12, seed=2, today=TODAY)


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def scratch_db(request, tmp_path_factory) -> Iterator[PerfexDB]:
    """A small demo database per backend that this module's tests may edit."""
    url = backend_url(request.param, tmp_path_factory)
    _seed_small(url)
    db = PerfexDB.connect(url)
    yield db
    db.dispose()
    if request.param == "mariadb":
        drop_mariadb_database(url)


def _execute(url: str, *statements: str) -> None:
    """Run raw SQL statements in one transaction."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def test_older_schema_without_optional_columns(perfex_url):
    """No formatted_number / is_optional: numbers computed, lines all counted."""
    engine = sa.create_engine(perfex_url)
    create_tables(engine, without=OLD_COLUMNS)
    seed_demo(engine, customers=3, invoices=30, seed=5, today=TODAY)
    engine.dispose()
    _execute(
        perfex_url,
        "UPDATE tbloptions SET value = '4' WHERE name = 'number_padding_prefixes'",
    )
    db = PerfexDB.connect(perfex_url)
    try:
        assert not db.has_invoice_formatted_number
        assert not db.has_creditnote_formatted_number
        assert not db.has_optional_lines
        invoices = reads.read_invoices(db)
        assert len(invoices) == 30
        for inv in invoices:
            if inv.status == INVOICE_DRAFT:
                assert inv.formatted_number == "INV-DRAFT"
            elif inv.number_format == 1:
                assert inv.formatted_number == f"INV-{inv.number:04d}"
            assert all(line.counts for line in inv.lines)
        assert reads.read_invoices(db, [inv.id for inv in invoices]) == invoices
        assert reads.read_credit_notes(db)[0].formatted_number.startswith("CN-00")
        assert len(reads.invoice_fingerprints(db)) == 30
    finally:
        db.dispose()


def test_new_schema_detects_optional_columns(sqlite_url):
    """With the 3.4 columns, the flags are on."""
    _seed_small(sqlite_url)
    db = PerfexDB.connect(sqlite_url)
    assert db.has_invoice_formatted_number and db.has_optional_lines
    db.dispose()


def test_missing_table_and_column_are_named(perfex_url):
    """A dropped table and a dropped required column are both reported by name."""
    _seed_small(perfex_url)
    _execute(
        perfex_url,
        "DROP TABLE tblitem_tax",
        "ALTER TABLE tblinvoices DROP COLUMN discount_type",
    )
    with pytest.raises(PerfexSchemaError) as info:
        PerfexDB.connect(perfex_url)
    message = str(info.value)
    assert "missing table tblitem_tax" in message
    assert "table tblinvoices lacks column(s) discount_type" in message


def test_wrong_prefix_suggests_the_right_one(sqlite_url):
    """Tables under another prefix: the error names the prefix found."""
    _seed_small(sqlite_url, prefix="crm_")
    with pytest.raises(PerfexSchemaError, match="'crm_'.*PERFEX_TABLE_PREFIX"):
        PerfexDB.connect(sqlite_url)
    db = PerfexDB.connect(sqlite_url, prefix="crm_")
    assert len(reads.read_invoices(db)) == 12
    db.dispose()


def test_empty_database_is_not_perfex(perfex_url):
    """An empty database raises PerfexSchemaError, not a crash."""
    engine = sa.create_engine(perfex_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE unrelated (id INTEGER)")
    engine.dispose()
    with pytest.raises(PerfexSchemaError, match="not a Perfex CRM database"):
        PerfexDB.connect(perfex_url)


def test_pre_2_3_1_table_names_get_a_hint(sqlite_url):
    """tblitems_in instead of tblitemable: the message says the version is too old."""
    _seed_small(sqlite_url)
    _execute(sqlite_url, "ALTER TABLE tblitemable RENAME TO tblitems_in")
    with pytest.raises(PerfexSchemaError, match="older than 2.3.1"):
        PerfexDB.connect(sqlite_url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdb+driver://x/y", "cannot use the Perfex database URL"),
        ("mysql+pymysql://root@127.0.0.1:1/perfex", "cannot connect"),
        ("mysql+pymysql://root:topsecret@127.0.0.1:1/perfex", r"\*\*\*"),
        ("sqlite:////nonexistent/dir/perfex.db", "no such file"),
    ],
)
def test_connection_errors_are_one_clear_line(url, message):
    """Bad URLs, unreachable servers, missing files: PerfexConnectionError."""
    with pytest.raises(PerfexConnectionError, match=message) as info:
        PerfexDB.connect(url)
    assert "\n" not in str(info.value)
    assert "topsecret" not in str(info.value)


def test_unknown_database_on_a_live_server(mariadb_url):
    """A database name that does not exist is a connection error naming it."""
    url = sa.make_url(mariadb_url).set(database="pxf_no_such_database")
    with pytest.raises(PerfexConnectionError, match="pxf_no_such_database"):
        PerfexDB.connect(url.render_as_string(hide_password=False))


def test_utf8mb3_tables(mariadb_url):
    """Old utf8mb3 tables read the same as utf8mb4 ones."""
    _seed_small(mariadb_url)
    db = PerfexDB.connect(mariadb_url)
    try:
        before = reads.read_invoices(db)
    finally:
        db.dispose()
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        for name in ("tblinvoices", "tblitemable", "tblitem_tax", "tblclients"):
            conn.exec_driver_sql(
                f"ALTER TABLE `{name}` CONVERT TO CHARACTER SET utf8mb3 "
                "COLLATE utf8mb3_general_ci"
            )
    engine.dispose()
    db = PerfexDB.connect(mariadb_url)
    try:
        assert reads.read_invoices(db) == before
        assert any(c.company == "Müller & Söhne GmbH" for c in reads.read_customers(db))
    finally:
        db.dispose()


def test_text_with_separator_characters_reads_exactly(scratch_db):
    """Control characters (once the fast path's separators) survive any text."""
    nasty = "a\x1fb\x1dc\x1ed\x1ce"
    db = scratch_db
    t = db.tables
    try:
        with db.engine.begin() as conn:
            conn.execute(
                t.itemable.update()
                .where(t.itemable.c.id == 1)
                .values(description=nasty)
            )
            conn.execute(
                t.itemable.update().where(t.itemable.c.id == 5).values(unit="\x1d")
            )
            conn.execute(
                t.invoices.update().where(t.invoices.c.id == 2).values(clientnote=nasty)
            )
            conn.execute(
                t.item_tax.update()
                .where(t.item_tax.c.id == 3)
                .values(taxname="V\x1eAT")
            )
        plain = reads.read_invoices(db)
        assert plain == reads.read_invoices(db, [inv.id for inv in plain])
    finally:
        db.dispose()
    lines = {line.id: line for inv in plain for line in inv.lines}
    assert lines[1].description == nasty
    assert lines[5].unit == "\x1d"
    assert next(i for i in plain if i.id == 2).clientnote == nasty
    assert any(tax.name == "V\x1eAT" for line in lines.values() for tax in line.taxes)


def test_fingerprint_changes_only_for_the_edited_invoice(scratch_db):
    """Same-length text, tax-rate and due-date edits change that checksum only."""
    db = scratch_db
    t = db.tables
    before = reads.invoice_fingerprints(db)
    line = reads.read_invoices(db, [4])[0].lines[0]
    swapped = line.description[::-1]
    with db.engine.begin() as conn:
        conn.execute(
            t.itemable.update()
            .where(t.itemable.c.id == line.id)
            .values(description=swapped)
        )
    after = reads.invoice_fingerprints(db)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == ({4} if swapped != line.description else set())
    with db.engine.begin() as conn:
        conn.execute(
            t.item_tax.update().where(t.item_tax.c.rel_id == 6).values(taxrate=1)
        )
        conn.execute(
            t.invoices.update()
            .where(t.invoices.c.id == 7)
            .values(duedate=date(2030, 1, 1))
        )
    final = reads.invoice_fingerprints(db)
    assert {k for k in after if after[k] != final[k]} <= {6, 7}
    assert final[7] != after[7]


def test_duplicate_staff_emails_pick_the_active_admin(scratch_db):
    """Emails are not unique: the active admin wins, then active, then lowest id."""
    db = scratch_db
    s = db.tables.staff
    row = {
        "firstname": "D",
        "lastname": "Up",
        "password": "x",
        "datecreated": sa.func.now(),
    }
    with db.engine.begin() as conn:
        for admin, active in [(0, 1), (1, 0), (1, 1), (1, 1)]:
            conn.execute(
                s.insert().values(
                    email="dup@example.com", admin=admin, active=active, **row
                )
            )
        ids = [
            r[0]
            for r in conn.execute(
                sa.select(s.c.staffid)
                .where(s.c.email == "dup@example.com")
                .order_by(s.c.staffid)
            )
        ]
    found = reads.find_staff_by_email(db, "Dup@Example.com")
    assert found is not None and found.id == ids[2]
    with db.engine.begin() as conn:
        conn.execute(s.update().where(s.c.staffid.in_(ids[2:])).values(active=0))
    found = reads.find_staff_by_email(db, "dup@example.com")
    assert found is not None and found.id == ids[0]


def test_every_declared_index_exists_on_both_backends(perfex_url):
    """create_tables builds each declared index (inline on MariaDB), none extra."""
    engine = sa.create_engine(perfex_url)
    tables = create_tables(engine, "tbl")
    inspector = sa.inspect(engine)
    for name, table in tables.metadata.tables.items():
        declared = {(i.name, tuple(c.name for c in i.columns)) for i in table.indexes}
        found = {
            (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)
        }
        assert found == declared, name
    assert sum(len(t.indexes) for t in tables.metadata.tables.values()) > 40
    create_tables(engine, "tbl")  # a second call finds every table present
    engine.dispose()
