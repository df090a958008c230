"""Items: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import PUSH, Record, Target, Unit, Watch

UNIT = Unit(
    "items",
    "Items",
    PUSH,
    ("accounts", "taxes"),
    "pxflask.sync.entities.items.step",
    description="tblitems -> Items",
    watches=(
        Watch(
            "items",
            "id",
            ("rate", "tax", "tax2"),
            ("description", "long_description", "unit"),
        ),
    ),
    target=Target("items"),
    record=Record("read_items"),
    write_kind="items",
    order=60,
)
