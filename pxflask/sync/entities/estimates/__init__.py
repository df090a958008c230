"""Estimates: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import DOCUMENT_WATCH, PUSH, Record, Unit, Watch

NUMBERS, TEXTS = DOCUMENT_WATCH

UNIT = Unit(
    "estimates",
    "Estimates",
    PUSH,
    ("accounts", "taxes", "customers"),
    "pxflask.sync.entities.estimates.step",
    description="tblestimates -> Xero Quotes, totals equal to the cent",
    watches=(Watch("estimates", "id", (*NUMBERS, "invoiceid"), TEXTS),),
    record=Record("read_estimates", number="{formatted_number}"),
    write_kind="quotes",
    reconcile_scope="estimates",
    default=False,
    order=110,
    xero_link="https://go.xero.com/app/{short}/quotes/view/{id}",
)
