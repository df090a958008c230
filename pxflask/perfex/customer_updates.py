"""Changes to a linked Perfex customer made from Xero: tblclients + its primary contact.

Written straight into the tables: the pxflask Perfex module has no client model
endpoint yet (only payments go through it), so Perfex's own hooks do not fire. One
transaction per customer; each group of values (one Xero field) is checked against
its columns first, and a group that does not fit is left out with the reason while
the others are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDataError, PerfexDB

COUNTRY_COLUMNS = frozenset({"country", "billing_country", "shipping_country"})
"""tblclients columns holding a tblcountries id (written from a country name)."""


class CustomerGone(PerfexDataError):
    """The customer (or its primary contact) no longer exists in Perfex."""


class BadValue(ValueError):
    """A value that does not fit its Perfex column (the message says which)."""


@dataclass(frozen=True)
class FieldWrite:
    """The Perfex columns one Xero field changes: tblclients and primary tblcontacts."""

    client: Mapping[str, Any] = field(default_factory=dict)
    contact: Mapping[str, Any] = field(default_factory=dict)


def update_customer(
    db: PerfexDB, customer_id: int, writes: Mapping[str, FieldWrite]
) -> dict[str, str]:
    """Write every group that fits, in one transaction; group -> why not, for the rest.

    Country columns take a country name (short or long name, ISO2 or ISO3) or ""
    for none; an unknown name, a value too long for its column or an e-mail that
    another Perfex contact has leaves that group out with the reason.
    """
    clients, contacts = db.tables.clients, db.tables.contacts
    problems: dict[str, str] = {}
    with db.engine.begin() as conn:
        primary = conn.execute(
            sa.select(contacts.c.id)
            .where(contacts.c.userid == customer_id, contacts.c.is_primary == 1)
            .order_by(contacts.c.id)
            .limit(1)
        ).scalar()
        client_values: dict[str, Any] = {}
        contact_values: dict[str, Any] = {}
        for name, write in writes.items():
            try:
                fitted = {
                    column: _fit(conn, db, clients, column, value)
                    for column, value in write.client.items()
                }
                if write.contact and primary is None:
                    raise BadValue("the customer has no primary contact in Perfex")
                own = {
                    column: _fit(conn, db, contacts, column, value)
                    for column, value in write.contact.items()
                }
                if "email" in own:
                    _unique_email(conn, db, own["email"], primary)
            except BadValue as exc:
                problems[name] = f"{name}: {exc}"
                continue
            client_values.update(fitted)
            contact_values.update(own)
        if client_values:
            done = conn.execute(
                clients.update()
                .where(clients.c.userid == customer_id)
                .values(client_values)
            )
            if not done.rowcount:
                raise CustomerGone(f"customer {customer_id} no longer exists in Perfex")
        if contact_values:
            conn.execute(
                contacts.update().where(contacts.c.id == primary).values(contact_values)
            )
    return problems


def _fit(
    conn: sa.Connection, db: PerfexDB, table: sa.Table, column: str, value: Any
) -> Any:
    """The value to store in a column, or BadValue saying why it cannot be."""
    if table is db.tables.clients and column in COUNTRY_COLUMNS:
        return country_id(conn, db, str(value or ""))
    text = "" if value is None else str(value)
    length = getattr(table.c[column].type, "length", None)
    if length is not None and len(text) > length:
        raise BadValue(
            f"{text[:40]!r}{'…' if len(text) > 40 else ''} is {len(text)} characters,"
            f" longer than Perfex's {table.name}.{column} ({length})"
        )
    return text


def country_id(conn: sa.Connection, db: PerfexDB, name: str) -> int:
    """The tblcountries id of a country name (0 for none); BadValue if unknown."""
    wanted = name.strip().casefold()
    if not wanted:
        return 0
    c = db.tables.countries
    rows = conn.execute(
        sa.select(c.c.country_id, c.c.short_name, c.c.long_name, c.c.iso2, c.c.iso3)
    ).all()
    for row in rows:
        if any((value or "").strip().casefold() == wanted for value in row[1:]):
            return int(row[0])
    raise BadValue(f"country {name!r} is not in Perfex's {c.name}")


def _unique_email(
    conn: sa.Connection, db: PerfexDB, email: str, own_id: int | None
) -> None:
    """BadValue when another Perfex contact has this e-mail (Perfex keeps it unique)."""
    if not email:
        return
    c = db.tables.contacts
    other = conn.execute(
        sa.select(c.c.id, c.c.userid)
        .where(sa.func.lower(c.c.email) == email.lower(), c.c.id != (own_id or 0))
        .limit(1)
    ).first()
    if other is not None:
        raise BadValue(
            f"e-mail {email!r} is already used by contact {other[0]} of customer"
            f" {other[1]} in Perfex"
        )
