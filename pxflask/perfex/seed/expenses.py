"""Demo expenses with categories, taxes and payment modes."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from pxflask.perfex.seed.catalogue import HISTORY_DAYS
from pxflask.perfex.seed.customers import Customer
from pxflask.perfex.seed.documents import Docs, Ids
from pxflask.perfex.seed.reference import Ref
from pxflask.perfex.seed.rows import random_money


def seed_expenses(
    rng: random.Random,
    ref: Ref,
    ids: Ids,
    customers: list[Customer],
    count: int,
    today: date,
    docs: Docs,
) -> None:
    """Expenses with categories, taxes by reference and payment modes."""
    for _ in range(count):
        on = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
        billable = rng.random() < 0.2
        roll = rng.random()
        tax = ref.tax_ids["VAT"] if roll < 0.5 else None
        tax2 = ref.tax_ids["City Tax"] if roll < 0.1 else 0
        docs.expenses.append(
            {
                "id": ids.expense,
                "category": rng.choice(ref.category_ids),
                "currency": ref.currencies[
                    rng.choice([ref.base_currency] * 6 + ["EUR", "GBP"])
                ],
                "amount": random_money(rng, 5, 2000),
                "tax": tax,
                "tax2": tax2,
                "reference_no": f"EXP-{rng.randint(10000, 99999)}",
                "note": rng.choice([None, "Receipt attached", "Reisekosten München"]),
                "expense_name": rng.choice(
                    [
                        None,
                        "Team lunch",
                        "Train to Lyon",
                        "Cloud subscription",
                        "Printer paper",
                    ]
                ),
                "clientid": rng.choice(customers).id if billable else 0,
                "project_id": 0,
                "billable": int(billable),
                "invoiceid": None,
                "paymentmode": str(rng.choice(ref.mode_ids)),
                "date": on,
                "recurring_type": None,
                "repeat_every": None,
                "recurring": 0,
                "cycles": 0,
                "total_cycles": 0,
                "custom_recurring": 0,
                "last_recurring_date": None,
                "create_invoice_billable": 0,
                "send_invoice_to_customer": 0,
                "recurring_from": None,
                "dateadded": datetime.combine(on, time(18, 0)),
                "addedfrom": ref.admin_id,
            }
        )
        ids.expense += 1
