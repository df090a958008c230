"""Stage what the sync knows on a synced world: a lock-date skip, a failure, a delete.

``stage_reasons`` makes three flagged invoices, each with its reason in the sync's
own records: a new Perfex invoice dated in a period Xero has locked (skipped by the
sync), a new one whose sales account Xero does not have (refused by Xero: failed),
and a synced one deleted in Xero (frozen by the next sync).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from pxflask.perfex.numbering import format_number
from pxflask.sync.engine import run_sync
from tests.reconcile.conftest import SYNC_SETTINGS

LOCK = date(2020, 12, 31)
LOCKED_DAY = date(2020, 3, 15)
UNKNOWN_ACCOUNT = "999"


@dataclass(frozen=True)
class Staged:
    """The Perfex ids and numbers of the three staged invoices."""

    locked: int
    locked_number: str
    unmapped: int
    unmapped_number: str
    deleted: int
    deleted_number: str
    deleted_xero_id: str


def _unpaid_without_payments(conn: sa.Connection) -> dict[str, Any]:
    """A linked, unpaid Perfex invoice that has no payments."""
    inv = _table(conn, "tblinvoices")
    paid = _table(conn, "tblinvoicepaymentrecords")
    query = (
        sa.select(inv)
        .where(inv.c.status == 1, inv.c.id.not_in(sa.select(paid.c.invoiceid)))
        .order_by(inv.c.id)
    )
    return dict(conn.execute(query).mappings().first())


def _table(conn: sa.Connection, name: str) -> sa.Table:
    """A Perfex table, reflected."""
    return sa.Table(name, sa.MetaData(), autoload_with=conn)


def _copy_invoice(conn: sa.Connection, source: dict[str, Any], on: date) -> tuple:
    """Insert a copy of an invoice (lines and line taxes too): (id, number)."""
    new_id = conn.execute(sa.text("SELECT MAX(id) FROM tblinvoices")).scalar() + 1
    number = conn.execute(sa.text("SELECT MAX(number) FROM tblinvoices")).scalar() + 1
    label = format_number(number, source["prefix"], source["number_format"], on)
    row = {
        **source,
        "id": new_id,
        "number": number,
        "formatted_number": label,
        "date": on,
        "hash": secrets.token_hex(16),
    }
    conn.execute(_table(conn, "tblinvoices").insert(), row)
    lines = _table(conn, "tblitemable")
    items = conn.execute(
        sa.select(lines).where(
            lines.c.rel_type == "invoice", lines.c.rel_id == source["id"]
        )
    ).mappings()
    for item in list(items):
        item_id = conn.execute(sa.text("SELECT MAX(id) FROM tblitemable")).scalar() + 1
        copy = {**item, "id": item_id, "rel_id": new_id}
        conn.execute(lines.insert(), copy)
        conn.execute(
            sa.text(
                "INSERT INTO tblitem_tax (itemid, rel_id, rel_type, taxrate, taxname)"
                " SELECT :n, :r, rel_type, taxrate, taxname FROM tblitem_tax"
                " WHERE itemid = :o"
            ),
            {"n": item_id, "r": new_id, "o": item["id"]},
        )
    return new_id, label


def _day(row: dict[str, Any]) -> date:
    """The invoice date of a Perfex row."""
    return date.fromisoformat(str(row["date"])[:10])


def stage_reasons(world: Any) -> Staged:
    """Stage the three problems on the world (Perfex, sandbox, and sync runs)."""
    engine = sa.create_engine(world.perfex_url)
    with engine.begin() as conn:
        source = _unpaid_without_payments(conn)
        locked, locked_number = _copy_invoice(conn, source, LOCKED_DAY)
    deleted_xero_id = world.link("invoices", source["id"])
    world.sandbox.inject.set_status("Invoices", deleted_xero_id, "DELETED", force=True)
    world.sandbox.inject.lock_dates(LOCK)
    with world.session() as session:
        result = run_sync(
            session, world.perfex, world.make_gateway(), SYNC_SETTINGS, ["invoices"]
        )
    assert not [r for r in result.reports if r.failed]
    with engine.begin() as conn:
        unmapped, unmapped_number = _copy_invoice(conn, source, _day(source))
    engine.dispose()
    with world.session() as session:
        run_sync(
            session,
            world.perfex,
            world.make_gateway(),
            {**SYNC_SETTINGS, "sales_account": UNKNOWN_ACCOUNT},
            ["invoices"],
            record_keys={"invoices": [unmapped]},
        )
    source_number = format_number(
        source["number"], source["prefix"], source["number_format"], _day(source)
    )
    return Staged(
        locked,
        locked_number,
        unmapped,
        unmapped_number,
        source["id"],
        source_number,
        deleted_xero_id,
    )
