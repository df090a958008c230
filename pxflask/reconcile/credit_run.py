"""Add the credit-note scope to a run: compared when ``credit-notes`` syncs, else off.

On: Perfex credit notes and their applied credits against the Xero snapshot's
ACCRECCREDIT credit notes (``credit_notes``).  Off: nothing is compared; the summary
gets one ``credit_notes / not_compared`` row (count 0) and every output says so with
``CREDIT_NOTES_OFF`` instead of flags (the invoices keep ``credit_not_synced``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import pandas as pd

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.credit_notes import (
    CREDIT_NOTES_OFF,
    NOT_COMPARED,
    SCOPE,
    credit_notes_note,
    reconcile_credit_notes,
    with_credit_notes,
)
from pxflask.reconcile.credit_sources import (
    SNAPSHOT,
    credit_note_links,
    perfex_credit_notes,
)
from pxflask.reconcile.perfex_side import Unreadable
from pxflask.reconcile.report import ReconciliationReport, tolerance_cents
from pxflask.reconcile.scope_snapshot import set_aside
from pxflask.reconcile.stake import TOTAL_SCOPE, summary_frame

__all__ = [
    "CREDIT_NOTES_OFF",
    "NOT_COMPARED",
    "add_credit_notes",
    "credit_notes_note",
    "credit_notes_off",
]


def credit_notes_off(report: ReconciliationReport) -> ReconciliationReport:
    """The report with the summary row saying credit notes were not compared."""
    summary = report.summary
    is_total = (summary["scope"].astype("str") == TOTAL_SCOPE).to_numpy(bool)
    row = summary_frame([(SCOPE, NOT_COMPARED, "", 0, 0)])
    return replace(
        report,
        credit_notes=None,
        summary=pd.concat(
            [summary[~is_total], row, summary[is_total]], ignore_index=True
        ),
    )


def add_credit_notes(
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
    """The report with credit notes, the Xero calls it cost and the input counts.

    With a gateway the credit note snapshot is refreshed; without, it is read as
    stored.  Damaged credit notes go to ``unreadable`` (see ``perfex_side``).
    """
    xero = SNAPSHOT.current(gateway, instance_path, tenant_id, full=full)
    listed = unreadable if unreadable is not None else []
    p_notes = perfex_credit_notes(perfex, listed)
    links = credit_note_links(session)
    rows, result = reconcile_credit_notes(
        p_notes,
        set_aside(
            xero.frame, links, {u.perfex_id for u in listed if u.kind == "credit note"}
        ),
        links,
        report.invoices,
        tolerance_cents(report.tolerance),
        report.date_from,
        report.date_to,
    )
    counts = {
        "perfex_credit_notes": len(p_notes),
        "xero_credit_notes": len(xero.frame),
    }
    return with_credit_notes(report, rows, result), xero.calls, counts
