"""A Xero bill or spend-money transaction -> one Perfex expense (pure).

One Perfex expense holds one category, at most two taxes on one net amount and
one total rounded once (expense_total). So a document maps only when every line
with an amount uses the same account and the same TaxType, and Perfex's total of
its net (Xero's Total - TotalTax) with the mapped taxes equals Xero's Total to
the cent; otherwise it is refused with the reason (never split, never rounded
into shape). The Xero account, TaxType, bank account and currency are mapped by
`Lookups` (the step's settings and links); an unmapped one fails the record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pxflask.perfex.expense_writes import NewExpense, xero_tag
from pxflask.sync.mappers.common import ZERO, clip, dec
from pxflask.sync.mappers.expense_marks import expense_total
from pxflask.sync.mappers.pulled import xero_day

BILL = "bill"
SPEND = "spend"
LIVE = {BILL: ("AUTHORISED", "PAID"), SPEND: ("AUTHORISED",)}
"""Statuses whose documents are expenses (drafts wait until approved)."""
LABEL = {BILL: "bill", SPEND: "spend money"}
NOTE_MAX = 4000


@dataclass(frozen=True)
class Taxes:
    """The Perfex taxes of a Xero TaxType (at most two) and their rates."""

    ids: tuple[int, ...] = ()
    rates: tuple[Decimal, ...] = ()


class Lookups(Protocol):
    """Xero codes -> Perfex ids, each with the reason when unmapped."""

    def category(self, code: str) -> tuple[int | None, str | None]:
        """The Perfex expense category of a Xero account code."""

    def taxes(self, tax_type: str | None) -> tuple[Taxes | None, str | None]:
        """The Perfex taxes of a Xero TaxType (None: the document has no tax)."""

    def mode(self, bank: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """The Perfex payment mode of a Xero bank account."""

    def currency(self, code: str) -> tuple[int | None, str | None]:
        """The tblcurrencies id of an ISO code."""


@dataclass(frozen=True)
class Pulled:
    """One Xero document's Perfex expense, or why it has none."""

    expense: NewExpense | None = None
    fail: str | None = None
    """A mapping is missing: a fix in the settings clears it (retried each run)."""
    skip: str | None = None
    """Perfex cannot hold it as one expense (the reason; not retried)."""


def _priced(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The lines that carry an amount."""
    lines = doc.get("LineItems") or []
    return [line for line in lines if dec(line.get("LineAmount") or 0) != 0]


def _one(values: Sequence[str], what: str, kind: str) -> str | None:
    """Why lines in several accounts or taxes cannot be one expense, or None."""
    if len(values) <= 1:
        return None
    return (
        f"the {LABEL[kind]} has lines in {len(values)} {what}"
        f" ({', '.join(v or '(none)' for v in values)}): a Perfex expense holds"
        " one category and one tax; split it in Xero (one document per account and"
        " tax) or enter it in Perfex by hand"
    )


def _note(kind: str, doc: Mapping[str, Any], xero_id: str, number: str) -> str:
    """'From Xero bill INV-1 [xero:<id>]: line texts' (at most NOTE_MAX)."""
    head = f"From Xero {LABEL[kind]}" + (f" {number}" if number else "")
    head += f" {xero_tag(xero_id)}"
    texts = [
        str(line.get("Description") or "").strip()
        for line in doc.get("LineItems") or []
    ]
    body = "; ".join(t for t in texts if t)
    return clip(f"{head}: {body}" if body else head, NOTE_MAX)


def map_document(
    kind: str, doc: Mapping[str, Any], xero_id: str, look: Lookups
) -> Pulled:
    """The Perfex expense of one live Xero bill or spend-money transaction."""
    priced = _priced(doc)
    if not priced:
        return Pulled(skip=f"the {LABEL[kind]} has no line with an amount")
    no_tax = str(doc.get("LineAmountTypes") or "").lower() == "notax"
    codes = sorted({str(line.get("AccountCode") or "") for line in priced})
    types = sorted(
        {"" if no_tax else str(line.get("TaxType") or "") for line in priced}
    )
    split = _one(codes, "accounts", kind) or _one(types, "tax rates", kind)
    if split:
        return Pulled(skip=split)
    if not codes[0]:
        return Pulled(fail=f"a line of the {LABEL[kind]} has no account code")
    category, problem = look.category(codes[0])
    taxes, tax_problem = look.taxes(types[0] or None)
    problem = problem or tax_problem
    currency_code = str(doc.get("CurrencyCode") or "")
    currency, currency_problem = look.currency(currency_code)
    problem = problem or currency_problem
    mode: str | None = None
    if kind == SPEND:
        mode, mode_problem = look.mode(doc.get("BankAccount") or {})
        problem = problem or mode_problem
    if problem:
        return Pulled(fail=problem)
    assert category is not None and taxes is not None and currency is not None  # noqa: S101
    total = dec(doc.get("Total") or 0)
    tax = dec(doc.get("TotalTax") or 0)
    net = total - tax
    if net <= ZERO:
        return Pulled(skip=f"the {LABEL[kind]}'s amount {net} is not positive")
    perfex_total = expense_total(net, taxes.rates)
    if perfex_total != total:
        return Pulled(
            skip=(
                f"Perfex would total {perfex_total} (net {net}, taxes on the net"
                f" rounded once) but Xero's total is {total} (tax {tax}, rounded per"
                " line): not pulled, so the two never differ; enter it in Perfex"
                " by hand"
            )
        )
    day = xero_day(doc.get("Date"))
    if day is None:
        return Pulled(fail=f"the {LABEL[kind]} has no date")
    field = "InvoiceNumber" if kind == BILL else "Reference"
    reference = str(doc.get(field) or "").strip()  # a bill's Reference is ignored
    contact = str((doc.get("Contact") or {}).get("Name") or "").strip()
    ids = (*taxes.ids, 0, 0)
    return Pulled(
        NewExpense(
            category=category,
            currency=currency,
            amount=net,
            tax=ids[0],
            tax2=ids[1],
            date=day,
            reference_no=clip(reference, 100),
            note=_note(kind, doc, xero_id, reference),
            expense_name=clip(contact or f"Xero {LABEL[kind]}", 191),
            paymentmode=mode,
        )
    )


def expense_fields(expense: NewExpense) -> dict[str, Any]:
    """The expense as plain values (a dry run's payload, the content hash)."""
    return {
        "category": expense.category,
        "currency": expense.currency,
        "amount": expense.amount,
        "tax": expense.tax,
        "tax2": expense.tax2,
        "date": expense.date.isoformat(),
        "reference_no": expense.reference_no,
        "note": expense.note,
        "expense_name": expense.expense_name,
        "paymentmode": expense.paymentmode,
    }


def describe(expense: NewExpense) -> str:
    """What a dry run says it would write: 'net 80.00 + tax 7 on 2026-03-02, ...'."""
    taxes = "+".join(str(t) for t in (expense.tax, expense.tax2) if t) or "none"
    mode = f", mode {expense.paymentmode}" if expense.paymentmode else ""
    reference = f" ({expense.reference_no})" if expense.reference_no else ""
    return (
        f"expense{reference}: net {expense.amount}, tax {taxes}, category"
        f" {expense.category}{mode}, on {expense.date.isoformat()}"
    )
