"""Xero's tax rates: one GET /TaxRates per run, cached for the panel.

The panel offers the organisation's own rates (name, rate, report type) on the
settings page and explains the tax set-up steps without calling Xero: it reads
this cache, which every run that reads the rates refreshes (a dry run does not
write it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select

from pxflask.dbtypes import SessionLike
from pxflask.models import XeroTaxRate
from pxflask.sync.context import StepContext
from pxflask.sync.mappers.tax_match import XeroRate

SHARED = "xero.tax_rates"


def read_rates(ctx: StepContext) -> list[dict[str, Any]]:
    """Every Xero tax rate (one read per run); refreshes the cache."""
    if SHARED not in ctx.shared:
        records = ctx.gateway.read_all("tax_rates")
        ctx.shared[SHARED] = records
        if not ctx.dry_run:
            store(ctx.session, records)
            ctx.session.commit()  # before the next call: SQLite has one writer
    return ctx.shared[SHARED]


def remember_created(ctx: StepContext, record: dict[str, Any]) -> None:
    """Add a rate this run created to the run's list and to the cache."""
    ctx.shared.setdefault(SHARED, []).append(record)
    if not ctx.dry_run:
        rows = _rows([record])
        if rows:
            tax_type = rows[0]["tax_type"]
            ctx.session.execute(
                delete(XeroTaxRate).where(XeroTaxRate.tax_type == tax_type)
            )
            ctx.session.execute(insert(XeroTaxRate), rows)
            ctx.session.commit()


def _rows(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cache rows of Xero TaxRate dicts (those with a TaxType)."""
    rows: dict[str, dict[str, Any]] = {}
    for r in records:
        rate = XeroRate.of(r)
        if not rate.tax_type:
            continue
        rows[rate.tax_type] = {
            "tax_type": rate.tax_type[:50],
            "name": rate.name[:150],
            "rate": str(rate.rate),
            "report_tax_type": rate.report_tax_type,
            "can_revenue": rate.revenue,
            "can_expenses": rate.expenses,
            "status": "ACTIVE" if rate.active else str(r.get("Status") or "")[:20],
            "components": json.dumps([[n, str(v)] for n, v in rate.key]),
        }
    return list(rows.values())


def store(session: SessionLike, records: Iterable[dict[str, Any]]) -> None:
    """Replace the cache with these rates (committed with the run's next commit)."""
    session.execute(delete(XeroTaxRate))
    rows = _rows(records)
    if rows:
        session.execute(insert(XeroTaxRate), rows)


def cached_rates(session: SessionLike) -> list[XeroRate]:
    """The cached rates of the organisation, by name."""
    found = []
    for row in session.scalars(select(XeroTaxRate).order_by(XeroTaxRate.name)):
        key = tuple(sorted((str(n), Decimal(v)) for n, v in json.loads(row.components)))
        found.append(
            XeroRate(
                tax_type=row.tax_type,
                name=row.name,
                rate=Decimal(row.rate),
                report_tax_type=row.report_tax_type,
                revenue=bool(row.can_revenue),
                expenses=bool(row.can_expenses),
                key=key,
                active=row.status == "ACTIVE",
            )
        )
    return found
