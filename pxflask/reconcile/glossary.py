"""The discrepancy categories in plain language: title, meaning, what to do.

Every code of ``checks.INVOICE_CATEGORIES``, ``checks.PAYMENT_CATEGORIES``,
``expenses.EXPENSE_CATEGORIES``, ``credit_notes.CREDIT_NOTE_CATEGORIES`` and
``estimates.ESTIMATE_CATEGORIES`` has a term (``not_compared``: the summary row of a
scope that is off); the page and report.html show them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["GLOSSARY", "Term", "glossary"]


@dataclass(frozen=True)
class Term:
    """A category code in plain language: title, meaning and what to do."""

    code: str
    title: str
    meaning: str
    action: str


_TERMS = (
    Term(
        "missing_in_xero",
        "Missing in Xero",
        "The record is in Perfex but not in Xero (or its Xero copy was deleted).",
        "Sync the record; if the sync skipped or failed it, fix the reason first.",
    ),
    Term(
        "only_in_xero",
        "Only in Xero",
        "Xero holds a record that no Perfex record matches: typed in Xero, or its"
        " Perfex record was deleted.",
        "Enter it in Perfex if it is real, or void it in Xero if it is not.",
    ),
    Term(
        "total_differs",
        "Total differs",
        "Both sides hold the document, with different totals.",
        "Find which side is right; edit the wrong one (a Perfex edit re-syncs).",
    ),
    Term(
        "subtotal_differs",
        "Subtotal differs",
        "The amounts before tax differ (lines, discount or rounding).",
        "Compare the lines in Perfex and Xero and correct the wrong side.",
    ),
    Term(
        "tax_differs",
        "Tax differs",
        "The tax amounts differ: usually a tax mapped to another Xero rate.",
        "Check the tax mappings on the settings page, then re-sync the record.",
    ),
    Term(
        "currency_differs",
        "Currency differs",
        "The two sides are in different currencies.",
        "Correct the currency on the wrong side (Xero needs the currency enabled).",
    ),
    Term(
        "status_differs",
        "Status differs",
        "The Xero status does not fit the Perfex status (for example paid in one"
        " and open, voided or deleted in the other).",
        "Bring the two statuses in line: record or remove the payment, or void.",
    ),
    Term(
        "paid_differs",
        "Amount paid differs",
        "The amount paid on the invoice differs: a payment or credit is on one"
        " side only.",
        "Look at the invoice's payments and credits on both sides.",
    ),
    Term(
        "credit_not_synced",
        "Credit not synced",
        "Perfex applied a credit to the invoice, but the credit-notes entity is not"
        " synced, so Xero cannot know it; the credit is the gap.",
        "Enable the credit-notes entity in Settings and sync, or record the credit"
        " in Xero by hand.",
    ),
    Term(
        "duplicate_in_xero",
        "Duplicate in Xero",
        "Xero has a second live copy of an invoice that is already matched.",
        "Void the extra copy in Xero.",
    ),
    Term(
        "amount_differs",
        "Amount differs",
        "The payment amounts differ.",
        "Correct the wrong side; a Perfex payment cannot be edited in Xero once sent.",
    ),
    Term(
        "date_differs",
        "Date differs",
        "The two sides carry different dates.",
        "Correct the date on the wrong side (mind Xero's lock date).",
    ),
    Term(
        "deleted_in_xero",
        "Deleted in Xero",
        "The Xero copy was deleted while the Perfex record is still there.",
        "Delete it in Perfex too, or re-create it in Xero.",
    ),
    Term(
        "allocated_differs",
        "Credit applied differs",
        "The credit note's amount applied to invoices differs (so does its remaining"
        " credit): an allocation is on one side only, or its amount differs.",
        "Look at the credit note's allocations on both sides; the sync allocates"
        " Perfex's applied credits (credit-notes entity).",
    ),
    Term(
        "quote_not_invoiced",
        "Quote not invoiced",
        "Perfex converted the estimate to an invoice, but its Xero quote is not"
        " INVOICED.",
        "Sync estimates (the sync moves the quote to INVOICED), or mark it in Xero.",
    ),
    Term(
        "invoice_not_in_xero",
        "Invoice not in Xero",
        "Perfex converted the estimate to an invoice that the sync has not sent to"
        " Xero (no invoices link).",
        "Sync invoices; if the sync skipped or failed it, fix the reason first.",
    ),
    Term(
        "invoiced_total_differs",
        "Invoiced total differs",
        "The invoice Perfex made from the estimate has another total than the"
        " estimate (edited after the conversion); both may be right.",
        "Nothing, if the invoice was changed on purpose; else correct it in Perfex.",
    ),
    Term(
        "not_compared",
        "Not compared",
        "The scope was not compared: its sync entity is off, so Xero is not expected"
        " to have these records and nothing is flagged for them.",
        "Enable the entity in Settings and sync to compare it.",
    ),
)
GLOSSARY: dict[str, Term] = {t.code: t for t in _TERMS}


def glossary(codes: Iterable[str] | None = None) -> list[Term]:
    """The terms of some codes (all by default), each once, in glossary order."""
    wanted = set(GLOSSARY) if codes is None else set(codes)
    return [t for t in _TERMS if t.code in wanted]
