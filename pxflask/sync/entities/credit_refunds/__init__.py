"""Credit-note refunds: the unit (its step, mapper and pull live beside it)."""

from pxflask.sync.units import BOTH, Record, Switch, Unit, Watch

SWITCH = Switch(
    "refunds_from_xero",
    "Credit-note refunds made in Xero",
    on="Record them in Perfex",
    off="Leave them in Xero",
    hint="Written straight into tblcreditnote_refunds; try it with a dry run first.",
)
"""Record refunds made in Xero in Perfex."""
PULL_SETTING, PULL_DEFAULT = SWITCH.key, SWITCH.default_value

UNIT = Unit(
    "credit-refunds",
    "Credit-note refunds",
    BOTH,
    ("credit-notes", "payment-modes"),
    "pxflask.sync.entities.credit_refunds.step",
    description=(
        "tblcreditnote_refunds <-> refund Payments on credit notes "
        "(made in Xero: pulled when refunds_from_xero is on)"
    ),
    watches=(
        Watch(
            "creditnote_refunds",
            "id",
            ("amount", "credit_note_id"),
            ("payment_mode", "note"),
        ),
    ),
    record=Record("read_credit_refunds", number="{amount} on {date}"),
    reconcile_scope="refunds",
    default=False,
    order=95,
    switches=(SWITCH,),
)
