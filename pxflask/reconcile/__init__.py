"""Reconciliation of Perfex CRM against Xero with pandas (no Flask).

Loaders turn each side's records into the frames of ``frames``; ``reconcile`` matches
and checks them and returns a ``ReconciliationReport``; ``write_outputs`` writes the
CSV, XLSX and HTML files of CONTRACT.md.
"""

from __future__ import annotations

from pxflask.reconcile.checks import INVOICE_CATEGORIES, PAYMENT_CATEGORIES
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
from pxflask.reconcile.report import ReconciliationReport, reconcile

__all__ = [
    "INVOICE_CATEGORIES",
    "PAYMENT_CATEGORIES",
    "FrameError",
    "ReconciliationReport",
    "from_cents",
    "links_frame",
    "perfex_invoices_frame",
    "perfex_payments_frame",
    "reconcile",
    "to_cents",
    "write_outputs",
    "xero_invoices_frame",
    "xero_payments_frame",
]
