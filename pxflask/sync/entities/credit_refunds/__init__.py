"""Credit-note refunds: the unit (its step, mapper and pull live beside it)."""

from pxflask.sync.units import BOTH, Record, Unit, Watch

PULL_SETTING = "refunds_from_xero"
"""The setting that records refunds made in Xero in Perfex (settings.FIXED_KEYS)."""
PULL_DEFAULT = "no"

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
)
