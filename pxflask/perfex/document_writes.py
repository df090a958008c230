"""New customers and sales documents written straight into Perfex's tables.

Used for documents made in Xero when the Perfex module cannot take them. Each
write is one transaction: a document takes the next number from Perfex's own
options (`next_invoice_number` / `next_credit_note_number`, the row locked), its
prefix and number format the way Perfex snapshots them, its lines in tblitemable
and their taxes in tblitem_tax. Perfex's hooks, activity log and e-mails do not
run (MODULES.md: direct writes skip Perfex's side effects).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.numbering import format_number, parse_padding
from pxflask.perfex.query import first_id_containing

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
OPTIONS = {
    INVOICE: ("next_invoice_number", "invoice_prefix", "invoice_number_format", "INV-"),
    CREDIT_NOTE: (
        "next_credit_note_number",
        "credit_note_prefix",
        "credit_note_number_format",
        "CN-",
    ),
}
"""Kind -> (next number option, prefix option, format option, default prefix)."""


@dataclass(frozen=True)
class NewCustomer:
    """A Perfex customer and its primary contact, as Xero knows the contact."""

    company: str
    firstname: str
    lastname: str
    email: str
    phone: str = ""
    vat: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    currency_id: int = 0


@dataclass(frozen=True)
class NewLine:
    """One line: text, quantity, unit rate and its taxes (name, rate)."""

    description: str
    qty: Decimal
    rate: Decimal
    taxes: tuple[tuple[str, Decimal], ...] = ()
    long_description: str = ""

    def as_posted(self) -> dict[str, object]:
        """The line as Perfex's form posts it (taxes as 'NAME|RATE')."""
        return {
            "description": self.description,
            "qty": str(self.qty),
            "rate": str(self.rate),
            "taxes": [f"{name}|{rate}" for name, rate in self.taxes],
        }


@dataclass(frozen=True)
class NewDocument:
    """An invoice or credit note to add, its totals already checked."""

    kind: str
    clientid: int
    on: date
    currency_id: int
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal
    lines: Sequence[NewLine] = field(default_factory=tuple)
    duedate: date | None = None
    status: int = 1
    adminnote: str | None = None
    reference_no: str | None = None
    clientnote: str | None = None


def _values(table: sa.Table, values: Mapping[str, object]) -> dict[str, object]:
    """The values whose columns this database has."""
    return {k: v for k, v in values.items() if k in table.c}


def _inserted(result: sa.CursorResult) -> int:
    """The primary key an INSERT added."""
    key = result.inserted_primary_key
    if key is None:
        raise TypeError("the INSERT reported no primary key")
    return int(key[0])


def create_customer(db: PerfexDB, new: NewCustomer) -> int:
    """Insert a customer (tblclients) and its primary contact; return its id."""
    clients, contacts = db.tables.clients, db.tables.contacts
    now = datetime.now().replace(microsecond=0)
    with db.engine.begin() as conn:
        client = {
            "company": new.company,
            "vat": new.vat,
            "phonenumber": new.phone,
            "country": 0,
            "city": new.city,
            "zip": new.zip,
            "state": new.state,
            "address": new.street,
            "datecreated": now,
            "active": 1,
            "billing_street": new.street,
            "billing_city": new.city,
            "billing_state": new.state,
            "billing_zip": new.zip,
            "billing_country": 0,
            "shipping_country": 0,
            "default_language": "",
            "default_currency": new.currency_id,
            "show_primary_contact": 0,
            "registration_confirmed": 1,
            "addedfrom": 0,
        }
        userid = _inserted(
            conn.execute(clients.insert().values(_values(clients, client)))
        )
        contact = {
            "userid": userid,
            "is_primary": 1,
            "firstname": new.firstname,
            "lastname": new.lastname,
            "email": new.email,
            "phonenumber": new.phone,
            "datecreated": now,
            "active": 1,
        }
        conn.execute(contacts.insert().values(_values(contacts, contact)))
    return userid


def _option(
    conn: sa.Connection, db: PerfexDB, name: str, lock: bool = False
) -> str | None:
    """One option's value (the row locked for update when asked), or None."""
    opt = db.tables.options
    stmt = sa.select(opt.c.value).where(opt.c.name == name).order_by(opt.c.id.desc())
    if lock:
        stmt = stmt.with_for_update()
    value = conn.execute(stmt.limit(1)).scalar()
    return None if value is None else str(value)


def _set_option(conn: sa.Connection, db: PerfexDB, name: str, value: str) -> None:
    """Update (or add) an option."""
    opt = db.tables.options
    done = conn.execute(opt.update().where(opt.c.name == name).values(value=value))
    if not done.rowcount:
        conn.execute(opt.insert().values(name=name, value=value, autoload=0))


def _int(value: str | None, default: int) -> int:
    """An option read as an int (the default when absent or unreadable)."""
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def find_document(db: PerfexDB, kind: str, marker: str) -> int | None:
    """The id of a document whose admin note carries `marker` (a Xero id), or None."""
    table = db.tables.invoices if kind == INVOICE else db.tables.creditnotes
    return first_id_containing(db, table.c.adminnote, marker)


def create_document(db: PerfexDB, doc: NewDocument) -> tuple[int, str]:
    """Insert an invoice or credit note with Perfex's next number; (id, number)."""
    table = db.tables.invoices if doc.kind == INVOICE else db.tables.creditnotes
    next_name, prefix_name, format_name, default_prefix = OPTIONS[doc.kind]
    client = db.tables.clients
    now = datetime.now().replace(microsecond=0)
    with db.engine.begin() as conn:
        number = max(_int(_option(conn, db, next_name, lock=True), 1), 1)
        prefix = _option(conn, db, prefix_name)
        prefix = default_prefix if prefix is None else prefix
        number_format = _int(_option(conn, db, format_name), 1)
        padding = parse_padding(_option(conn, db, "number_padding_prefixes"))
        formatted = format_number(number, prefix, number_format, doc.on, padding)
        billing = conn.execute(
            sa.select(
                client.c.billing_street,
                client.c.billing_city,
                client.c.billing_state,
                client.c.billing_zip,
                client.c.billing_country,
            ).where(client.c.userid == doc.clientid)
        ).first()
        row: dict[str, object] = {
            "clientid": doc.clientid,
            "number": number,
            "prefix": prefix,
            "number_format": number_format,
            "formatted_number": formatted,
            "datecreated": now,
            "date": doc.on,
            "currency": doc.currency_id,
            "subtotal": doc.subtotal,
            "total_tax": doc.total_tax,
            "total": doc.total,
            "adjustment": Decimal("0.00"),
            "addedfrom": 0,
            "status": doc.status,
            "adminnote": doc.adminnote,
            "clientnote": doc.clientnote,
            "discount_percent": Decimal("0.00"),
            "discount_total": Decimal("0.00"),
            "discount_type": "",
            "include_shipping": 0,
            "show_quantity_as": 1,
            "project_id": 0,
        }
        if billing is not None:
            row.update(
                zip(
                    (
                        "billing_street",
                        "billing_city",
                        "billing_state",
                        "billing_zip",
                        "billing_country",
                    ),
                    billing,
                    strict=True,
                )
            )
        if doc.kind == INVOICE:
            row.update(
                duedate=doc.duedate,
                hash=secrets.token_hex(16),
                sent=0,
                allowed_payment_modes="a:0:{}",
                show_shipping_on_invoice=1,
                recurring=0,
                sale_agent=0,
                subscription_id=0,
                cancel_overdue_reminders=0,
            )
        else:
            row.update(reference_no=doc.reference_no, show_shipping_on_credit_note=1)
        doc_id = _inserted(conn.execute(table.insert().values(_values(table, row))))
        _insert_lines(conn, db, doc_id, doc)
        _set_option(conn, db, next_name, str(number + 1))
    return doc_id, formatted


def _insert_lines(
    conn: sa.Connection, db: PerfexDB, doc_id: int, doc: NewDocument
) -> None:
    """The document's lines (tblitemable) and their taxes (tblitem_tax)."""
    items, taxes = db.tables.itemable, db.tables.item_tax
    for order, line in enumerate(doc.lines, start=1):
        values = {
            "rel_id": doc_id,
            "rel_type": doc.kind,
            "description": line.description,
            "long_description": line.long_description,
            "qty": line.qty,
            "rate": line.rate,
            "unit": "",
            "item_order": order,
        }
        item_id = _inserted(conn.execute(items.insert().values(_values(items, values))))
        for name, rate in line.taxes:
            conn.execute(
                taxes.insert().values(
                    itemid=item_id,
                    rel_id=doc_id,
                    rel_type=doc.kind,
                    taxrate=rate,
                    taxname=name,
                )
            )
