"""Load Perfex credit notes and Xero ACCRECCREDIT credit notes for the reconciliation.

Perfex: each credit note (``tblcreditnotes``) with its total and tax as Perfex stores
them, and the credit applied to invoices (``tblcredits``) per credit note, in integer
cents.  Damaged credit notes and applications are left out and listed as
``Unreadable`` (an application already listed by ``perfex_side`` is not listed again).

Xero: ACCRECCREDIT credit notes with Total, TotalTax, RemainingCredit, Status and
their Allocations (the amount allocated and the invoices it went to), paged and kept
in a snapshot beside the invoices' (``scope_snapshot``: ``credit_notes.parquet``),
refreshed with ``If-Modified-Since``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.reads import read_credit_applications, read_credit_notes
from pxflask.perfex.records import CREDIT_NOTE_CLOSED, CREDIT_NOTE_OPEN, present
from pxflask.reconcile.frames import DATE_DTYPE, to_cents
from pxflask.reconcile.origin import Linked, linked_ids
from pxflask.reconcile.perfex_side import Unreadable, cents
from pxflask.reconcile.scope_snapshot import ScopeSnapshot, typed_frame
from pxflask.reconcile.xero_records import latest_update
from pxflask.sync.entities.credit_notes.mapper import REFERENCE_PREFIX

__all__ = [
    "PERFEX_CREDIT_NOTE_COLUMNS",
    "PERFEX_STATUS",
    "SNAPSHOT",
    "XERO_CREDIT_NOTE_COLUMNS",
    "credit_note_links",
    "perfex_credit_notes",
    "xero_credit_note_records",
]

PERFEX_STATUS = {CREDIT_NOTE_OPEN: "open", CREDIT_NOTE_CLOSED: "closed", 3: "void"}
"""Perfex credit note statuses as the report shows them."""
PERFEX_CREDIT_NOTE_COLUMNS = {
    "perfex_credit_note_id": "int64",
    "number": "str",
    "date": DATE_DTYPE,
    "status": "str",
    "currency": "str",
    "total_cents": "int64",
    "tax_cents": "int64",
    "allocated_cents": "int64",
    "invoice_ids": "str",  # Perfex invoice ids the credit was applied to
}
XERO_CREDIT_NOTE_COLUMNS = {
    "xero_id": "str",
    "number": "str",
    "reference_id": "Int64",  # the Perfex id of the sync's Reference PX-CN-N
    "date": DATE_DTYPE,
    "status": "str",
    "currency": "str",
    "total_cents": "int64",
    "tax_cents": "int64",
    "remaining_cents": "int64",
    "allocated_cents": "int64",
    "invoice_ids": "str",  # Xero InvoiceIDs (lower case) of the allocations
}


def _listed(unreadable: list[Unreadable]) -> set[tuple[str, int]]:
    """(kind, id) of the records already listed as unreadable."""
    return {(u.kind, u.perfex_id) for u in unreadable}


def perfex_credit_notes(
    db: PerfexDB, unreadable: list[Unreadable] | None = None
) -> pd.DataFrame:
    """Every readable Perfex credit note with the credit applied from it (cents).

    Damaged credit notes and applications are left out and appended to
    ``unreadable`` when given.
    """
    if not db.columns.get("creditnotes"):
        return typed_frame([], PERFEX_CREDIT_NOTE_COLUMNS)
    notes = read_credit_notes(db)
    applied = read_credit_applications(db) if db.columns.get("credits") else []
    out = unreadable if unreadable is not None else []
    seen = _listed(out)
    for n in notes:
        if n.damaged and ("credit note", n.id) not in seen:
            out.append(Unreadable("credit note", n.id, n.formatted_number, n.damaged))
    allocated: dict[int, int] = {}
    invoices: dict[int, list[str]] = {}
    for a in applied:
        if a.damaged:
            if ("credit", a.id) not in seen:
                out.append(Unreadable("credit", a.id, f"credit {a.id}", a.damaged))
            continue
        key = a.credit_note_id
        allocated[key] = allocated.get(key, 0) + to_cents(present(a.amount))
        invoices.setdefault(key, []).append(str(a.invoice_id))
    records = [
        {
            "perfex_credit_note_id": n.id,
            "number": n.formatted_number,
            "date": n.date,
            "status": PERFEX_STATUS.get(n.status, str(n.status)),
            "currency": (n.currency.code or "").upper(),
            "total_cents": cents(n.total),
            "tax_cents": cents(n.total_tax),
            "allocated_cents": allocated.get(n.id, 0),
            "invoice_ids": ",".join(invoices.get(n.id, [])),
        }
        for n in notes
        if not n.damaged
    ]
    return typed_frame(records, PERFEX_CREDIT_NOTE_COLUMNS)


def credit_note_links(session: SessionLike) -> Linked:
    """Perfex credit note id -> linked CreditNoteID (lower case), and pulled ids."""
    return linked_ids(session, "credit-notes")


def _text(value: Any) -> str:
    """An enum or value as text ('' for missing)."""
    return str(getattr(value, "value", value) or "")


def _reference_id(reference: Any) -> int | None:
    """The Perfex id of a ``PX-CN-N`` Reference, if it is one."""
    text = str(reference or "")
    tail = text.removeprefix(REFERENCE_PREFIX)
    return int(tail) if text.startswith(REFERENCE_PREFIX) and tail.isdigit() else None


def xero_credit_note_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Records of a page's ACCRECCREDIT credit notes, and the page's latest update."""
    page = list(page)
    records: list[dict[str, Any]] = []
    latest = latest_update(page)
    for note in page:
        if _text(note.get("Type")) != "ACCRECCREDIT":
            continue
        allocations = note.get("Allocations") or []
        records.append(
            {
                "xero_id": str(note.get("CreditNoteID")).lower(),
                "number": note.get("CreditNoteNumber") or None,
                "reference_id": _reference_id(note.get("Reference")),
                "date": note.get("Date"),
                "status": _text(note.get("Status")),
                "currency": _text(note.get("CurrencyCode")).upper(),
                "total_cents": cents(note.get("Total")),
                "tax_cents": cents(note.get("TotalTax")),
                "remaining_cents": cents(note.get("RemainingCredit")),
                "allocated_cents": sum(cents(a.get("Amount")) for a in allocations),
                "invoice_ids": ",".join(
                    str((a.get("Invoice") or {}).get("InvoiceID") or "").lower()
                    for a in allocations
                ),
            }
        )
    return records, latest


SNAPSHOT = ScopeSnapshot(
    "credit_notes",
    "credit_notes",
    XERO_CREDIT_NOTE_COLUMNS,
    "xero_id",
    xero_credit_note_records,
)
"""The Xero credit notes of a tenant, kept beside its invoice snapshot."""
