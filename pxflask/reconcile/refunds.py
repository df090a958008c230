"""Refund reconciliation: Perfex credit-note refunds against Xero's refund payments.

Perfex: each readable ``tblcreditnote_refunds`` row (nothing when the table does not
exist) with its credit note's currency.  Xero: every Payment of type
ARCREDITPAYMENT (a refund of a sales credit note), kept in a snapshot beside the
invoices' (``refunds.parquet``, If-Modified-Since), DELETED ones included so that a
refund deleted in Xero shows.  Real Xero names the credit note under ``Invoice`` in
GET /Payments; ``CreditNote`` is read too.

Matching: the sync's ``credit-refunds`` links (Perfex id -> PaymentID), then the
Reference the sync writes (``Perfex refund #<id>``).  Checks (tolerance in cents as
for payments): ``missing_in_xero``, ``only_in_xero`` (a live Xero refund no Perfex
refund matches), ``deleted_in_xero`` (Perfex has it, Xero deleted it), and on live
pairs ``amount_differs`` and ``date_differs``.  Money at stake: the Perfex amount
(missing, deleted, date), the Xero amount (only in Xero), the difference (amount).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.reads import read_credit_notes
from pxflask.perfex.refunds import has_refunds, read_credit_refunds
from pxflask.reconcile.checks import CheckResult, folded
from pxflask.reconcile.credit_notes import pair_positions
from pxflask.reconcile.credit_sources import credit_note_links
from pxflask.reconcile.expenses import checked_rows, take_at, with_scope
from pxflask.reconcile.frames import DATE_DTYPE
from pxflask.reconcile.origin import Linked, linked_ids, origin_column
from pxflask.reconcile.perfex_side import Unreadable, cents
from pxflask.reconcile.report import ReconciliationReport, tolerance_cents
from pxflask.reconcile.scope_snapshot import ScopeSnapshot, typed_frame
from pxflask.reconcile.xero_records import latest_update, text_or_none
from pxflask.sync.settings import enabled_entities, load_settings

SCOPE = "refunds"
ENTITY = "credit-refunds"
REFUND_TYPE = "ARCREDITPAYMENT"
REFUND_CATEGORIES = (
    "missing_in_xero",
    "only_in_xero",
    "deleted_in_xero",
    "amount_differs",
    "date_differs",
)
REFUND_COLUMNS = (
    "perfex_refund_id",
    "xero_payment_id",
    "matched_by",
    "origin",
    "perfex_credit_note_id",
    "xero_credit_note_id",
    "perfex_date",
    "xero_date",
    "xero_status",
    "currency",
    "perfex_amount_cents",
    "xero_amount_cents",
    "money_at_stake_cents",
    "discrepancy",
)
PERFEX_REFUND_COLUMNS = {
    "perfex_refund_id": "int64",
    "perfex_credit_note_id": "int64",
    "xero_credit_note_id": "str",  # the linked CreditNoteID (lower case), if any
    "date": DATE_DTYPE,
    "currency": "str",
    "amount_cents": "int64",
}
XERO_REFUND_COLUMNS = {
    "xero_id": "str",
    "credit_note_id": "str",
    "reference_id": "Int64",  # the Perfex id of the sync's Reference
    "date": DATE_DTYPE,
    "status": "str",
    "currency": "str",
    "amount_cents": "int64",
}
REFUND_PLACES = (
    ENTITY,
    "refund",
    "perfex_refund_id",
    "xero_payment_id",
    "/admin/credit_notes",  # Perfex shows refunds on their credit note's page
)
"""Where a refund lives (reasons.Scope): link entity, noun, keys, Perfex page."""
_REFERENCE = re.compile(r"^Perfex refund #(\d+)(?::|$)")


def refunds_enabled(session: SessionLike) -> bool:
    """True when the settings' ``entities`` include ``credit-refunds``."""
    return ENTITY in enabled_entities(load_settings(session))


def perfex_refunds(
    db: PerfexDB, unreadable: list[Unreadable] | None = None, links: Any = None
) -> pd.DataFrame:
    """Every readable Perfex refund with its credit note's currency (cents)."""
    if not has_refunds(db):
        return typed_frame([], PERFEX_REFUND_COLUMNS)
    out = unreadable if unreadable is not None else []
    notes = {n.id: n for n in read_credit_notes(db)}
    linked = links or {}
    records = []
    for r in read_credit_refunds(db):
        if r.damaged:
            out.append(Unreadable("refund", r.id, f"refund {r.id}", r.damaged))
            continue
        note = notes.get(r.credit_note_id)
        records.append(
            {
                "perfex_refund_id": r.id,
                "perfex_credit_note_id": r.credit_note_id,
                "xero_credit_note_id": linked.get(r.credit_note_id),
                "date": r.date,
                "currency": (note.currency.code or "").upper() if note else "",
                "amount_cents": cents(r.amount),
            }
        )
    return typed_frame(records, PERFEX_REFUND_COLUMNS)


def refund_links(session: SessionLike) -> Linked:
    """Perfex refund id -> linked PaymentID (lower case), and the pulled refunds."""
    return linked_ids(session, ENTITY)


def xero_refund_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Records of a page's credit-note refunds, and the page's latest update."""
    page = list(page)
    records: list[dict[str, Any]] = []
    latest = latest_update(page)
    for pay in page:
        if (text_or_none(pay.get("PaymentType")) or "") != REFUND_TYPE:
            continue
        doc = pay.get("CreditNote") or pay.get("Invoice") or {}
        found = _REFERENCE.match(str(pay.get("Reference") or ""))
        records.append(
            {
                "xero_id": str(pay.get("PaymentID")).lower(),
                "credit_note_id": str(
                    doc.get("CreditNoteID") or doc.get("InvoiceID") or ""
                ).lower(),
                "reference_id": int(found.group(1)) if found else None,
                "date": pay.get("Date"),
                "status": text_or_none(pay.get("Status")) or "",
                "currency": (text_or_none(doc.get("CurrencyCode")) or "").upper(),
                "amount_cents": cents(pay.get("Amount")),
            }
        )
    return records, latest


SNAPSHOT = ScopeSnapshot(
    "refunds", "payments", XERO_REFUND_COLUMNS, "xero_id", xero_refund_records
)
"""The Xero credit-note refunds of a tenant, kept beside its invoice snapshot."""


def refund_rows(
    perfex: pd.DataFrame, xero: pd.DataFrame, links: Mapping[int, str]
) -> pd.DataFrame:
    """One side-by-side row per refund found on either side (unchecked)."""
    keys = [int(k) for k in perfex["perfex_refund_id"].tolist()]
    p_at, x_at, method = pair_positions(keys, None, xero, links)
    p, x = np.asarray(p_at, np.int64), np.asarray(x_at, np.int64)
    rows = pd.DataFrame(
        {
            "perfex_refund_id": take_at(perfex["perfex_refund_id"], p),
            "xero_payment_id": take_at(xero["xero_id"], x).astype("str"),
            "matched_by": pd.Series(method, dtype="str"),
            "origin": origin_column(
                take_at(perfex["perfex_refund_id"], p),
                take_at(xero["xero_id"], x),
                links,
                take_at(xero["reference_id"], x),
            ),
            "perfex_credit_note_id": take_at(perfex["perfex_credit_note_id"], p),
            "xero_credit_note_id": take_at(xero["credit_note_id"], x)
            .fillna(take_at(perfex["xero_credit_note_id"], p))
            .astype("str"),
            "perfex_date": take_at(perfex["date"], p),
            "xero_date": take_at(xero["date"], x),
            "xero_status": take_at(xero["status"], x).astype("str"),
            "currency": take_at(perfex["currency"], p)
            .fillna(take_at(xero["currency"], x))
            .astype("str"),
            "perfex_amount_cents": take_at(perfex["amount_cents"], p),
            "xero_amount_cents": take_at(xero["amount_cents"], x),
        }
    )
    return rows.sort_values(
        ["perfex_refund_id", "xero_payment_id"], na_position="last"
    ).reset_index(drop=True)


def check_refunds(rows: pd.DataFrame, tolerance_cents: int = 1) -> CheckResult:
    """Flag refund rows (the frame of ``refund_rows``)."""
    has_p = rows["perfex_refund_id"].notna().to_numpy(bool)
    has_x = rows["xero_payment_id"].notna().to_numpy(bool)
    dead = (rows["xero_status"] == "DELETED").to_numpy(bool, na_value=False)
    live = has_p & has_x & ~dead
    p_amount = rows["perfex_amount_cents"].to_numpy(np.int64, na_value=0)
    x_amount = rows["xero_amount_cents"].to_numpy(np.int64, na_value=0)
    diff = np.abs(p_amount - x_amount)
    same_day = (rows["perfex_date"] == rows["xero_date"]).to_numpy(bool, na_value=False)
    masks = {
        "missing_in_xero": has_p & ~has_x,
        "only_in_xero": has_x & ~has_p & ~dead,
        "deleted_in_xero": has_p & has_x & dead,
        "amount_differs": live & (diff > tolerance_cents),
        "date_differs": live & ~same_day,
    }
    money = dict.fromkeys(REFUND_CATEGORIES, p_amount)
    money["only_in_xero"] = x_amount
    money["amount_differs"] = diff
    return folded(REFUND_CATEGORIES, masks, money)


def reconcile_refunds(
    perfex: pd.DataFrame,
    xero: pd.DataFrame,
    links: Mapping[int, str],
    tolerance: int = 1,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> tuple[pd.DataFrame, CheckResult]:
    """Matched, windowed and checked refund rows (``REFUND_COLUMNS``)."""
    rows = refund_rows(perfex, xero, links)
    return checked_rows(
        rows, check_refunds, tolerance, date_from, date_to, REFUND_COLUMNS
    )


def add_refunds(
    report: ReconciliationReport,
    perfex: PerfexDB,
    session: SessionLike,
    gateway: Any | None,
    instance_path: str | os.PathLike[str],
    tenant_id: str,
    *,
    full: bool = False,
    unreadable: list[Unreadable] | None = None,
) -> tuple[ReconciliationReport, int, dict[str, int]]:
    """The report with refunds, the Xero calls it cost and the input counts."""
    xero = SNAPSHOT.current(gateway, instance_path, tenant_id, full=full)
    p_refunds = perfex_refunds(perfex, unreadable, credit_note_links(session))
    rows, result = reconcile_refunds(
        p_refunds,
        xero.frame,
        refund_links(session),
        tolerance_cents(report.tolerance),
        report.date_from,
        report.date_to,
    )
    counts = {"perfex_refunds": len(p_refunds), "xero_refunds": len(xero.frame)}
    return with_scope(report, SCOPE, rows, result), xero.calls, counts
