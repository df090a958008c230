"""Payments: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import BOTH, Record, Switch, Target, Unit, Watch

SWITCH = Switch(
    "payments_from_xero",
    "Payments made in Xero",
    on="Record them in Perfex",
    off="Leave them in Xero",
    default=True,
)
"""Pull payments made in Xero into Perfex."""
PULL_SETTING, PULL_DEFAULT = SWITCH.key, SWITCH.default_value

UNIT = Unit(
    "payments",
    "Payments",
    BOTH,
    ("invoices", "payment-modes"),
    "pxflask.sync.entities.payments.step",
    description="tblinvoicepaymentrecords <-> Payments (made in Xero: pulled)",
    watches=(
        Watch(
            "invoicepaymentrecords",
            "id",
            ("amount", "invoiceid"),
            ("paymentmode", "transactionid", "note"),
        ),
    ),
    target=Target(
        "invoicepaymentrecords",
        parent="invoices",
        parent_column="invoiceid",
        follows_parent=True,
    ),
    record=Record("read_payments", number="{amount} on {date}"),
    write_kind="payments",
    reconcile_scope="payments",
    order=80,
    xero_link="/Bank/ViewTransaction.aspx?bankTransactionID={id}",
    switches=(SWITCH,),
)
