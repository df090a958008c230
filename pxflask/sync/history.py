"""A settings change never rewrites history: settings-neutral content.

A record Xero already has is sent again only when the Perfex record changed, not
because a mapping did (`sales_account`, `payment_account.<mode>`, `tax_rate.<id>`,
a tax link...). So what a step hashes to decide "changed" is the payload mapped
with every mapping replaced by what it maps *from*: a payment's Perfex mode
instead of its Xero account, a line's Perfex taxes instead of the Xero TaxType,
the setting's name instead of its account code. A mapping change applies to what
is sent after it; re-posting records with the current mappings is the explicit
`--repost` action (repost.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pxflask.perfex.records import Expense
from pxflask.sync.entities.expenses.mapper import ExpenseContext, ExpenseTargets
from pxflask.sync.entities.invoices.mapper import InvoiceContext
from pxflask.sync.mappers.taxes import TaxKey

REPOST_MARK = "repost"
"""A link's payload hash while a re-post with the current mappings is requested."""


def neutral_tax(key: TaxKey) -> str:
    """A stand-in TaxType naming the Perfex taxes of a line (name and rate)."""
    return "perfex:" + "+".join(f"{name}@{rate}" for name, rate in key)


def neutral_invoice_context(mctx: InvoiceContext) -> InvoiceContext:
    """The invoice/credit-note mapping context with every setting as its own name.

    Mapping a document with it gives a payload that depends on the Perfex rows
    alone; it is hashed, never sent.
    """
    return replace(
        mctx,
        sales_account="{sales_account}",
        rounding_account="{rounding_account}",
        discount_account="{discount_account}",
        no_tax_type="{no_tax_type}",
        resolve_tax=neutral_tax,
        tax_rates={},
    )


def payment_content(payload: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """A payment's payload with the Xero account replaced by its Perfex mode."""
    return {**payload, "Account": {"PerfexMode": mode or ""}}


NEUTRAL_EXPENSE_CONTEXT = ExpenseContext(
    rounding_account="{rounding_account}", no_tax_type="{no_tax_type}"
)
"""The expense mapping context with every setting as its own name."""


def neutral_expense_targets(
    expense: Expense, found: ExpenseTargets, perfex_rates: Sequence[Decimal]
) -> ExpenseTargets | None:
    """An expense's targets named by what they map from (None: it is not sent).

    The expense account by the Perfex category, the bank by the payment mode, the
    tax by the Perfex taxes and their rates; the contact stays (it is the Perfex
    customer's link, not a setting).
    """
    if found.problem or not found.account_code or not found.bank_code:
        return None
    ids = "+".join(str(t) for t in expense.tax_ids)
    taxes = f"{ids}@" + "+".join(str(r) for r in perfex_rates)
    return replace(
        found,
        account_code=f"{{category {expense.category_id}}}",
        bank_code=f"{{mode {expense.payment_mode or ''}}}",
        tax_type=f"perfex:{taxes}",
        tax_rate=sum(perfex_rates, Decimal(0)),
        bank_currency=None,
    )
