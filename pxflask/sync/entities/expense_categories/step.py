"""Expense categories: Xero EXPENSE-class accounts -> tblexpenses_categories."""

from __future__ import annotations

from pxflask.perfex import writes
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import SYNCED, LinkStore, LogEntry, Outcome, write_log
from pxflask.sync.mappers.accounts import account_to_expense_category
from pxflask.sync.steps.services import services

ENTITY = "expense-categories"
CURSOR = "xero.accounts.expense-categories"
"""The newest account change this step has turned into categories."""


def run(ctx: StepContext) -> StepReport:
    """Create or refresh a Perfex expense category per Xero expense account."""
    report = StepReport(ENTITY)
    store = LinkStore(ctx.session, ENTITY)
    by_account = store.by_xero_id()
    outcomes: list[Outcome] = []
    logs: list[LogEntry] = []
    changed, _ = services(ctx).accounts_changed(CURSOR)
    for account in changed:
        wanted = account_to_expense_category(account)
        if wanted is None or not account.get("AccountID"):
            continue
        account_id = str(account["AccountID"])
        h = payload_hash(wanted)
        link = by_account.get(account_id)
        if link is not None and link.payload_hash == h:
            report.unchanged += 1
            continue
        report.planned.append(PlannedAction(ENTITY, account_id, "pull", wanted))
        report.pulled += 1
        if ctx.dry_run:
            continue
        category_id = writes.upsert_expense_category(
            ctx.perfex, wanted["name"], wanted["description"]
        )
        if link is not None and link.perfex_key != str(category_id):
            store.forget([link.perfex_key])
        outcomes.append(
            Outcome(str(category_id), SYNCED, account_id, account.get("Code"), h)
        )
        logs.append(
            LogEntry(str(category_id), "pull", SYNCED, wanted["name"], account_id)
        )
    if not ctx.dry_run:
        if outcomes:
            store.record(outcomes)
        if logs:
            write_log(ctx.session, ENTITY, logs, run_id=ctx.run_id)
        services(ctx).accounts_consumed(CURSOR)
    return report
