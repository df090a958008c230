"""Payments: tblinvoicepaymentrecords <-> Xero Payments (push, then pull).

Xero payments cannot be edited: a payment edited in Perfex is deleted in Xero and
created again; a payment deleted in Perfex is deleted in Xero (link state
`deleted`). Payments go only to AUTHORISED invoices and never above what is due:
others are skipped with the reason and looked at again when Xero reports a change
of their invoice. A create interrupted by a crash is found again on the invoice
(same amount, date and reference) before anything is sent twice. Payments made
or deleted in Xero come back afterwards (pull.py, `payments_from_xero`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from pxflask.perfex import reads
from pxflask.perfex.records import Payment
from pxflask.sync import history, lockdates
from pxflask.sync.context import PlannedAction, StepContext, StepReport, numeric_ids
from pxflask.sync.entities.payments import pull as payments_pull
from pxflask.sync.entities.payments.mapper import map_payment
from pxflask.sync.links import (
    DELETED,
    FAILED,
    LOCKED,
    PENDING,
    SKIPPED,
    SYNCED,
    Action,
    Decision,
    LinkStore,
    LogEntry,
    Outcome,
)
from pxflask.sync.mappers.common import dec
from pxflask.sync.mappers.common import failed as failed_record
from pxflask.sync.mappers.payment_accounts import account_for
from pxflask.sync.steps.base import (
    Pending,
    Pusher,
    by_guid,
    damaged_record,
    map_guarded,
    quote,
    single,
)
from pxflask.sync.steps.services import services

ENTITY = "payments"
ALREADY_DELETED = "already been deleted"
DELETED_IN_PERFEX = "deleted in Perfex: deleted in Xero"
ID_CHUNK = 20
"""Payment ids per `where` read (Xero caps the URL length)."""
REPOSTED = "re-posted with the current mappings (asked for): recreated"
RECONCILED = "reconciled in Xero"
NOT_REPOSTED = f"{RECONCILED}: not re-posted"
UNRECONCILE = "unreconcile it in Xero, then retry it to send the change"


UNSETTLED_PULL = (
    "payments made in Xero are pulled by the next run: some payments sent in this "
    "run got no answer, and Xero may hold them"
)


def run(ctx: StepContext) -> StepReport:
    """Push Perfex payments to Xero, then pull those made or deleted in Xero."""
    payments_pull.settle_claims(ctx, account_for)
    pusher = Pusher(ctx, ENTITY, "payments", "PaymentID")
    payments_pull.release_on_retry(ctx, pusher.store)
    keys = ctx.keys_of(ENTITY)
    every = reads.read_payments(ctx.perfex, None if keys is None else numeric_ids(keys))
    wanted = None if keys is None else {str(p.invoice_id) for p in every}
    invoices = LinkStore(ctx.session, "invoices", keys=wanted).links
    modes = LinkStore(ctx.session, "payment-modes").links
    payments = every
    if ctx.date_from is not None:
        payments = [p for p in every if p.date is None or p.date >= ctx.date_from]
    touched = set(services(ctx).invoices.known)
    mapped = []
    by_key: dict[str, Payment] = {}
    force: set[str] = set(lockdates.released(ctx, pusher.store))
    content: dict[str, Any] = {}
    for pay in payments:
        if pay.damaged:
            mapped.append(damaged_record("payment", pay.id, str(pay.id), pay.damaged))
            continue
        link = invoices.get(str(pay.invoice_id))
        invoice_id = link.xero_id if link is not None else None
        if link is not None and link.state == FAILED and not invoice_id:
            reason = f"its invoice {pay.invoice_id} failed: {link.last_error}"
            mapped.append(failed_record(str(pay.id), reason))
            continue
        account = account_for(pay.mode, ctx.settings.raw, modes)
        m = map_guarded(
            str(pay.id),
            map_payment,
            pay,
            invoice_xero_id=invoice_id,
            account_code=account,
        )
        pusher.hints[m.key] = {"mode": pay.mode or "", "account": account or ""}
        mapped.append(m)
        if m.payload is not None:
            content[m.key] = history.payment_content(m.payload, pay.mode)
        by_key[m.key] = pay
        own = pusher.store.get(m.key)
        if own is not None and own.state == SKIPPED and invoice_id in touched:
            force.add(m.key)
    pusher.plan(mapped, frozenset(force), content)
    lockdates.hold(ctx, pusher)
    _delete_gone(ctx, pusher, {str(p.id) for p in every})
    _replace_edited(ctx, pusher)
    _recover(ctx, pusher, by_key)
    _check_due(ctx, pusher, by_key)
    failed = pusher.write_creates()
    report = pusher.finish(failed)
    extra = services(ctx).void_released()
    if extra is not None:
        report.errors.extend((f"invoice {k}", e) for k, e in extra.errors)
        report.failed += extra.failed
    if pusher.uncertain:  # Xero may hold payments of ours it never confirmed
        report.planned.append(PlannedAction(ENTITY, "*", "skip", None, UNSETTLED_PULL))
    else:
        payments_pull.pull(ctx, report, account_for)
    return report


def _delete(ctx: StepContext, key: str, xero_id: str) -> tuple[bool, str | None]:
    """Delete one Xero payment; (done, error). Already deleted counts as done."""
    r = single(ctx.gateway.delete_payment, xero_id, run_key=ctx.run_key, ref=key)
    invoice = ((r.raw or {}).get("Invoice") or {}).get("InvoiceID")
    if invoice:
        services(ctx).invoices.forget(str(invoice), freed=True)
    if r.ok:
        return True, None
    error = "; ".join(r.errors) or "Xero refused to delete the payment"
    if ALREADY_DELETED in error:
        return True, None
    return False, lockdates.explain(error)


def _delete_gone(ctx: StepContext, pusher: Pusher, perfex_keys: set[str]) -> None:
    """Payments deleted in Perfex: delete them in Xero."""
    gone = [
        link
        for key, link in pusher.store.links.items()
        if key not in perfex_keys
        and link.xero_id
        and link.state != DELETED
        and not (link.state == LOCKED and RECONCILED in (link.last_error or ""))
    ]
    targets = {k.perfex_key: str(k.xero_id) for k in gone}
    held = _locked_in_xero(ctx, pusher, targets)
    held |= _reconciled_in_xero(ctx, pusher, targets, "deleted in Perfex")
    gone = [link for link in gone if link.perfex_key not in held]
    outcomes: list[Outcome] = []
    for link in gone:
        key, xero_id = link.perfex_key, str(link.xero_id)
        pusher.report.planned.append(
            PlannedAction(ENTITY, key, "delete", {"PaymentID": xero_id})
        )
        if ctx.dry_run:
            pusher.report.updated += 1
            continue
        done, error = _delete(ctx, key, xero_id)
        if done:
            deleted = Outcome(key, DELETED, error=DELETED_IN_PERFEX)
            outcomes.append(pusher.changed(deleted, "delete", xero_id))
        else:
            outcomes.append(pusher.refused(key, "delete", error or "failed", xero_id))
    if outcomes:
        pusher.store.record(outcomes)
        pusher.flush_logs()


def _locked_in_xero(
    ctx: StepContext,
    pusher: Pusher,
    targets: dict[str, str],
    edits: Sequence[Pending] = (),
) -> set[str]:
    """Keys whose Xero payment is dated in a locked period: skipped, not deleted."""
    if not targets or ctx.dry_run:
        return set()
    lock = lockdates.lock_date(ctx)
    if lock is None:
        return set()
    ids = sorted({i.lower() for i in targets.values()})
    dates: dict[str, date | None] = {}
    for start in range(0, len(ids), ID_CHUNK):
        where = " OR ".join(
            f"PaymentID==Guid({quote(i)})" for i in ids[start : start + ID_CHUNK]
        )
        for record in ctx.gateway.read_all("payments", where=where):
            dates[str(record.get("PaymentID")).lower()] = lockdates.as_date(
                record.get("Date")
            )
    hashes = {p.key: p.hash for p in edits}
    held: set[str] = set()
    outcomes: list[Outcome] = []
    for key, xero_id in targets.items():
        when = lockdates.locked([dates.get(xero_id.lower())], lock)
        if when is None:
            continue
        held.add(key)
        skipped = lockdates.hold_change(pusher, key, lockdates.reason(when, lock))
        if skipped is not None:
            outcomes.append(replace(skipped, payload_hash=hashes.get(key)))
    if outcomes:
        pusher.store.record(outcomes)
        pusher.flush_logs()
    return held


def _replace_edited(ctx: StepContext, pusher: Pusher) -> None:
    """Edited payments: delete the Xero payment, then create it again."""
    edits, pusher.updates = pusher.updates, []
    if not edits:
        return
    targets = {p.key: str(p.xero_id) for p in edits}
    held = _locked_in_xero(ctx, pusher, targets, edits)
    held |= _reconciled_in_xero(ctx, pusher, targets, "edited in Perfex", edits)
    edits = [p for p in edits if p.key not in held]
    outcomes: list[Outcome] = []
    for p in edits:
        xero_id = str(p.xero_id)
        pusher.report.planned.append(
            PlannedAction(ENTITY, p.key, "delete", {"PaymentID": xero_id})
        )
        if ctx.dry_run:
            pusher.creates.append(p)
            continue
        done, error = _delete(ctx, p.key, xero_id)
        if not done:
            outcomes.append(Outcome(p.key, FAILED, error=error))
            pusher.logs.append(LogEntry(p.key, "delete", FAILED, error, xero_id))
            pusher.fail(p, error or "failed")
            continue
        outcomes.append(Outcome(p.key, PENDING, clear_id=True))
        why = REPOSTED if _repost(p) else "edited in Perfex: recreated"
        pusher.logs.append(LogEntry(p.key, "delete", DELETED, why, xero_id))
        p.xero_id = None
        p.decision = Decision(p.key, Action.CREATE, p.decision.link)
        pusher.creates.append(p)
    if outcomes:
        pusher.store.record(outcomes)
        pusher.flush_logs()


def _repost(p: Pending) -> bool:
    """True when the admin asked to re-post this payment with current mappings."""
    link = p.decision.link
    return link is not None and link.payload_hash == history.REPOST_MARK


def _reconciled_in_xero(
    ctx: StepContext,
    pusher: Pusher,
    targets: dict[str, str],
    what: str,
    edits: Sequence[Pending] = (),
) -> set[str]:
    """Keys whose Xero payment is reconciled: never deleted, not even to recreate.

    Deleting a reconciled payment would undo its bank reconciliation (Xero's
    Payment has `IsReconciled`; its docs found here do not say whether the API
    refuses such a delete, so pxflask never tries). A Perfex change is locked with
    the reason; a requested re-post is skipped and the link left as it was.
    """
    if not targets or ctx.dry_run:
        return set()
    found = read_payments(ctx, targets.values())
    by_key = {p.key: p for p in edits}
    held: set[str] = set()
    outcomes: list[Outcome] = []
    for key, xero_id in targets.items():
        if not (found.get(xero_id.lower()) or {}).get("IsReconciled"):
            continue
        held.add(key)
        p = by_key.get(key)
        if p is not None and _repost(p):
            pusher.store.set_hashes({key: p.hash})
            pusher.report.skipped += 1
            pusher.report.planned.append(
                PlannedAction(ENTITY, key, "skip", None, NOT_REPOSTED)
            )
            pusher.logs.append(LogEntry(key, "repost", SKIPPED, NOT_REPOSTED, xero_id))
            continue
        reason = f"{what}, but {RECONCILED}: {UNRECONCILE}"
        pusher.block(key, reason)
        outcomes.append(
            Outcome(key, LOCKED, payload_hash=p.hash if p else None, error=reason)
        )
    if outcomes:
        pusher.store.record(outcomes)
    pusher.flush_logs()
    return held


def read_payments(ctx: StepContext, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Xero payments by lower-case id (one read per ID_CHUNK ids)."""
    return by_guid(ctx, "payments", "PaymentID", ids, ID_CHUNK)


def _recover(ctx: StepContext, pusher: Pusher, by_key: dict[str, Payment]) -> None:
    """Creates a crash may have sent already: find them on their invoices."""
    maybe = pusher.recovering()
    if not maybe:
        return
    ids = sorted({p.payload["Invoice"]["InvoiceID"] for p in maybe})
    records = ctx.gateway.read_all("invoices", ids=ids)
    services(ctx).invoices.remember(records)
    taken = set(pusher.store.by_xero_id())
    found: dict[str, list[dict[str, Any]]] = {
        str(r["InvoiceID"]): list(r.get("Payments") or []) for r in records
    }
    outcomes: list[Outcome] = []
    for p in maybe:
        for candidate in found.get(p.payload["Invoice"]["InvoiceID"], []):
            payment_id = str(candidate.get("PaymentID"))
            if payment_id in taken or not _same_payment(candidate, p.payload):
                continue
            taken.add(payment_id)
            pusher.creates.remove(p)
            outcomes.append(Outcome(p.key, SYNCED, payment_id, None, p.hash))
            pusher.logs.append(
                LogEntry(p.key, "recover", SYNCED, "found in Xero", payment_id)
            )
            pusher.report.created += 1
            break
    if outcomes:
        pusher.store.record(outcomes)
        pusher.flush_logs()


def _same_payment(candidate: dict[str, Any], payload: dict[str, Any]) -> bool:
    """A payment on the invoice is this one: same amount, date and reference."""
    when = candidate.get("Date")
    when_text = when.isoformat()[:10] if isinstance(when, date) else str(when)[:10]
    return (
        dec(candidate.get("Amount") or 0) == dec(payload["Amount"])
        and when_text == payload["Date"]
        and (candidate.get("Reference") or None) == payload.get("Reference")
    )


def _check_due(ctx: StepContext, pusher: Pusher, by_key: dict[str, Payment]) -> None:
    """Skip creates Xero would refuse: invoice not AUTHORISED or amount > due."""
    if not pusher.creates or ctx.dry_run:
        return
    ids = sorted({p.payload["Invoice"]["InvoiceID"] for p in pusher.creates})
    current = services(ctx).invoices.current(ids)
    due = {k: dec(v.get("AmountDue") or 0) for k, v in current.items()}
    keep, outcomes = [], []
    for p in sorted(pusher.creates, key=lambda p: (by_key[p.key].date, int(p.key))):
        xero_id = p.payload["Invoice"]["InvoiceID"]
        found = current.get(xero_id)
        m = map_payment(
            by_key[p.key],
            invoice_xero_id=xero_id,
            account_code=p.payload["Account"]["Code"],
            amount_due=due.get(xero_id),
            invoice_status=found.get("Status") if found else None,
        )
        if m.payload is None:
            link = pusher.store.get(p.key)
            if (
                link is not None
                and link.state == SKIPPED
                and link.payload_hash == p.hash
                and link.last_error == m.skip
            ):
                pusher.report.unchanged += 1
                continue
            pusher.report.skipped += 1
            pusher.report.planned.append(
                PlannedAction(ENTITY, p.key, "skip", None, m.skip)
            )
            outcomes.append(Outcome(p.key, SKIPPED, payload_hash=p.hash, error=m.skip))
            pusher.logs.append(LogEntry(p.key, "skip", SKIPPED, m.skip))
            continue
        due[xero_id] = due.get(xero_id, Decimal(0)) - m.payload["Amount"]
        keep.append(p)
    pusher.creates = keep
    if outcomes:
        pusher.store.record(outcomes)
