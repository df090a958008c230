"""Stage problems on a synced world, through the real sync and the sandbox.

``stage_reasons`` makes three flagged invoices, each with its reason in the sync's
own records: a new Perfex invoice dated in a period Xero has locked (skipped by the
sync), a new one whose sales account Xero does not have (refused by Xero: failed),
and a synced one deleted in Xero (frozen by the next sync). ``stage_both_sides``
breaks both sides after the sync (no sync runs afterwards): a payment typed in Xero,
a payment deleted in Xero, an invoice edited in Perfex, credits applied in Perfex.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from pxflask.models import Setting
from pxflask.perfex.numbering import format_number
from pxflask.sync.engine import run_sync
from tests.reconcile.conftest import SYNC_SETTINGS

LOCK = date(2020, 12, 31)
LOCKED_DAY = date(2020, 3, 15)
UNKNOWN_ACCOUNT = "999"
TYPED_IN_XERO = Decimal("50.00")
EDIT = Decimal("200.00")
PARTIAL_CREDIT = Decimal("508.00")
WRONG_ACCOUNT = "200"  # Sales: not a bank account, Xero refuses payments to it
WRONG_BANK_AMOUNT = Decimal("100.00")
OTHER_BANK = "091"  # Business Savings: a bank account, so Xero takes payments
CORRECT_BANK = "090"


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


def _perfex_invoices(world: Any) -> list[dict[str, Any]]:
    """Perfex invoices (id, total, status) with their Xero copy, when linked."""
    xero = {i["InvoiceID"].lower(): i for i in world.xero("Invoices")}
    sql = sa.text("SELECT id, total, status FROM tblinvoices ORDER BY id")
    with world.perfex.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sql)]
    for row in rows:
        link = world.link("invoices", row["id"])
        row["xero"] = xero.get(link.lower()) if link else None
    return [r for r in rows if r["xero"] is not None]


def stage_both_sides(world: Any, exclude: Iterable[int] = ()) -> dict[str, Any]:
    """Break both sides; return the staged Perfex rows (with Xero copies) by role.

    A payment typed in Xero only, credits applied in Perfex (one settling what is
    due, one of 508.00), a payment deleted in Xero and an invoice edited in Perfex
    after the sync; the invoices of ``exclude`` (Perfex ids) are left alone.
    """
    skip = set(exclude)
    invoices = [r for r in _perfex_invoices(world) if r["id"] not in skip]
    staged: dict[str, Any] = {}

    def pick(role: str, fits: Any) -> dict[str, Any]:
        """An invoice not used yet that fits, in a currency not used yet if any."""
        seen = {r["xero"]["CurrencyCode"] for r in staged.values()}
        options = [r for r in invoices if r not in staged.values() and fits(r)]
        options.sort(key=lambda r: r["xero"]["CurrencyCode"] in seen)
        staged[role] = options[0]
        return options[0]

    def due(row: dict[str, Any]) -> Decimal:
        """What is still due (both sides agree after the sync)."""
        return Decimal(str(row["xero"]["AmountDue"]))

    open_ = {1, 3, 4}  # unpaid, partially paid, overdue
    # a payment typed in Xero only
    typed = pick("typed", lambda r: r["status"] in open_ and due(r) > TYPED_IN_XERO)
    xero_id = typed["xero"]["InvoiceID"]
    world.sandbox.inject.payment(xero_id, TYPED_IN_XERO, on=dt.date.today())
    # credits applied in Perfex: one settles what is due, one is 508.00
    credited = pick("credited", lambda r: r["status"] in open_)
    part = pick("part_credited", lambda r: r["status"] in open_ and due(r) > 600)
    # a payment deleted in Xero (its invoice goes back to AUTHORISED)
    gone = pick("deleted", lambda r: r["status"] == 2)
    payment = next(
        p
        for p in world.xero("Payments")
        if p["Invoice"]["InvoiceID"] == gone["xero"]["InvoiceID"]
    )
    world.sandbox.inject.delete_payment(payment["PaymentID"])
    edited = pick("edited", lambda r: r["status"] == 2)
    with world.perfex.engine.begin() as conn:
        # an invoice edited in Perfex after the sync
        conn.execute(
            sa.text(
                "UPDATE tblinvoices SET total = total + :e, subtotal = subtotal + :e "
                "WHERE id = :i"
            ),
            {"e": str(EDIT), "i": edited["id"]},
        )
        note = conn.execute(sa.text("SELECT MIN(id) FROM tblcreditnotes")).scalar()
        for row, amount, status in (
            (credited, due(credited), 2),  # paid
            (part, PARTIAL_CREDIT, 3),  # partially paid
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO tblcredits (invoice_id, credit_id, staff_id, date, "
                    "date_applied, amount) VALUES (:i, :c, 1, :d, :d, :a)"
                ),
                {"i": row["id"], "c": note, "d": dt.date.today(), "a": str(amount)},
            )
            conn.execute(
                sa.text("UPDATE tblinvoices SET status = :s WHERE id = :i"),
                {"s": status, "i": row["id"]},
            )
    staged["deleted_payment"] = {"xero": payment}
    return staged


@dataclass(frozen=True)
class WrongBank:
    """The Perfex payment sent with a wrong bank mapping, and its invoice."""

    invoice: int
    invoice_number: str
    payment: int
    mode: str
    account: str


def _pay(world: Any, exclude: Iterable[int], mode_rank: int, on: dt.date) -> tuple:
    """A Perfex payment on an open invoice, nth-highest mode: (invoice, id, mode)."""
    engine = sa.create_engine(world.perfex_url)
    with engine.begin() as conn:
        inv = _table(conn, "tblinvoices")
        paid = _table(conn, "tblinvoicepaymentrecords")
        source = (
            conn.execute(
                sa.select(inv)
                .where(
                    inv.c.status.in_((1, 3, 4)),  # unpaid, partly paid, overdue
                    inv.c.total > 2 * WRONG_BANK_AMOUNT,
                    inv.c.id.not_in(list(exclude)),
                )
                .order_by(inv.c.id.desc())
            )
            .mappings()
            .first()
        )
        modes = conn.execute(
            sa.text("SELECT id FROM tblpayment_modes ORDER BY id DESC")
        )
        mode = str(list(modes.scalars())[mode_rank])
        conn.execute(
            paid.insert(),
            {
                "invoiceid": source["id"],
                "amount": str(WRONG_BANK_AMOUNT),
                "paymentmode": mode,
                "date": on,
                "daterecorded": dt.datetime.combine(on, dt.time(9, 30)),
                "note": "",
                "transactionid": "",
            },
        )
        payment = conn.execute(sa.select(sa.func.max(paid.c.id))).scalar()
        conn.execute(inv.update().where(inv.c.id == source["id"]).values(status=3))
    engine.dispose()
    return dict(source), payment, mode


def _send(world: Any, payment: int, settings: dict[str, str]) -> bool:
    """Sync one Perfex payment; True when it failed."""
    with world.session() as session:
        result = run_sync(
            session,
            world.perfex,
            world.make_gateway(),
            settings,
            ["payments"],
            record_keys={"payments": [payment]},
        )
    return bool([r for r in result.reports if r.failed])


def _number(source: dict[str, Any]) -> str:
    """The formatted number of a Perfex invoice row."""
    return format_number(
        source["number"], source["prefix"], source["number_format"], _day(source)
    )


def stage_wrong_bank(world: Any, exclude: Iterable[int] = ()) -> WrongBank:
    """A Perfex payment whose mode is mapped to the sales account; the sync sends it.

    ``payment_account.<mode>`` names account 200 (Sales, picked instead of the bank
    account 090): Xero refuses the payment, so it fails with Xero's own error.
    """
    source, payment, mode = _pay(world, exclude, 0, dt.date(2026, 12, 1))
    settings = {**SYNC_SETTINGS, f"payment_account.{mode}": WRONG_ACCOUNT}
    assert _send(world, payment, settings), "Xero took the payment"
    return WrongBank(source["id"], _number(source), payment, mode, WRONG_ACCOUNT)


def stage_other_bank(world: Any, exclude: Iterable[int] = ()) -> WrongBank:
    """A payment sent while its mode was mapped to another bank account, then fixed.

    Sent with ``payment_account.<mode>`` = 091 (Business Savings): Xero takes it
    there. Finance then corrects the mapping to 090; the settings are stored as the
    panel keeps them, so the month-end collections expect 090 for the mode.
    """
    source, payment, mode = _pay(world, exclude, 1, dt.date(2026, 12, 2))
    assert not _send(
        world, payment, {**SYNC_SETTINGS, f"payment_account.{mode}": "091"}
    )
    stored = {**SYNC_SETTINGS, f"payment_account.{mode}": CORRECT_BANK}
    with world.session() as session:
        for key, value in stored.items():
            session.merge(Setting(key=key, value=value))
        session.commit()
    return WrongBank(source["id"], _number(source), payment, mode, OTHER_BANK)
