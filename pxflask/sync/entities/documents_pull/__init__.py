"""Invoices and credit notes made in Xero: the unit (its step lives beside it)."""

from pxflask.sync.units import PULL, Switch, Unit

ENTITY = "documents-pull"
SWITCH = Switch(
    "documents_from_xero",
    "Invoices and credit notes made in Xero",
    on="Create them in Perfex",
    off="Leave them in Xero",
    hint="Try it first with",
    try_command="pxflask sync documents-pull --dry-run",
)
"""Pull documents made in Xero into Perfex."""
PULL_SETTING, PULL_DEFAULT = SWITCH.key, SWITCH.default_value
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
    order=75,
    switches=(SWITCH,),
)
