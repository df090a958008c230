"""Taxes: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import BOTH, Record, Unit, Watch

UNIT = Unit(
    "taxes",
    "Taxes",
    BOTH,
    (),
    "pxflask.sync.entities.taxes.step",
    description="tbltaxes <-> TaxRates; combined line taxes -> one rate",
    watches=(Watch("taxes", "id", ("taxrate",), ("name",)),),
    record=Record("read_taxes", by_ids=False),
    order=30,
)
