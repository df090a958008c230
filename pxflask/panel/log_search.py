"""The sync log's search by document number and customer name, through Perfex.

The log stores a record's Perfex key, not its number or customer. A search text is
looked up in Perfex once (indexed or bounded queries): invoices whose number is the
text's digits and whose formatted number holds the text, and customers whose
company name holds it (with their invoices). The log page then matches the
records' keys: invoices, their payments and the customers. Xero numbers are
matched in the log query itself, through ``pxf_links.xero_number``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB, PerfexError
from pxflask.perfex.numbering import format_number
from pxflask.perfex.reads import number_padding

__all__ = ["MAX_CUSTOMERS", "MAX_KEYS", "perfex_keys"]

MAX_CUSTOMERS = 50
"""Customers a name search matches at most (a broader text is refined first)."""
MAX_KEYS = 2000
"""Invoices and payments a search matches at most per entity."""
_DIGITS = re.compile(r"[0-9]+")
_INT_MAX = 2**31 - 1


def _like(text: str) -> str:
    """A LIKE pattern holding the text (its wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _day(value: object) -> date:
    """A Perfex date column's value as a date (1970-01-01 when unreadable)."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return date(1970, 1, 1)


def _by_number(conn: sa.Connection, db: PerfexDB, text: str) -> set[int]:
    """Invoices whose formatted number holds the text (matched on its digits)."""
    runs = _DIGITS.findall(text)
    if not runs or len(runs[-1]) > 10 or int(runs[-1]) > _INT_MAX:
        return set()
    inv = db.tables.invoices
    rows = conn.execute(
        sa.select(inv.c.id, inv.c.number, inv.c.prefix, inv.c.number_format, inv.c.date)
        .where(inv.c.number == int(runs[-1]))
        .limit(MAX_KEYS)
    ).all()
    if not rows:
        return set()
    padding = number_padding(conn, db)
    needle = text.lower()
    found = set()
    for row in rows:
        on = row.date if isinstance(row.date, date) else _day(row.date)
        label = format_number(
            int(row.number), row.prefix, int(row.number_format or 0), on, padding
        )
        if needle in label.lower() or text.isdigit():
            found.add(int(row.id))
    return found


def perfex_keys(db: PerfexDB, text: str) -> dict[str, Collection[str]]:
    """Log entity -> Perfex keys of the records a search text names ({} on error)."""
    text = text.strip()
    if not text:
        return {}
    try:
        with db.engine.connect() as conn:
            invoices = _by_number(conn, db, text)
            clients = db.tables.clients
            customers = set(
                conn.execute(
                    sa.select(clients.c.userid)
                    .where(clients.c.company.like(_like(text), escape="\\"))
                    .limit(MAX_CUSTOMERS)
                ).scalars()
            )
            if customers:
                inv = db.tables.invoices
                invoices |= set(
                    conn.execute(
                        sa.select(inv.c.id)
                        .where(inv.c.clientid.in_(customers))
                        .limit(MAX_KEYS)
                    ).scalars()
                )
            payments: set[int] = set()
            if invoices:
                pay = db.tables.invoicepaymentrecords
                payments = set(
                    conn.execute(
                        sa.select(pay.c.id)
                        .where(pay.c.invoiceid.in_(sorted(invoices)[:MAX_KEYS]))
                        .limit(MAX_KEYS)
                    ).scalars()
                )
    except (PerfexError, sa.exc.SQLAlchemyError):
        return {}  # the log still answers on what it stores itself
    found = {
        "invoices": invoices,
        "payments": payments,
        "customers": customers,
    }
    return {k: sorted(str(i) for i in v)[:MAX_KEYS] for k, v in found.items() if v}
