"""Reconciliation of Perfex CRM against Xero with pandas (no Flask).

Loaders turn each side's records into the frames of ``frames``; ``reconcile`` matches
and checks them and returns a ``ReconciliationReport``; ``write_outputs`` writes the
CSV, XLSX and HTML files the README lists.
"""

from __future__ import annotations

from pxflask.reconcile.checks import INVOICE_CATEGORIES, PAYMENT_CATEGORIES
from pxflask.reconcile.credit_notes import CREDIT_NOTE_CATEGORIES
from pxflask.reconcile.expenses import EXPENSE_CATEGORIES
from pxflask.reconcile.export import write_outputs
from pxflask.reconcile.frames import (
    FrameError,
    from_cents,
    links_frame,
    perfex_invoices_frame,
    perfex_payments_frame,
    to_cents,
    xero_invoices_frame,
    xero_payments_frame,
)
from pxflask.reconcile.loaders import (
    ReconcileInputs,
    SnapshotMissing,
    XeroLoad,
    clear_snapshot,
    load_inputs,
    load_xero,
    read_snapshot,
)
from pxflask.reconcile.report import ReconciliationReport, reconcile
from pxflask.reconcile.service import (
    ReportRun,
    clear_all,
    load_report,
    run_reconciliation,
    save_report,
    summary_table,
)

__all__ = [
    "CREDIT_NOTE_CATEGORIES",
    "EXPENSE_CATEGORIES",
    "INVOICE_CATEGORIES",
    "PAYMENT_CATEGORIES",
    "FrameError",
    "ReconcileInputs",
    "ReconciliationReport",
    "ReportRun",
    "SnapshotMissing",
    "XeroLoad",
    "clear_all",
    "clear_snapshot",
    "from_cents",
    "links_frame",
    "load_inputs",
    "load_report",
    "load_xero",
    "perfex_invoices_frame",
    "perfex_payments_frame",
    "read_snapshot",
    "reconcile",
    "run_reconciliation",
    "save_report",
    "summary_table",
    "to_cents",
    "write_outputs",
    "xero_invoices_frame",
    "xero_payments_frame",
]
