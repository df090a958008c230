"""Refunds made or deleted in Xero -> Perfex: the pull half of `credit-refunds`.

Runs inside the credit-refunds step, after the push, only when `refunds_from_xero`
is on (default off); a dry run lists what it would write and writes nothing. One
If-Modified-Since read of Xero Payments (cursor `xero.credit-refunds.modified`)
finds refunds (PaymentType ARCREDITPAYMENT) of credit notes pxflask linked. Real
Xero names the credit note under `CreditNote` when it answers a write but under
`Invoice` (its id as InvoiceID) in GET /Payments (XeroAPI/xero-ruby#48): both
are read.

- a refund typed into Xero, not made by pxflask (no credit-refunds link has its
  PaymentID): written straight into tblcreditnote_refunds (the pxflask Perfex
  module has no refund API, so Perfex's credit-note model, its hooks and activity
  log do not run), the note naming the PaymentID, the credit note closed when
  nothing is left, and linked (synced, marked as pulled, the hash the push side
  computes) so it is never sent back. Never above the credit Perfex has left, and
  never on a void credit note: otherwise skipped with the reason.
- a linked refund DELETED in Xero: pulled ones are deleted in Perfex; pushed ones
  are locked with "deleted in Xero; Perfex still has it".

Crash safety: a claim link `xero:<PaymentID>` (pending) is committed before the
insert, the insert checks the credit note's refunds for the PaymentID in the same
transaction, and `settle_claims` runs before every push.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from pxflask.models import Link
from pxflask.perfex.refunds import (
    RefundRefused,
    delete_refund,
    read_credit_refunds,
    record_refund_once,
)
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.credit_refunds import SWITCH
from pxflask.sync.entities.credit_refunds.mapper import map_refund
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    PENDING,
    LinkStore,
    Outcome,
)
from pxflask.sync.mappers.common import dec
from pxflask.sync.mappers.payment_accounts import account_for
from pxflask.sync.mappers.pulled import (
    CLAIM,
    claim_key,
    xero_day,
)
from pxflask.sync.steps.pulls import Puller, pull_pages

ENTITY = "credit-refunds"
CURSOR = "xero.credit-refunds.modified"
REFUND_TYPE = "ARCREDITPAYMENT"


def enabled(settings: Mapping[str, str]) -> bool:
    """True when refunds made in Xero are recorded in Perfex."""
    return SWITCH.is_on(settings)


def marker(payment_id: str) -> str:
    """What a pulled refund's note carries to be found again: the PaymentID."""
    return payment_id.lower()


def pulled_note(record: Mapping[str, Any]) -> str:
    """The Perfex note of a refund recorded from Xero."""
    text = f"Recorded from Xero payment {marker(str(record['PaymentID']))}"
    reference = (record.get("Reference") or "").strip()
    return f"{text} (reference: {reference})" if reference else text


def credit_note_of(record: Mapping[str, Any]) -> str:
    """The Xero CreditNoteID a refund payment is for ('' when none)."""
    note = record.get("CreditNote") or {}
    found = note.get("CreditNoteID") if isinstance(note, Mapping) else None
    if not found and record.get("PaymentType") == REFUND_TYPE:
        invoice = record.get("Invoice") or {}
        found = invoice.get("InvoiceID") if isinstance(invoice, Mapping) else None
    return str(found or "").lower()


def settle_claims(ctx: StepContext) -> int:
    """Link claims whose Perfex refund exists (a worker died after inserting it)."""
    claims = [
        str(key)[len(CLAIM) :]
        for key in ctx.session.execute(
            sa.select(Link.perfex_key).where(
                Link.entity == ENTITY,
                Link.state == PENDING,
                Link.perfex_key.like(CLAIM + "%"),
            )
        ).scalars()
    ]
    if not claims or ctx.dry_run:
        return 0
    puller = RefundPuller(ctx, StepReport(ENTITY))
    settled = 0
    for refund in read_credit_refunds(ctx.perfex):
        named = next((c for c in claims if c in str(refund.note or "")), None)
        if named is not None:
            puller.finish_claim(refund.id, named, "found after a crash")
            settled += 1
    puller.flush()
    return settled


def pull(ctx: StepContext, report: StepReport) -> None:
    """Read Xero payments changed since the cursor; bring refunds to Perfex."""
    if ctx.targeted or not enabled(ctx.settings.raw):
        return
    puller = RefundPuller(ctx, report)
    if not puller.notes:
        return
    pull_pages(ctx, puller, CURSOR)


class RefundPuller(Puller):
    """The refunds pull of one run: links, the linked credit notes, the log."""

    def __init__(self, ctx: StepContext, report: StepReport) -> None:
        """Load the refund links and the linked credit notes."""
        super().__init__(ctx, report, ENTITY)
        self.note_links = LinkStore(ctx.session, "credit-notes").links
        self.notes: dict[str, int] = {
            str(link.xero_id).lower(): int(key)
            for key, link in self.note_links.items()
            if link.xero_id and key.isdigit()
        }
        """Xero CreditNoteID (lower case) -> Perfex credit note id."""

    def page(self, records: Iterable[dict[str, Any]]) -> None:
        """Decide every refund of one page, in date order."""
        fresh: list[tuple[dict[str, Any], int]] = []
        for record in records:
            payment_id = str(record.get("PaymentID") or "").lower()
            note_id = credit_note_of(record)
            if not payment_id or not note_id:
                continue
            if record.get("PaymentType") not in (None, "", REFUND_TYPE):
                continue
            link = self.by_xero.get(payment_id)
            deleted = record.get("Status") == "DELETED"
            if link is not None:
                if deleted:
                    self.deleted(link, record)
                continue
            if deleted:
                self.drop_claim(payment_id)
                continue
            perfex_note = self.notes.get(note_id)
            if perfex_note is None:
                continue
            when = xero_day(record.get("Date"))
            if self.ctx.date_from is not None and when and when < self.ctx.date_from:
                continue
            fresh.append((record, perfex_note))
        fresh.sort(key=lambda f: (str(xero_day(f[0].get("Date"))), f[0]["PaymentID"]))
        for record, perfex_note in fresh:
            self.consider(record, perfex_note)

    def consider(self, record: dict[str, Any], note_id: int) -> None:
        """Record one new Xero refund in Perfex, or skip it with the reason."""
        payment_id = str(record["PaymentID"])
        amount = dec(record.get("Amount") or 0)
        on = xero_day(record.get("Date"))
        if on is None:
            self.skip(record, "the refund has no date")
            return
        mode = self.mode_for(record.get("Account") or {})
        text = pulled_note(record)
        row: dict[str, Any] = {
            "credit_note_id": note_id,
            "amount": amount,
            "payment_mode": mode,
            "refunded_on": on.isoformat(),
            "note": text,
        }
        key = claim_key(payment_id)
        self.report.planned.append(PlannedAction(ENTITY, key, "pull", row))
        if self.ctx.dry_run:
            self.report.pulled += 1
            return
        self.store.record([Outcome(key, PENDING)])
        self.ctx.session.commit()
        try:
            refund_id, _ = record_refund_once(
                self.ctx.perfex,
                note_id,
                amount,
                on,
                mode,
                marker=marker(payment_id),
                note=text,
            )
        except RefundRefused as exc:
            self.report.planned.pop()
            self.skip(record, str(exc))
            return
        self.finish_claim(refund_id, payment_id, None)
        self.report.pulled += 1

    def finish_claim(self, refund_id: int, payment_id: str, note: str | None) -> None:
        """Link a Perfex refund recorded from Xero (synced, pulled); drop the claim."""
        found = read_credit_refunds(self.ctx.perfex, [refund_id])
        if not found:
            return
        refund, key = found[0], str(refund_id)
        m = map_refund(
            refund,
            note=self.note_links.get(str(refund.credit_note_id)),
            account_code=account_for(
                refund.mode, self.ctx.settings.raw, self.mode_links
            ),
        )
        h = payload_hash(m.payload if m.payload is not None else {"skip": m.skip})
        self.link_pulled(key, payment_id, h, note, "refund")

    def remove_pulled(self, perfex_id: int, payment_id: str) -> bool:
        """Delete the Perfex refund pulled from this Xero payment."""
        try:
            delete_refund(self.ctx.perfex, perfex_id, marker=marker(payment_id))
        except RefundRefused:
            return False  # the row is no longer the pulled one: keep it
        return True
