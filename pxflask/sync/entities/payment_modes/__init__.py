"""Payment modes: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import BOTH, Record, Unit, Watch

UNIT = Unit(
    "payment-modes",
    "Payment modes",
    BOTH,
    ("accounts",),
    "pxflask.sync.entities.payment_modes.step",
    description="tblpayment_modes <-> BANK accounts",
    watches=(Watch("payment_modes", "id", ("active",), ("name",)),),
    record=Record("read_payment_modes", by_ids=False),
    order=40,
)
