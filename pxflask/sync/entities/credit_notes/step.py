"""Credit notes: tblcreditnotes -> Xero ACCRECCREDIT credit notes.

Open and closed Perfex credit notes are sent AUTHORISED, void ones are voided in
Xero once synced (and skipped when never sent). Creates a crash may have sent are
found again by CreditNoteNumber and our Reference before anything is sent twice.
Credit applications to invoices (tblcredits) then become allocations of the Xero
credit notes to the Xero invoices (allocations.py, links `credit-allocations`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pxflask.perfex import reads
from pxflask.sync import lockdates, orphans, tracking
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.credit_notes.allocations import sync_allocations
from pxflask.sync.entities.credit_notes.mapper import (
    credit_note_reference,
    map_credit_note,
)
from pxflask.sync.links import VOIDED, Outcome
from pxflask.sync.steps import renumber
from pxflask.sync.steps.base import Pusher
from pxflask.sync.steps.documents import (
    DocumentKind,
    MappedDocuments,
    document_hash,
    map_documents,
    mapping_context,
)

ENTITY = "credit-notes"
KIND = "credit_notes"
CREDIT_NOTE = DocumentKind("credit note", map_credit_note)


def run(ctx: StepContext) -> StepReport:
    """Create, update or void a Xero credit note per Perfex credit note."""
    pusher = Pusher(ctx, ENTITY, KIND, "CreditNoteID")
    contacts = orphans.Contacts(ctx, ENTITY, None)
    notes = reads.read_credit_notes(ctx.perfex)
    if ctx.date_from is not None:
        notes = [n for n in notes if n.date is None or n.date >= ctx.date_from]
    docs = MappedDocuments()
    again = lockdates.released(ctx, pusher.store)
    if notes:
        docs = map_documents(
            ctx, pusher, contacts, notes, CREDIT_NOTE, mapping_context(ctx)
        )
    touched: set[str] = set()
    pusher.on_written = lambda record: touched.add(str(record.get("CreditNoteID")))
    mapped = tracking.Tracker(ctx, "creditnotes").tag(docs.mapped, docs.content)
    mapped = renumber.keep_sent_numbers(pusher.store, mapped, "CreditNoteNumber")
    pusher.plan(mapped, again, docs.content)
    _recover(ctx, pusher)
    lockdates.hold(ctx, pusher)
    tracking.ensure(ctx, pusher)
    failed = pusher.write_creates() + pusher.write_updates()
    pusher.flush_logs()
    selected = None if ctx.date_from is None else {n.id for n in notes}
    sync_allocations(ctx, pusher.report, pusher.store, selected, touched)
    _void(ctx, pusher, _open_voids(ctx, pusher, docs.removals, docs.dated))
    return pusher.finish(failed)


def _recover(ctx: StepContext, pusher: Pusher) -> None:
    """Creates that may already exist in Xero: look them up by CreditNoteNumber."""
    pusher.adopt_by(
        "CreditNoteNumber",
        lambda p, r: r.get("Reference") == credit_note_reference(int(p.key)),
    )


def _open_voids(
    ctx: StepContext,
    pusher: Pusher,
    voids: list[tuple[str, str, str]],
    dated: dict[str, date | None],
) -> list[tuple[str, str, str]]:
    """The voids Xero allows; those in a locked period are skipped with the reason."""
    if not voids:
        return voids
    lock = lockdates.lock_date(ctx)
    keep: list[tuple[str, str, str]] = []
    outcomes: list[Outcome] = []
    for key, xero_id, h in voids:
        when = lockdates.locked([dated.get(key)], lock)
        if when is None or lock is None:
            keep.append((key, xero_id, h))
            continue
        held = lockdates.hold_change(pusher, key, lockdates.reason(when, lock))
        if held is not None:
            outcomes.append(replace(held, payload_hash=h))
    if outcomes and not ctx.dry_run:
        pusher.store.record(outcomes)
    return keep


def _void(ctx: StepContext, pusher: Pusher, voids: list[tuple[str, str, str]]) -> None:
    """Void the Xero credit notes of Perfex credit notes marked void."""
    if not voids:
        return
    for key, xero_id, _ in voids:
        body = {"CreditNoteID": xero_id, "Status": "VOIDED"}
        pusher.report.planned.append(PlannedAction(ENTITY, key, "void", body))
    if ctx.dry_run:
        pusher.report.updated += len(voids)
        return
    hashes = {key: h for key, _, h in voids}
    elements = [(key, {"CreditNoteID": x, "Status": "VOIDED"}) for key, x, _ in voids]
    outcomes = pusher.send_changes(
        elements,
        "voided",
        "Xero refused to void it",
        lambda key, r: Outcome(key, VOIDED, r.xero_id, r.number, hashes[key]),
    )
    pusher.store.record(outcomes)


def content_hash(ctx: StepContext, perfex_id: int) -> str | None:
    """The content hash this step compares for one Perfex credit note."""
    found = reads.read_credit_notes(ctx.perfex, ids=[perfex_id])
    return document_hash(ctx, found, map_credit_note)
