"""Perfex expenses -> Xero "spend money" bank transactions, totals equal to the cent.

Perfex stores an expense's net `amount`; its taxes (`tax`, `tax2`, by reference to
tbltaxes) are both computed on that net and the total is rounded once:
total = round2(amount + amount x rate1/100 + amount x rate2/100). Xero gets one
line (Quantity 1, UnitAmount = amount, Exclusive) with the one TaxType the
invoices use for that combination of taxes, so Xero's total is amount +
round2(amount x combined rate/100) and its TotalTax round2(amount x combined
rate/100): Perfex's total and tax (total - net), to the cent. Xero refuses an
overridden TaxAmount on bank transactions (line_tax.py), so a Xero rate with
another percentage than Perfex's taxes (a mapped expense_tax_rate) cannot be
corrected: the expense fails, naming both rates and both taxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from pxflask.perfex.records import Expense, present
from pxflask.sync.mappers.common import (
    HUNDRED,
    ZERO,
    Mapped,
    clip,
    dec,
    failed,
    round2,
    skipped,
    strip_html,
)
from pxflask.sync.mappers.documents import (
    DESCRIPTION_MAX,
    DocumentContext,
    finish_document,
)
from pxflask.sync.mappers.expense_marks import expense_marker, expense_total

DEFAULT_CONTACT = "Perfex expenses"
CONTACT_NAME_MAX = 255
REFERENCE_MAX = 255


@dataclass(frozen=True)
class ExpenseTargets:
    """Where one expense goes in Xero, as the step resolved it (None: unmapped)."""

    account_code: str | None
    bank_code: str | None
    contact: dict[str, str] | None
    tax_type: str
    tax_rate: Decimal = ZERO
    """The rate Xero applies for tax_type."""
    bank_currency: str | None = None
    problem: str | None = None
    """A reason found while resolving (tax, customer, account) that stops it."""


@dataclass(frozen=True)
class ExpenseContext:
    """What the expense mapper needs besides the expense and its targets."""

    rounding_account: str = "860"
    no_tax_type: str = "NONE"


def expense_reference(expense: Expense) -> str:
    """The Xero Reference: the expense's reference number, else its name."""
    text = (expense.reference_no or "").strip() or (expense.name or "").strip()
    return clip(text or f"Perfex expense {expense.id}", REFERENCE_MAX)


def expense_description(expense: Expense, category_name: str | None) -> str:
    """Name (or category) and note, then the Perfex marker; at most 4,000."""
    parts = [
        strip_html(expense.name) or (category_name or "").strip() or "Expense",
        strip_html(expense.note),
    ]
    marker = expense_marker(expense.id)
    text = clip(" - ".join(p for p in parts if p), DESCRIPTION_MAX - len(marker) - 1)
    return f"{text} {marker}"


def contact_by_name(name: str | None) -> dict[str, str]:
    """The fixed expense contact, by name (Xero matches or creates it)."""
    return {"Name": clip((name or "").strip() or DEFAULT_CONTACT, CONTACT_NAME_MAX)}


def map_expense(
    expense: Expense,
    targets: ExpenseTargets,
    perfex_rates: Iterable[Decimal],
    ctx: ExpenseContext,
    category_name: str | None = None,
) -> Mapped:
    """Map a Perfex expense to a Xero SPEND bank transaction (or a skip reason)."""
    key = str(expense.id)
    if targets.problem:
        return skipped(key, targets.problem)
    if not targets.account_code:
        return skipped(
            key,
            f"expense category {expense.category_id} has no Xero account (pull"
            " expense categories from Xero, or set"
            f" expense_account.{expense.category_id})",
        )
    if not targets.bank_code:
        mode = expense.payment_mode or "default"
        return skipped(
            key,
            f"no Xero bank account for payment mode {expense.payment_mode!r}"
            f" (set payment_account.{mode} or payment_account.default)",
        )
    if targets.contact is None:
        return skipped(key, "no Xero contact for the expense")
    currency = expense.currency.code
    if targets.bank_currency and targets.bank_currency != currency:
        return skipped(
            key,
            f"the expense is in {currency} but bank account {targets.bank_code} is"
            f" in {targets.bank_currency}: Xero spends money in the bank account's"
            f" currency; map payment mode {expense.payment_mode or 'default'} to a"
            f" {currency} bank account",
        )
    amount = round2(dec(expense.amount))
    if amount <= 0:
        return skipped(key, f"amount {amount} is not positive")
    payload: dict[str, Any] = {
        "Type": "SPEND",
        "Contact": dict(targets.contact),
        "BankAccount": {"Code": targets.bank_code},
        "Date": present(expense.date).isoformat(),
        "Reference": expense_reference(expense),
        "CurrencyCode": currency,
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": expense_description(expense, category_name),
                "Quantity": Decimal(1),
                "UnitAmount": amount,
                "AccountCode": targets.account_code,
                "TaxType": targets.tax_type,
            }
        ],
    }
    taxes = [dec(r) for r in perfex_rates]
    target = expense_total(amount, taxes)
    xero_rate = dec(targets.tax_rate)
    if xero_rate != sum(taxes, ZERO):
        return failed(key, _rate_differs(expense, targets, taxes, target - amount))
    rates = {targets.tax_type: xero_rate, ctx.no_tax_type: ZERO}
    finish = DocumentContext(
        sales_account=targets.account_code,
        rounding_account=ctx.rounding_account,
        resolve_tax=_no_resolver,
        no_tax_type=ctx.no_tax_type,
    )
    return finish_document(key, payload, target, rates, finish, [], what="expense")


def _rate_differs(
    expense: Expense, targets: ExpenseTargets, taxes: list[Decimal], tax: Decimal
) -> str:
    """Why an expense whose Xero rate is not its Perfex taxes' rate fails."""
    rate = format(sum(taxes, ZERO).normalize(), "f")
    xero_rate = dec(targets.tax_rate)
    setting = (
        f"expense_tax_rate.{expense.tax_ids[0]}"
        if len(expense.tax_ids) == 1
        else "the tax_rate settings of its taxes"
    )
    return (
        f"TaxType {targets.tax_type} is {format(xero_rate.normalize(), 'f')}% in"
        f" Xero but the expense's Perfex taxes are {rate}% (tax {tax} in Perfex,"
        f" {round2(round2(dec(expense.amount)) * xero_rate / HUNDRED)} in Xero):"
        f" set {setting} to a Xero rate of {rate}%"
    )


def _no_resolver(key: Any) -> str:
    """Expenses resolve their tax before mapping; never called."""
    raise AssertionError(f"unexpected tax resolution for {key!r}")


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
