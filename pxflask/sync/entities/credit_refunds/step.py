"""Credit-note refunds: tblcreditnote_refunds <-> refund Payments on credit notes.

Each Perfex refund becomes a Xero Payment on its synced credit note (Account from
the payment-mode mapping, as invoice payments). Xero takes a refund only on an
AUTHORISED credit note and never above its RemainingCredit: others are skipped
with the reason and looked at again by every run. Xero payments cannot be edited:
a refund edited in Perfex is deleted in Xero (Status DELETED, which gives the
credit back) and created again; a refund deleted in Perfex is deleted in Xero
(link state `deleted`). A create a crash may have sent is found on its credit
note (same amount, date and Reference) before anything is sent twice. Refunds
made in Xero come back afterwards when `refunds_from_xero` is on (pull.py).
Databases without tblcreditnote_refunds (older Perfex) are left alone, saying so.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pxflask.perfex.refunds import CreditRefund, has_refunds, read_credit_refunds
from pxflask.sync import history, lockdates
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.credit_refunds import pull as refunds_pull
from pxflask.sync.entities.credit_refunds.mapper import map_refund
from pxflask.sync.links import (
    DELETED,
    FAILED,
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
from pxflask.sync.mappers.payment_accounts import account_for
from pxflask.sync.steps.base import (
    Pending,
    Pusher,
    by_guid,
    damaged_record,
    map_guarded,
    single,
)

ENTITY = "credit-refunds"
KIND = "payments"
NO_TABLE = (
    "this Perfex database has no tblcreditnote_refunds table (Perfex older than "
    "credit-note refunds): nothing to sync"
)
ALREADY_DELETED = "already been deleted"
DELETED_IN_PERFEX = "deleted in Perfex: deleted in Xero"
EDITED = "edited in Perfex: deleted in Xero and created again"
UNSETTLED_PULL = (
    "refunds made in Xero are pulled by the next run: some refunds sent in this "
    "run got no answer, and Xero may hold them"
)


def run(ctx: StepContext) -> StepReport:
    """Push Perfex refunds to Xero, then pull those made or deleted in Xero."""
    if not has_refunds(ctx.perfex):
        report = StepReport(ENTITY, skipped=1)
        report.planned.append(PlannedAction(ENTITY, "*", "skip", None, NO_TABLE))
        return report
    refunds_pull.settle_claims(ctx)
    pusher = Pusher(ctx, ENTITY, KIND, "PaymentID")
    every = read_credit_refunds(ctx.perfex)
    refunds = every
    if ctx.date_from is not None:
        refunds = [r for r in every if r.date is None or r.date >= ctx.date_from]
    notes = LinkStore(ctx.session, "credit-notes").links
    modes = LinkStore(ctx.session, "payment-modes").links
    force = set(lockdates.released(ctx, pusher.store))
    force |= {k for k, link in pusher.store.links.items() if link.state == SKIPPED}
    mapped = []
    content: dict[str, Any] = {}
    by_key: dict[str, CreditRefund] = {}
    for refund in refunds:
        key = str(refund.id)
        if refund.damaged:
            mapped.append(damaged_record("refund", refund.id, key, refund.damaged))
            continue
        account = account_for(refund.mode, ctx.settings.raw, modes)
        note = notes.get(str(refund.credit_note_id))
        m = map_guarded(key, map_refund, refund, note=note, account_code=account)
        pusher.hints[key] = {"mode": refund.mode or "", "account": account or ""}
        mapped.append(m)
        if m.payload is not None:  # a mapping change alone re-sends nothing
            content[key] = history.payment_content(m.payload, refund.mode)
        by_key[key] = refund
    pusher.plan(mapped, frozenset(force), content)
    lockdates.hold(ctx, pusher)
    extra = Refunds(ctx, pusher)
    extra.delete_gone({str(r.id) for r in every})
    extra.replace_edited()
    extra.recover()
    extra.check(by_key)
    failed = pusher.write_creates()
    report = pusher.finish(failed)
    if pusher.uncertain:  # Xero may hold refunds of ours it never confirmed
        report.planned.append(PlannedAction(ENTITY, "*", "skip", None, UNSETTLED_PULL))
    else:
        refunds_pull.pull(ctx, report)
    return report


class Refunds:
    """The refund-specific parts of one push: deletes, edits, recovery, checks."""

    def __init__(self, ctx: StepContext, pusher: Pusher) -> None:
        """Bind to the run and its pusher."""
        self.ctx = ctx
        self.pusher = pusher
        self.seen: dict[str, dict[str, Any]] = {}
        """Xero credit notes read in this run, by lower-case CreditNoteID."""

    # -- deletes and edits -------------------------------------------------------

    def delete(self, key: str, xero_id: str) -> str | None:
        """Delete one Xero refund; None when done (or already deleted)."""
        r = single(
            self.ctx.gateway.delete_payment, xero_id, run_key=self.ctx.run_key, ref=key
        )
        self.seen.clear()
        if r.ok:
            return None
        error = "; ".join(r.errors) or "Xero refused to delete the refund"
        return None if ALREADY_DELETED in error else lockdates.explain(error)

    def delete_gone(self, perfex_keys: set[str]) -> None:
        """Refunds deleted in Perfex: delete them in Xero."""
        pusher = self.pusher
        gone = [
            link
            for key, link in pusher.store.links.items()
            if key not in perfex_keys and link.xero_id and link.state != DELETED
        ]
        outcomes: list[Outcome] = []
        for link in gone:
            key, xero_id = link.perfex_key, str(link.xero_id)
            pusher.report.planned.append(
                PlannedAction(ENTITY, key, "delete", {"PaymentID": xero_id})
            )
            if self.ctx.dry_run:
                pusher.report.updated += 1
                continue
            error = self.delete(key, xero_id)
            if error is None:
                deleted = Outcome(key, DELETED, error=DELETED_IN_PERFEX)
                outcomes.append(pusher.changed(deleted, "delete", xero_id))
            else:
                outcomes.append(pusher.refused(key, "delete", error, xero_id))
        if outcomes:
            pusher.store.record(outcomes)
            pusher.flush_logs()

    def replace_edited(self) -> None:
        """Edited refunds: delete the Xero payment, then create it again."""
        pusher = self.pusher
        edits, pusher.updates = pusher.updates, []
        outcomes: list[Outcome] = []
        for p in edits:
            xero_id = str(p.xero_id)
            pusher.report.planned.append(
                PlannedAction(ENTITY, p.key, "delete", {"PaymentID": xero_id}, EDITED)
            )
            if self.ctx.dry_run:
                pusher.creates.append(p)
                continue
            error = self.delete(p.key, xero_id)
            if error is not None:
                outcomes.append(Outcome(p.key, FAILED, error=error))
                pusher.logs.append(LogEntry(p.key, "delete", FAILED, error, xero_id))
                pusher.fail(p, error)
                continue
            outcomes.append(Outcome(p.key, PENDING, clear_id=True))
            pusher.logs.append(LogEntry(p.key, "delete", DELETED, EDITED, xero_id))
            p.xero_id = None
            p.decision = Decision(p.key, Action.CREATE, p.decision.link)
            pusher.creates.append(p)
        if outcomes:
            pusher.store.record(outcomes)
            pusher.flush_logs()

    # -- reading Xero ------------------------------------------------------------

    def read_notes(self, ids: set[str]) -> None:
        """Read the Xero credit notes not read yet (with their Payments)."""
        missing = {i.lower() for i in ids} - set(self.seen)
        if missing:
            self.seen.update(by_guid(self.ctx, "credit_notes", "CreditNoteID", missing))

    def recover(self) -> None:
        """Creates a crash may have sent already: find them on their credit notes."""
        pusher = self.pusher
        maybe = pusher.recovering()
        if not maybe:
            return
        self.read_notes({note_of(p) for p in maybe})
        taken = {str(i).lower() for i in pusher.store.by_xero_id()}
        outcomes: list[Outcome] = []
        for p in maybe:
            note = self.seen.get(note_of(p).lower()) or {}
            for found in note.get("Payments") or []:
                payment_id = str(found.get("PaymentID") or "")
                if payment_id.lower() in taken or not same_refund(found, p.payload):
                    continue
                taken.add(payment_id.lower())
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

    def check(self, by_key: dict[str, CreditRefund]) -> None:
        """Skip creates Xero would refuse: not AUTHORISED, or above what is left."""
        pusher = self.pusher
        if not pusher.creates or self.ctx.dry_run:
            return
        self.read_notes({note_of(p) for p in pusher.creates})
        left = {k: dec(v.get("RemainingCredit") or 0) for k, v in self.seen.items()}
        keep: list[Pending] = []
        outcomes: list[Outcome] = []
        order = sorted(pusher.creates, key=lambda p: (by_key[p.key].date, int(p.key)))
        for p in order:
            note_id = note_of(p).lower()
            refund = by_key[p.key]
            reason = refusal(refund, self.seen.get(note_id), left)
            if reason is None:
                left[note_id] -= dec(p.payload["Amount"])
                keep.append(p)
                continue
            skipped = pusher.refuse(p, reason)
            if skipped is not None:
                outcomes.append(skipped)
        pusher.creates = keep
        if outcomes:
            pusher.store.record(outcomes)
            pusher.flush_logs()


def note_of(p: Pending) -> str:
    """The Xero CreditNoteID a planned refund is for."""
    return str(p.payload["CreditNote"]["CreditNoteID"])


def refusal(
    refund: CreditRefund, note: dict[str, Any] | None, left: dict[str, Decimal]
) -> str | None:
    """Why Xero would refuse this refund now (None: it would take it)."""
    cn = refund.credit_note_id
    if note is None:
        return f"credit note {cn} was not found in Xero"
    status = note.get("Status")
    remaining = left.get(str(note.get("CreditNoteID")).lower(), Decimal(0))
    amount = dec(refund.amount)
    if status == "PAID" or (status == "AUTHORISED" and amount > remaining):
        return (
            f"refund {refund.id} of {amount} is above the remaining credit "
            f"{max(remaining, Decimal(0))} of credit note {cn} in Xero: "
            f"Perfex refunds or applies more than Xero has left on it"
        )
    if status != "AUTHORISED":
        return f"credit note {cn} is {status} in Xero; refunds need it AUTHORISED"
    return None


def same_refund(found: dict[str, Any], payload: dict[str, Any]) -> bool:
    """A payment on the credit note is this refund: same amount, date, reference."""
    when = found.get("Date")
    when_text = when.isoformat()[:10] if isinstance(when, date) else str(when)[:10]
    return (
        dec(found.get("Amount") or 0) == dec(payload["Amount"])
        and when_text == payload["Date"]
        and (found.get("Reference") or None) == payload.get("Reference")
    )
