"""Payments: the unit (its step and mapper live beside it)."""

from pxflask.sync.mappers.pulled import PAYMENTS_SWITCH
from pxflask.sync.units import BOTH, Record, Target, Unit, Watch

SWITCH = PAYMENTS_SWITCH
"""Pull payments made in Xero into Perfex (shared: the documents pull reads it)."""
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
