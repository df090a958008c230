"""Bills and spend money made in Xero -> Perfex expenses: the unit (opt-in)."""

from pxflask.sync.units import PULL, Switch, Unit

SWITCH = Switch(
    "expenses_from_xero",
    "Bills and spend money made in Xero",
    on="Record them as Perfex expenses",
    off="Leave them in Xero",
    hint=(
        "Also tick \u201cBills and spend money from Xero\u201d under Entities."
        " Try it first with"
    ),
    try_command="pxflask sync expenses-pull --dry-run",
)
"""Bills and spend money made in Xero come to Perfex."""
SETTING, DEFAULT = SWITCH.key, SWITCH.default_value

UNIT = Unit(
    "expenses-pull",
    "Bills and spend money from Xero",
    PULL,
    ("expense-categories", "taxes", "payment-modes"),
    "pxflask.sync.entities.expenses_pull.step",
    description="ACCPAY bills and SPEND bank transactions made in Xero -> tblexpenses",
    default=False,
    order=105,
    switches=(SWITCH,),
)
