"""Expenses: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import PUSH, Record, Unit, Watch

UNIT = Unit(
    "expenses",
    "Expenses",
    PUSH,
    ("expense-categories", "taxes", "payment-modes", "customers"),
    "pxflask.sync.entities.expenses.step",
    description="tblexpenses -> SPEND bank transactions (spend money)",
    watches=(
        Watch(
            "expenses",
            "id",
            ("category", "currency", "amount", "tax", "tax2", "clientid"),
            ("expense_name", "note", "reference_no", "paymentmode"),
        ),
    ),
    record=Record("read_expenses"),
    write_kind="bank_transactions",
    reconcile_scope="expenses",
    default=False,
    order=100,
    xero_link="/Bank/ViewTransaction.aspx?bankTransactionID={id}",
)
