"""Chart of accounts: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import CACHE, Unit

UNIT = Unit(
    "accounts",
    "Chart of accounts",
    CACHE,
    (),
    "pxflask.sync.entities.accounts.step",
    description="Xero accounts cached in the module, offered in every mapping",
    order=10,
)
