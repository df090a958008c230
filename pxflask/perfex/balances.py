"""What is due on Perfex invoices: total, payments and applied credits, currency."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.totals import round_money

CHUNK = 500
"""Invoice ids per `IN (...)`."""


@dataclass(frozen=True, slots=True)
class Balance:
    """One invoice's money as Perfex's update_invoice_status() sees it."""

    invoice_id: int
    total: Decimal
    received: Decimal
    status: int
    currency: str
    """The ISO code (tblcurrencies.name); empty when the currency row is missing."""

    @property
    def due(self) -> Decimal:
        """Total minus payments and applied credits (never below zero)."""
        return max(round_money(self.total - self.received), Decimal("0.00"))


def _money(value: object) -> Decimal:
    """A database amount (Decimal, int or float from SQLite) as Decimal."""
    return round_money(Decimal(str(value or 0)))


def _sums(
    conn: sa.Connection, table: sa.Table, key: sa.Column, ids: list[int]
) -> dict[int, Decimal]:
    """Sum of `amount` per invoice id."""
    stmt = sa.select(key, sa.func.sum(table.c.amount)).where(key.in_(ids)).group_by(key)
    return {int(r[0]): _money(r[1]) for r in conn.execute(stmt)}


def invoice_balances(db: PerfexDB, ids: Iterable[int]) -> dict[int, Balance]:
    """Balances of the given invoices (missing invoices are absent)."""
    wanted = sorted({int(i) for i in ids})
    inv, cur = db.tables.invoices, db.tables.currencies
    pay, cr = db.tables.invoicepaymentrecords, db.tables.credits
    out: dict[int, Balance] = {}
    with db.engine.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            paid = _sums(conn, pay, pay.c.invoiceid, part)
            credited = _sums(conn, cr, cr.c.invoice_id, part)
            rows = conn.execute(
                sa.select(inv.c.id, inv.c.total, inv.c.status, cur.c.name)
                .select_from(inv.outerjoin(cur, cur.c.id == inv.c.currency))
                .where(inv.c.id.in_(part))
            )
            for ident, total, status, code in rows:
                received = paid.get(ident, Decimal("0.00"))
                received += credited.get(ident, Decimal("0.00"))
                out[int(ident)] = Balance(
                    int(ident), _money(total), received, int(status or 0), code or ""
                )
    return out
