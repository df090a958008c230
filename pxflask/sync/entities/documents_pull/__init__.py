"""Invoices and credit notes made in Xero: the unit (its step lives beside it)."""

from pxflask.sync.units import PULL, Unit

ENTITY = "documents-pull"
PULL_SETTING = "documents_from_xero"
"""The setting that pulls documents made in Xero into Perfex (settings.FIXED_KEYS)."""
PULL_DEFAULT = "no"
WEBHOOK_CATEGORIES = ("INVOICE", "CREDITNOTE")
"""Xero webhook categories that nudge a pass of this entity (when switched on)."""

UNIT = Unit(
    ENTITY,
    "Documents made in Xero",
    PULL,
    ("customers", "taxes", "invoices"),
    "pxflask.sync.entities.documents_pull.step",
    description=(
        "ACCREC invoices and credit notes made in Xero -> tblinvoices,"
        " tblcreditnotes (opt-in: documents_from_xero)"
    ),
    order=95,
)
