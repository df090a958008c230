"""Expense categories: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import PULL, Record, Unit

UNIT = Unit(
    "expense-categories",
    "Expense categories",
    PULL,
    ("accounts",),
    "pxflask.sync.entities.expense_categories.step",
    description="Xero EXPENSE-class accounts -> tblexpenses_categories",
    record=Record("read_expense_categories", by_ids=False),
    order=20,
)
