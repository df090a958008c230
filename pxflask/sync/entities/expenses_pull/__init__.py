"""Bills and spend money made in Xero -> Perfex expenses: the unit (opt-in)."""

from pxflask.sync.units import PULL, Unit

SETTING = "expenses_from_xero"
"""The switch (settings.FIXED_KEYS): bills and spend money come to Perfex."""
DEFAULT = "no"

UNIT = Unit(
    "expenses-pull",
    "Bills and spend money from Xero",
    PULL,
    ("expense-categories", "taxes", "payment-modes"),
    "pxflask.sync.entities.expenses_pull.step",
    description="ACCPAY bills and SPEND bank transactions made in Xero -> tblexpenses",
    default=False,
    order=105,
)
