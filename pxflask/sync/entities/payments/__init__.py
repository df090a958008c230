"""Payments: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import BOTH, Record, Target, Unit, Watch

PULL_SETTING = "payments_from_xero"
"""The setting that pulls payments made in Xero into Perfex (settings.FIXED_KEYS)."""
PULL_DEFAULT = "yes"

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
)
