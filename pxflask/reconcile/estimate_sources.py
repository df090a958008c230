"""Load Perfex estimates and Xero quotes for the reconciliation's estimates scope.

Perfex: each readable estimate (``tblestimates``) with its stored total and tax in
integer cents, the Xero status the sync sends for it (``quote_status``, the sync's
own mapping) and, once converted, its invoice: the Perfex invoice id, the InvoiceID
of that invoice's live ``invoices`` link and the invoice's stored total.  Damaged
estimates are left out and listed as ``Unreadable``.

Xero: every quote (GET /Quotes takes no ``where``, only If-Modified-Since and fixed
pages of 100), DELETED ones included so that a quote deleted in Xero shows, kept in a
snapshot beside the invoices' (``scope_snapshot``: ``estimates.parquet``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import Link
from pxflask.perfex import damage, query
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.reads import read_estimates
from pxflask.reconcile.frames import DATE_DTYPE
from pxflask.reconcile.origin import linked_ids
from pxflask.reconcile.perfex_side import Unreadable, cents
from pxflask.reconcile.scope_snapshot import ScopeSnapshot, typed_frame
from pxflask.reconcile.xero_records import latest_update, text_or_none
from pxflask.sync.entities.estimates.mapper import REFERENCE_PREFIX, quote_status
from pxflask.sync.links import DELETED

__all__ = [
    "ENTITY",
    "PERFEX_ESTIMATE_COLUMNS",
    "SNAPSHOT",
    "XERO_QUOTE_COLUMNS",
    "estimate_links",
    "invoice_links",
    "perfex_estimates",
    "xero_quote_records",
]

ENTITY = "estimates"
NOUN = "estimate"
"""What the reports call one: reasons' noun, the kind of its Unreadable rows."""
PERFEX_ESTIMATE_COLUMNS = {
    "perfex_estimate_id": "int64",
    "number": "str",
    "date": DATE_DTYPE,
    "status": "str",  # the Xero status the sync sends ('' when it sends none)
    "currency": "str",
    "total_cents": "int64",
    "tax_cents": "int64",
    "perfex_invoice_id": "Int64",  # the invoice the estimate became, if any
    "xero_invoice_id": "str",  # that invoice's linked InvoiceID (lower case)
    "invoice_total_cents": "Int64",  # that invoice's stored total, when readable
}
XERO_QUOTE_COLUMNS = {
    "xero_id": "str",
    "number": "str",
    "reference": "str",
    "reference_id": "Int64",  # the Perfex id of the sync's Reference PX-EST-N
    "date": DATE_DTYPE,
    "status": "str",
    "currency": "str",
    "total_cents": "int64",
    "tax_cents": "int64",
}


def estimate_links(session: SessionLike) -> dict[int, str]:
    """Perfex estimate id -> linked QuoteID (lower case), from the sync."""
    return linked_ids(session, ENTITY)


def invoice_links(session: SessionLike) -> dict[int, str]:
    """Perfex invoice id -> InvoiceID of its live sync link (not deleted)."""
    stmt = sa.select(Link.perfex_key, Link.xero_id).where(
        Link.entity == "invoices", Link.xero_id.is_not(None), Link.state != DELETED
    )
    return {
        int(k): str(x).lower()
        for k, x in session.execute(stmt)
        if k and str(k).isdigit() and x
    }


def _invoice_totals(db: PerfexDB, ids: Iterable[int]) -> dict[int, int]:
    """Stored totals (cents) of some Perfex invoices; unreadable ones left out."""
    inv = db.tables.invoices
    out: dict[int, int] = {}
    with db.engine.connect() as conn:
        for chunk in query.chunks(sorted(set(ids))):
            stmt = sa.select(inv.c.id, inv.c.total).where(inv.c.id.in_(chunk))
            for key, total in query.raw_rows(conn, stmt):
                money = damage.to_money(total)
                if money is not None:
                    out[int(key)] = cents(money)
    return out


def perfex_estimates(
    db: PerfexDB,
    session: SessionLike,
    unreadable: list[Unreadable] | None = None,
) -> pd.DataFrame:
    """Every readable Perfex estimate, with the invoice it became (cents)."""
    out = unreadable if unreadable is not None else []
    estimates = []
    for e in read_estimates(db):
        if e.damaged:
            out.append(Unreadable(NOUN, e.id, e.formatted_number, e.damaged))
        else:
            estimates.append(e)
    converted = [e.invoice_id for e in estimates if e.invoice_id]
    totals = _invoice_totals(db, converted) if converted else {}
    invoices = invoice_links(session) if converted else {}
    records = [
        {
            "perfex_estimate_id": e.id,
            "number": e.formatted_number,
            "date": e.date,
            "status": quote_status(e) or "",
            "currency": (e.currency.code or "").upper(),
            "total_cents": cents(e.total),
            "tax_cents": cents(e.total_tax),
            "perfex_invoice_id": e.invoice_id or None,
            "xero_invoice_id": invoices.get(e.invoice_id) if e.invoice_id else None,
            "invoice_total_cents": totals.get(e.invoice_id) if e.invoice_id else None,
        }
        for e in estimates
    ]
    return typed_frame(records, PERFEX_ESTIMATE_COLUMNS)


def _reference_id(reference: Any) -> int | None:
    """The Perfex id of a ``PX-EST-N`` Reference, if it is one."""
    text = str(reference or "")
    tail = text.removeprefix(REFERENCE_PREFIX)
    return int(tail) if text.startswith(REFERENCE_PREFIX) and tail.isdigit() else None


def xero_quote_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Records of a page's quotes, and the page's latest update."""
    page = list(page)
    records: list[dict[str, Any]] = []
    latest = latest_update(page)
    for quote in page:
        records.append(
            {
                "xero_id": str(quote.get("QuoteID")).lower(),
                "number": text_or_none(quote.get("QuoteNumber")),
                "reference": text_or_none(quote.get("Reference")) or "",
                "reference_id": _reference_id(quote.get("Reference")),
                "date": quote.get("Date"),
                "status": text_or_none(quote.get("Status")) or "",
                "currency": (text_or_none(quote.get("CurrencyCode")) or "").upper(),
                "total_cents": cents(quote.get("Total")),
                "tax_cents": cents(quote.get("TotalTax")),
            }
        )
    return records, latest


SNAPSHOT = ScopeSnapshot(
    "estimates", "quotes", XERO_QUOTE_COLUMNS, "xero_id", xero_quote_records
)
"""The Xero quotes of a tenant, kept beside its invoice snapshot."""
