"""Payment modes: Perfex modes <-> Xero BANK accounts.

A mode pulled from a Xero bank account is created not preselected and described
by the account's code only (Perfex shows descriptions to customers). Modes that
earlier versions pulled (preselected, with the account number and sort code in
the description) are corrected on the next run: only a linked mode whose
description is still exactly what pxflask wrote, so a mode an admin made or
edited by hand is never touched.
"""

from __future__ import annotations

from typing import Any

from pxflask.perfex import reads, writes
from pxflask.perfex.records import PaymentMode
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import SYNCED, LinkStore, LogEntry, Outcome, write_log
from pxflask.sync.mappers.accounts import (
    account_to_payment_mode,
    is_payment_account,
    legacy_payment_mode_description,
    map_payment_mode_account,
)
from pxflask.sync.steps.base import single
from pxflask.sync.steps.services import services

ENTITY = "payment-modes"


def run(ctx: StepContext) -> StepReport:
    """Link modes to bank accounts; create what is missing on either side."""
    report = StepReport(ENTITY)
    store = LinkStore(ctx.session, ENTITY)
    accounts = [a for a in services(ctx).accounts() if is_payment_account(a)]
    by_code = {str(a.get("Code")): a for a in accounts if a.get("Code")}
    by_name = {str(a.get("Name") or "").casefold(): a for a in accounts}
    linked_accounts = {link.xero_id for link in store.links.values() if link.xero_id}
    logs: list[LogEntry] = []
    outcomes: list[Outcome] = []
    modes = reads.read_payment_modes(ctx.perfex)
    _correct_pulled(ctx, store, modes, accounts, report)
    for mode in modes:
        key = str(mode.id)
        link = store.get(key)
        if link is not None and link.xero_id:
            report.unchanged += 1
            continue
        code = (ctx.settings.raw.get(f"payment_account.{mode.id}") or "").strip()
        account = by_code.get(code) if code else by_name.get(mode.name.casefold())
        if account is not None:
            outcomes.append(
                Outcome(key, SYNCED, str(account["AccountID"]), account.get("Code"))
            )
            linked_accounts.add(str(account["AccountID"]))
            report.planned.append(
                PlannedAction(ENTITY, key, "link", None, account.get("Code"))
            )
            continue
        m = map_payment_mode_account(mode)
        if m.payload is None:
            report.skipped += 1
            report.planned.append(PlannedAction(ENTITY, key, "skip", None, m.skip))
            continue
        report.planned.append(PlannedAction(ENTITY, key, "create", m.payload))
        if ctx.dry_run:
            report.created += 1
            continue
        r = single(ctx.gateway.create_account, m.payload, run_key=ctx.run_key, ref=key)
        if r.ok:
            outcomes.append(
                Outcome(
                    key, SYNCED, r.xero_id, m.payload["Code"], payload_hash(m.payload)
                )
            )
            linked_accounts.add(str(r.xero_id))
            report.created += 1
            logs.append(
                LogEntry(key, "create", SYNCED, None, r.xero_id, m.payload, r.raw)
            )
        else:
            error = "; ".join(r.errors) or "Xero refused the account"
            report.failed += 1
            report.errors.append((key, error))
            logs.append(
                LogEntry(key, "create", "failed", error, None, m.payload, r.raw)
            )
    known_names = {mode.name.casefold() for mode in modes}
    for account in accounts:
        account_id = str(account.get("AccountID"))
        if account_id in linked_accounts:
            continue
        wanted = account_to_payment_mode(account)
        if wanted is None or wanted["name"].casefold() in known_names:
            continue
        report.planned.append(PlannedAction(ENTITY, account_id, "pull", wanted))
        report.pulled += 1
        if ctx.dry_run:
            continue
        mode_id = writes.upsert_payment_mode(
            ctx.perfex, wanted["name"], wanted["description"]
        )
        outcomes.append(Outcome(str(mode_id), SYNCED, account_id, account.get("Code")))
        logs.append(LogEntry(str(mode_id), "pull", SYNCED, wanted["name"], account_id))
    if not ctx.dry_run:
        if outcomes:
            store.record(outcomes)
        if logs:
            write_log(ctx.session, ENTITY, logs, run_id=ctx.run_id)
    return report


def _correct_pulled(
    ctx: StepContext,
    store: LinkStore,
    modes: list[PaymentMode],
    accounts: list[dict[str, Any]],
    report: StepReport,
) -> None:
    """Linked modes still carrying the old bank-details description: correct them."""
    by_id = {str(a.get("AccountID")): a for a in accounts}
    for mode in modes:
        link = store.get(str(mode.id))
        if link is None:
            continue
        account = by_id.get(str(link.xero_id))
        if account is None:
            continue
        written = legacy_payment_mode_description(account)
        wanted = account_to_payment_mode(account)
        if written is None or wanted is None or mode.description != written:
            continue
        reason = "bank details removed from the description; not preselected"
        report.planned.append(
            PlannedAction(ENTITY, str(mode.id), "update", wanted, reason)
        )
        if ctx.dry_run:
            report.updated += 1
            continue
        if writes.correct_payment_mode(
            ctx.perfex, mode.id, written, wanted["description"]
        ):
            report.updated += 1
            write_log(
                ctx.session,
                ENTITY,
                [LogEntry(str(mode.id), "update", SYNCED, reason, link.xero_id)],
                run_id=ctx.run_id,
            )
