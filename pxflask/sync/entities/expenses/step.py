"""Expenses: tblexpenses -> Xero "spend money" bank transactions (Type SPEND).

Each expense is paid from the bank account of its payment mode (the payments'
rules: `payment_account.<mode>`, the payment-mode link, `payment_account.default`)
into the Xero account of its category (`expense_account.<category id>`, else the
expense-categories link). Its taxes use a Xero rate that can apply to expenses
(`expense_tax_rate.<id>`, else the one rate that fits, else one created with the
ReportTaxType the country needs: taxes.py); an expense whose tax has no usable rate
fails alone with the reason. The contact is the customer of
a customer-linked (billable) expense, else one contact named by `expense_contact`
("Perfex expenses"). Expenses that cannot be mapped are skipped with the reason.

An edited expense updates its bank transaction, a deleted one sets it DELETED;
a transaction reconciled in Xero is never touched: its link is locked with the
reason. A create interrupted by a crash is found again by Reference and the
Perfex marker on its line before anything is sent twice. An expense pulled from
Xero (a bill or spend money made there, see entities/expenses_pull) is never
sent back nor deleted in Xero: its link carries PULLED_FROM_XERO.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pxflask.perfex import reads
from pxflask.perfex.records import Expense, Tax
from pxflask.sync import lockdates, tracking
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.expenses.mapper import (
    NEUTRAL_EXPENSE_CONTEXT,
    ExpenseContext,
    ExpenseTargets,
    contact_by_name,
    expense_marker,
    map_expense,
    neutral_expense_targets,
)
from pxflask.sync.links import (
    DELETED,
    FROZEN,
    LOCKED,
    PULLED_FROM_XERO,
    VOIDED,
    LinkStore,
    Outcome,
)
from pxflask.sync.mappers.common import ZERO, Mapped
from pxflask.sync.mappers.expense_marks import has_xero_tag
from pxflask.sync.mappers.payment_accounts import account_for
from pxflask.sync.mappers.tax_match import EXPENSES
from pxflask.sync.mappers.taxes import key_rate, tax_key
from pxflask.sync.steps.base import Pending, Pusher, damaged_record, map_guarded, quote
from pxflask.sync.steps.services import services

if TYPE_CHECKING:
    from pxflask.sync.steps.services import TaxResolver

ENTITY = "expenses"
KIND = "bank_transactions"
ID_FIELD = "BankTransactionID"
CONTACT_KEY = "expense_contact"
ID_CHUNK = 20
"""Ids or references per `where` read (Xero caps the URL length)."""
RECONCILED = (
    "reconciled in Xero: a reconciled bank transaction cannot be edited"
    " (unreconcile it in Xero, then release the link)"
)
DELETED_RECONCILED = (
    "deleted in Perfex but reconciled in Xero: it cannot be deleted"
    " (unreconcile it in Xero, then release the link)"
)
DELETED_IN_PERFEX = "deleted in Perfex: deleted in Xero"
LINE_INPUT = (
    "LineItemID",
    "Description",
    "Quantity",
    "UnitAmount",
    "AccountCode",
    "TaxType",
)


class Targets:
    """Resolves where each expense goes: accounts, bank, contact and tax."""

    def __init__(self, ctx: StepContext):
        """Read links, Perfex taxes and categories, and the chart (once per run)."""
        self.ctx = ctx
        self.raw = ctx.settings.raw
        self.categories = LinkStore(ctx.session, "expense-categories").links
        self.modes = LinkStore(ctx.session, "payment-modes").links
        self.customers = LinkStore(ctx.session, "customers").synced_ids()
        self.taxes: dict[int, Tax] = {t.id: t for t in reads.read_taxes(ctx.perfex)}
        self.category_names = {
            c.id: c.name for c in reads.read_expense_categories(ctx.perfex)
        }
        self.accounts = {
            str(a["Code"]): a
            for a in services(ctx).accounts()
            if a.get("Code") and str(a.get("Status") or "ACTIVE").upper() == "ACTIVE"
        }
        self.contact = contact_by_name(self.raw.get(CONTACT_KEY))
        self._resolver: TaxResolver | None = None

    @property
    def resolve(self) -> TaxResolver:
        """The run's tax resolver (the invoices' mapping), built on first need."""
        if self._resolver is None:
            self._resolver = services(self.ctx).taxes()
        return self._resolver

    def flush(self) -> None:
        """Store tax links matched while resolving."""
        if self._resolver is not None:
            self._resolver.flush()

    def of(self, expense: Expense) -> tuple[ExpenseTargets, list[Decimal]]:
        """The targets of one expense and the Perfex rates of its taxes."""
        no_tax = self.ctx.settings.no_tax_type
        account, problem = self._expense_account(expense)
        bank, currency, bank_problem = self._bank(expense)
        contact, contact_problem = self._contact(expense)
        problem = problem or bank_problem or contact_problem
        other_currency = bool(currency) and currency != expense.currency.code
        if problem or not account or not bank or contact is None or other_currency:
            found = ExpenseTargets(
                account, bank, contact, no_tax, ZERO, currency, problem
            )
            return found, []
        tax_type, rate, perfex_rates, problem = self._tax(expense)
        return (
            ExpenseTargets(account, bank, contact, tax_type, rate, currency, problem),
            perfex_rates,
        )

    def _expense_account(self, expense: Expense) -> tuple[str | None, str | None]:
        """The category's Xero account code (setting, then link), or a problem."""
        category = expense.category_id
        code = (self.raw.get(f"expense_account.{category}") or "").strip()
        if not code:
            link = self.categories.get(str(category))
            code = (link.xero_number or "") if link is not None and link.xero_id else ""
        if not code:
            return None, None
        account = self.accounts.get(code)
        if account is None:
            return code, (
                f"Xero account {code} of expense category {category} is not an"
                " active account in Xero's chart"
            )
        if account.get("Type") == "BANK":
            return code, f"expense category {category} is mapped to bank account {code}"
        return code, None

    def _bank(self, expense: Expense) -> tuple[str | None, str | None, str | None]:
        """(bank account code, its currency, problem) of the expense's payment mode."""
        code = account_for(expense.payment_mode, self.raw, self.modes)
        if not code:
            return None, None, None
        account = self.accounts.get(code)
        where = f"{code} (payment mode {expense.payment_mode!r})"
        if account is None:
            problem = f"bank account {where} is not an active account in Xero's chart"
            return code, None, problem
        if account.get("Type") != "BANK":
            problem = f"account {where} is not a BANK account: spend money needs one"
            return code, None, problem
        return code, account.get("CurrencyCode") or None, None

    def _contact(self, expense: Expense) -> tuple[dict[str, str] | None, str | None]:
        """The customer's contact for a customer-linked expense, else the fixed one."""
        if not expense.customer_id:
            return self.contact, None
        contact_id = self.customers.get(str(expense.customer_id))
        if contact_id is None:
            return None, f"customer {expense.customer_id} is not synced"
        return {"ContactID": contact_id}, None

    def _tax(self, expense: Expense) -> tuple[str, Decimal, list[Decimal], str | None]:
        """(TaxType, Xero rate, Perfex rates, problem) of the expense's taxes.

        The TaxType is resolved for expenses (rates that can apply to expenses,
        `expense_tax_rate.<id>` first); an unresolved one is a placeholder that
        `run` turns into this expense's failure.
        """
        no_tax = self.resolve.no_tax_type(EXPENSES)
        missing = [i for i in expense.tax_ids if i not in self.taxes]
        if missing:
            return no_tax, ZERO, [], f"tax {missing[0]} no longer exists in Perfex"
        if len(set(expense.tax_ids)) != len(expense.tax_ids):
            return no_tax, ZERO, [], "tax and tax2 are the same tax: fix it in Perfex"
        found = [self.taxes[i] for i in expense.tax_ids]
        perfex_rates = [t.rate for t in found]
        key = tax_key(found)
        tax_type = self.resolve.for_expenses(key)
        rate = self.resolve.rates.get(tax_type, key_rate(key) if key else ZERO)
        return tax_type, rate, perfex_rates, None


def run(ctx: StepContext) -> StepReport:
    """Create, update or delete a Xero spend-money transaction per Perfex expense."""
    pusher = Pusher(ctx, ENTITY, KIND, ID_FIELD)
    pulled = {
        key
        for key, link in pusher.store.links.items()
        if link.idempotency_key == PULLED_FROM_XERO
    }
    every = reads.read_expenses(ctx.perfex)
    expenses = [
        e
        for e in every
        if (ctx.date_from is None or e.date is None or e.date >= ctx.date_from)
        and str(e.id) not in pulled
        and not has_xero_tag(e.note)  # pulled, its link not written yet (a crash)
    ]
    mapped: list[Mapped] = []
    content: dict[str, Any] = {}
    if expenses:
        targets = Targets(ctx)
        mctx = ExpenseContext(
            rounding_account=ctx.settings.rounding_account,
            no_tax_type=targets.resolve.no_tax_type(EXPENSES),
        )
        for expense in expenses:
            key = str(expense.id)
            if expense.damaged:
                mapped.append(
                    damaged_record("expense", expense.id, key, expense.damaged)
                )
                continue
            found, perfex_rates = targets.of(expense)
            name = targets.category_names.get(expense.category_id)
            m = map_guarded(key, map_expense, expense, found, perfex_rates, mctx, name)
            m = targets.resolve.checked(m)
            mapped.append(m)
            neutral = neutral_expense_targets(expense, found, perfex_rates)
            if m.payload is not None and neutral is not None:
                n = map_expense(
                    expense,
                    neutral,
                    perfex_rates,
                    NEUTRAL_EXPENSE_CONTEXT,
                    name,
                )
                if n.payload is not None:
                    content[m.key] = n.payload
        targets.flush()
    mapped = tracking.Tracker(ctx, "expenses").tag(mapped, content)
    pusher.plan(mapped, lockdates.released(ctx, pusher.store), content)
    _recover(ctx, pusher)
    gone = _gone(pusher.store, {str(e.id) for e in every} | pulled)
    xero_ids = [p.xero_id or "" for p in pusher.updates] + [x for _, x in gone]
    current = _current(ctx, xero_ids)
    _check_updates(pusher, current)
    lockdates.hold(ctx, pusher, lambda p: _dates(p, current))
    tracking.ensure(ctx, pusher)
    failed = pusher.write_creates() + pusher.write_updates()
    _delete(ctx, pusher, gone, current)
    return pusher.finish(failed)


def _read_where(
    ctx: StepContext, field: str, values: Iterable[str], literal: str = "{}"
) -> list[dict[str, Any]]:
    """Bank transactions whose `field` is one of values (ID_CHUNK per read)."""
    wanted = sorted({v for v in values if v})
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), ID_CHUNK):
        part = wanted[start : start + ID_CHUNK]
        where = " OR ".join(f"{field}=={literal.format(quote(v))}" for v in part)
        found.extend(ctx.gateway.read_all(KIND, where=where))
    return found


def _current(ctx: StepContext, xero_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The Xero bank transactions of some ids, by lower-case id (none in a dry run)."""
    if ctx.dry_run or not any(xero_ids):
        return {}
    records = _read_where(ctx, ID_FIELD, xero_ids, "Guid({})")
    return {str(r.get(ID_FIELD)).lower(): r for r in records}


def _recover(ctx: StepContext, pusher: Pusher) -> None:
    """Creates a crash may have sent: find them by Reference and line marker."""
    maybe = pusher.recovering()
    if not maybe:
        return
    by_reference: dict[str, list[dict[str, Any]]] = {}
    references = [p.payload["Reference"] for p in maybe]
    for record in _read_where(ctx, "Reference", references):
        by_reference.setdefault(str(record.get("Reference")), []).append(record)
    taken = {x.lower() for x in pusher.store.by_xero_id()}
    for p in maybe:
        marker = expense_marker(int(p.key))
        for record in by_reference.get(p.payload["Reference"], []):
            xero_id = str(record.get(ID_FIELD))
            lines = record.get("LineItems") or []
            if (
                xero_id.lower() in taken
                or record.get("Status") in ("DELETED", "VOIDED")
                or not any(marker in str(line.get("Description")) for line in lines)
            ):
                continue
            taken.add(xero_id.lower())
            pusher.adopt(p, xero_id)
            break


def _frozen_state(record: dict[str, Any]) -> tuple[str, str] | None:
    """(link state, reason) when a Xero transaction must not be written."""
    status = record.get("Status")
    if status in ("DELETED", "VOIDED"):
        state = DELETED if status == "DELETED" else VOIDED
        return state, f"the bank transaction is {status} in Xero: not sent again"
    if record.get("IsReconciled"):
        return LOCKED, RECONCILED
    return None


def _check_updates(pusher: Pusher, current: dict[str, dict[str, Any]]) -> None:
    """Keep the updates Xero allows; freeze or lock the others with the reason."""
    keep, outcomes = [], []
    for p in pusher.updates:
        record = current.get((p.xero_id or "").lower())
        frozen = _frozen_state(record) if record is not None else None
        if frozen is None:
            keep.append(p)
            continue
        state, reason = frozen
        outcomes.append(Outcome(p.key, state, payload_hash=p.hash, error=reason))
        pusher.block(p.key, reason, p.payload)
    pusher.updates = keep
    if outcomes:
        pusher.store.record(outcomes)


def _dates(p: Pending, current: dict[str, dict[str, Any]]) -> list[date | None]:
    """The dates Xero checks against its lock date: new, and current in Xero."""
    now = current.get((p.xero_id or "").lower(), {}).get("Date")
    return [lockdates.as_date(p.payload.get("Date")), lockdates.as_date(now)]


def _gone(store: LinkStore, perfex_keys: set[str]) -> list[tuple[str, str]]:
    """(key, xero id) of linked expenses no longer in Perfex."""
    return [
        (key, str(link.xero_id))
        for key, link in store.links.items()
        if key not in perfex_keys and link.xero_id and link.state not in FROZEN
    ]


def _date(record: dict[str, Any]) -> date | None:
    """The date of a Xero bank transaction."""
    return lockdates.as_date(record.get("Date"))


def _delete_body(xero_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """A POST that sets a bank transaction DELETED (with the fields Xero requires)."""
    lines = [
        {k: line[k] for k in LINE_INPUT if line.get(k) is not None}
        for line in record.get("LineItems") or []
    ]
    bank = record.get("BankAccount") or {}
    return {
        ID_FIELD: xero_id,
        "Type": record.get("Type") or "SPEND",
        "BankAccount": {"AccountID": bank.get("AccountID")},
        "LineItems": lines,
        "Status": "DELETED",
    }


def _delete(
    ctx: StepContext,
    pusher: Pusher,
    gone: list[tuple[str, str]],
    current: dict[str, dict[str, Any]],
) -> None:
    """Expenses deleted in Perfex: DELETED in Xero, or locked when reconciled."""
    outcomes: list[Outcome] = []
    elements: list[tuple[str, dict[str, Any]]] = []
    lock = lockdates.lock_date(ctx) if gone and current else None
    for key, xero_id in gone:
        if ctx.dry_run:
            body = {ID_FIELD: xero_id, "Status": "DELETED"}
            pusher.report.planned.append(PlannedAction(ENTITY, key, "delete", body))
            pusher.report.updated += 1
            continue
        record = current.get(xero_id.lower())
        frozen = _frozen_state(record) if record is not None else None
        if record is None or (frozen is not None and frozen[0] != LOCKED):
            outcomes.append(Outcome(key, DELETED, error=DELETED_IN_PERFEX))
            pusher.report.unchanged += 1
        elif frozen is not None:
            outcomes.append(Outcome(key, LOCKED, error=DELETED_RECONCILED))
            pusher.block(key, DELETED_RECONCILED)
        elif (when := lockdates.locked([_date(record)], lock)) and lock is not None:
            held = lockdates.hold_change(pusher, key, lockdates.reason(when, lock))
            if held is not None:
                outcomes.append(held)
        else:
            body = _delete_body(xero_id, record)
            pusher.report.planned.append(PlannedAction(ENTITY, key, "delete", body))
            elements.append((key, body))
    if elements:
        outcomes += pusher.send_changes(
            elements,
            "delete",
            "Xero refused to delete it",
            lambda key, _: Outcome(key, DELETED, error=DELETED_IN_PERFEX),
        )
    if outcomes:
        pusher.store.record(outcomes)
    pusher.flush_logs()
