"""Credit-note allocations: tblcredits -> allocations of Xero credit notes.

Run by the credit-notes step after the credit notes are written. Each Perfex credit
application (a tblcredits row) becomes one allocation of its synced Xero credit note
to its synced Xero invoice, linked under `credit-allocations` (xero_id: the
AllocationID, xero_number: the credit note's Xero id). Allocations go only between
AUTHORISED documents and never above the credit note's remaining credit or the
invoice's amount due: others are skipped with the reason and looked at again when
either document changes in a run (or with --full). The new applications of one
credit note go in one `PUT /CreditNotes/{id}/Allocations` (up to 50 elements,
summarizeErrors=false): each element is linked, or failed with Xero's message, on
its own. The links are written pending with the call's idempotency seed before it
(the Idempotency-Key covers the whole body); after a crash the credit note's
Allocations are read back and matched by invoice, amount and date, so only those
not found are sent again. Xero allocations cannot be edited: an edited application
is deleted and allocated again; a removed one is deleted in Xero.
"""

from __future__ import annotations

from typing import Any

from pxflask.perfex import damage, reads
from pxflask.perfex.records import CreditApplication
from pxflask.sync import lockdates
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.credit_notes.allocation_rules import (
    BATCH,
    DELETED_IN_PERFEX,
    ENTITY,
    GONE_UNCONFIRMED,
    UNANSWERED,
    Todo,
    refusal,
    same_allocation,
    unmappable,
)
from pxflask.sync.entities.credit_notes.mapper import map_credit_application
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    DELETED,
    FAILED,
    FROZEN,
    LOCKED,
    PENDING,
    SKIPPED,
    SYNCED,
    Action,
    LinkRow,
    LinkStore,
    LogEntry,
    Outcome,
    write_log,
)
from pxflask.sync.mappers.common import dec
from pxflask.sync.steps.base import by_guid, single
from pxflask.sync.steps.services import services
from pxflask.xero.writes import ElementResult


def sync_allocations(
    ctx: StepContext,
    report: StepReport,
    notes: LinkStore,
    selected: set[int] | None = None,
    touched: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Allocate, re-allocate and delete allocations as Perfex's tblcredits says.

    `selected`: the Perfex credit notes in this run (None: all); `touched`: Xero
    ids of documents written in this run, whose skipped allocations are retried.
    """
    credits = reads.read_credit_applications(ctx.perfex)
    run = Allocator(ctx, report)
    run.again = lockdates.released(ctx, run.store)
    run.remove_gone({str(c.id) for c in credits})
    invoices = LinkStore(ctx.session, "invoices").links
    changed = set(touched) | set(services(ctx).invoices.known)
    for credit in credits:
        if selected is None or credit.credit_note_id in selected:
            run.plan(
                credit,
                notes.get(credit.credit_note_id),
                invoices.get(str(credit.invoice_id)),
                changed,
            )
    run.replace_edited()
    run.recover()
    run.check()
    run.write()
    run.flush()


class Allocator:
    """Plans and writes the allocations of one run."""

    def __init__(self, ctx: StepContext, report: StepReport) -> None:
        """Bind to the run and the credit-notes report it adds to."""
        self.ctx = ctx
        self.report = report
        self.store = LinkStore(ctx.session, ENTITY)
        self.creates: list[Todo] = []
        self.edits: list[Todo] = []
        self.logs: list[LogEntry] = []
        self.seen: dict[str, dict[str, Any]] = {}
        """Xero credit notes read in this run, by lower-case CreditNoteID."""
        self.again: frozenset[str] = frozenset()
        """Keys skipped for a lock date Xero has moved back since: plan again."""

    # -- planning ---------------------------------------------------------------

    def plan(
        self,
        credit: CreditApplication,
        note: LinkRow | None,
        invoice: LinkRow | None,
        changed: set[str],
    ) -> None:
        """Decide one credit application: skip, nothing, blocked, create or edit."""
        key = str(credit.id)
        if credit.damaged:
            error = damage.describe("credit application", key, credit.damaged)
            self.logs.append(LogEntry(key, "allocate", FAILED, error))
            self._fail(key, error)
            return
        reason = unmappable(credit, note, invoice)
        if reason is not None or note is None or invoice is None:
            self._skip_unmapped(key, reason or "not synced")
            return
        note_id, invoice_id = str(note.xero_id), str(invoice.xero_id)
        payload = map_credit_application(credit, invoice_id)
        todo = Todo(credit, note_id, payload, payload_hash({note_id: payload}))
        link = self.store.get(key)
        retry = link is not None and link.state == SKIPPED
        retry = retry and bool({note_id, invoice_id} & changed)
        force = self.ctx.full or retry or key in self.again
        if link is not None and link.state == SYNCED and link.payload_hash == todo.hash:
            force = False  # never edited, only re-created: --full leaves it be
        d = self.store.decide(key, todo.hash, force=force)
        if d.action is Action.NONE:
            self.report.unchanged += 1
        elif d.action is Action.BLOCKED:
            self.report.blocked += 1
            self._plan(key, "blocked", None, d.reason)
            self.logs.append(LogEntry(key, "allocate", "blocked", d.reason))
        elif d.action is Action.UPDATE:
            self.edits.append(todo)
        else:
            todo.recover = d.recover
            self.creates.append(todo)

    def _skip_unmapped(self, key: str, reason: str) -> None:
        """A credit application that cannot be sent yet: the reason, once."""
        h = payload_hash({"skip": reason})
        link = self.store.get(key)
        if link is not None and (link.state in FROZEN or link.payload_hash == h):
            self.report.unchanged += 1
            return
        self._skipped(key, reason, h, record=link is None or not link.xero_id)

    def _skipped(self, key: str, reason: str, h: str, *, record: bool) -> None:
        """Count, plan, log and (unless record is False) store a skip."""
        self.report.skipped += 1
        self._plan(key, "skip", None, reason)
        if self.ctx.dry_run:
            return
        self.logs.append(LogEntry(key, "skip", SKIPPED, reason))
        if record:
            self.store.record([Outcome(key, SKIPPED, payload_hash=h, error=reason)])

    def _plan(
        self, key: str, action: str, body: dict[str, Any] | None, reason: str | None
    ) -> None:
        """Add one planned action (all of them show in a dry run)."""
        self.report.planned.append(PlannedAction(ENTITY, key, action, body, reason))

    # -- removals and edits -----------------------------------------------------

    def remove_gone(self, perfex_keys: set[str]) -> None:
        """Applications removed in Perfex: delete their allocations in Xero."""
        gone = [
            link
            for key, link in self.store.links.items()
            if key not in perfex_keys and link.state not in FROZEN
        ]
        forget: list[str] = []
        for link in gone:
            key = link.perfex_key
            if not link.xero_id:
                if link.state == PENDING:
                    self._settle(key, DELETED, GONE_UNCONFIRMED)
                else:
                    forget.append(key)
                continue
            body = {"CreditNoteID": link.xero_number, "AllocationID": link.xero_id}
            self._plan(key, "delete", body, None)
            if self.ctx.dry_run:
                self.report.updated += 1
                continue
            error = self._delete(key, link)
            if error is None:
                self._settle(key, DELETED, DELETED_IN_PERFEX, link.xero_id)
                self.report.updated += 1
            else:
                message = (
                    f"removed in Perfex, but Xero refused to delete the allocation "
                    f"({error}): delete it in Xero, then retry"
                )
                self._settle(key, LOCKED, message, link.xero_id)
                self.report.blocked += 1
        if forget and not self.ctx.dry_run:
            self.store.forget(forget)

    def _settle(
        self, key: str, state: str, message: str, xero_id: str | None = None
    ) -> None:
        """Store a final state with its message and log it (not in a dry run)."""
        if self.ctx.dry_run:
            return
        self.store.record([Outcome(key, state, error=message)])
        self.logs.append(LogEntry(key, "delete", state, message, xero_id))

    def _delete(self, key: str, link: LinkRow) -> str | None:
        """Delete one allocation in Xero; None when done (or already gone)."""
        if not link.xero_number:
            return "the credit note of the allocation is unknown"
        r = single(
            self.ctx.gateway.delete_credit_note_allocation,
            link.xero_number,
            str(link.xero_id),
            ref=key,
        )
        self.seen.pop(link.xero_number.lower(), None)
        invoice = ((r.raw or {}).get("Invoice") or {}).get("InvoiceID")
        if invoice:
            services(self.ctx).invoices.forget(str(invoice))
        else:
            services(self.ctx).invoices.known.clear()
        if r.ok or r.status == "404":
            return None
        return "; ".join(r.errors) or "Xero refused to delete the allocation"

    def replace_edited(self) -> None:
        """Edited applications: delete the allocation, then allocate again."""
        for todo in self.edits:
            link = self.store.get(todo.key)
            assert link is not None  # noqa: S101 - an edit has a link
            locked = self._lock_reason(todo)
            if locked is not None:
                self._skipped(todo.key, locked, todo.hash, record=True)
                continue
            body = {"CreditNoteID": link.xero_number, "AllocationID": link.xero_id}
            self._plan(todo.key, "delete", body, "edited in Perfex: allocated again")
            if self.ctx.dry_run:
                self.creates.append(todo)
                continue
            error = self._delete(todo.key, link)
            if error is not None:
                self.store.record([Outcome(todo.key, FAILED, error=error)])
                self.logs.append(LogEntry(todo.key, "delete", FAILED, error))
                self._fail(todo.key, error)
                continue
            self.store.record([Outcome(todo.key, PENDING, clear_id=True)])
            self.logs.append(
                LogEntry(todo.key, "delete", DELETED, "edited in Perfex: re-allocated")
            )
            self.creates.append(todo)
        self.edits = []

    def _lock_reason(self, todo: Todo) -> str | None:
        """Why Xero's lock date stops this allocation (None: its date is open)."""
        lock = lockdates.lock_date(self.ctx)
        when = lockdates.locked([lockdates.as_date(todo.payload.get("Date"))], lock)
        return lockdates.reason(when, lock) if when and lock else None

    def _fail(self, key: str, error: str) -> None:
        """Count one final failure."""
        self.report.failed += 1
        self.report.errors.append((f"allocation {key}", error))

    # -- reading Xero -----------------------------------------------------------

    def _read_notes(self, ids: set[str]) -> None:
        """Read the Xero credit notes not read yet (with their Allocations)."""
        missing = {i.lower() for i in ids} - set(self.seen)
        if missing:
            found = by_guid(self.ctx, "credit_notes", "CreditNoteID", missing)
            self.seen.update(found)

    def _allocations(self, note_id: str) -> list[dict[str, Any]]:
        """The allocations Xero shows on a credit note read in this run."""
        note = self.seen.get(note_id.lower()) or {}
        return list(note.get("Allocations") or [])

    def recover(self) -> None:
        """Creates a crash may have sent: find them on their credit notes."""
        maybe = [t for t in self.creates if t.recover]
        if not maybe or self.ctx.dry_run:
            return
        self._read_notes({t.note_id for t in maybe})
        taken = set(self.store.by_xero_id())
        for todo in maybe:
            found = self._match(todo, taken)
            if found is None:
                continue
            taken.add(found)
            self.creates.remove(todo)
            self._synced(todo, found, "recover", "found in Xero")

    def _match(self, todo: Todo, taken: set[str]) -> str | None:
        """The AllocationID of this allocation on its credit note, not yet linked."""
        for found in self._allocations(todo.note_id):
            allocation_id = str(found.get("AllocationID") or "")
            if allocation_id and allocation_id not in taken:
                if same_allocation(found, todo.payload):
                    return allocation_id
        return None

    def check(self) -> None:
        """Skip creates Xero would refuse: not AUTHORISED, or above what is left."""
        if not self.creates or self.ctx.dry_run:
            return
        self._read_notes({t.note_id for t in self.creates})
        invoices = services(self.ctx).invoices.current(
            {t.invoice_id for t in self.creates}
        )
        credit = {k: dec(v.get("RemainingCredit") or 0) for k, v in self.seen.items()}
        due = {k: dec(v.get("AmountDue") or 0) for k, v in invoices.items()}
        keep: list[Todo] = []
        for todo in sorted(self.creates, key=lambda t: (t.credit.date, t.credit.id)):
            note = self.seen.get(todo.note_id.lower())
            reason = self._lock_reason(todo) or refusal(
                todo, note, invoices.get(todo.invoice_id), credit, due
            )
            if reason is None:
                credit[todo.note_id.lower()] -= todo.amount
                due[todo.invoice_id] -= todo.amount
                keep.append(todo)
                continue
            link = self.store.get(todo.key)
            if (
                link is not None
                and link.state == SKIPPED
                and link.payload_hash == todo.hash
                and link.last_error == reason
            ):
                self.report.unchanged += 1
                continue
            self.logs.append(LogEntry(todo.key, "skip", SKIPPED, reason))
            self.report.skipped += 1
            self._plan(todo.key, "skip", None, reason)
            self.store.record(
                [Outcome(todo.key, SKIPPED, payload_hash=todo.hash, error=reason)]
            )
        self.creates = keep

    # -- writing ----------------------------------------------------------------

    def write(self) -> None:
        """Allocate the planned creates: one call per credit note (BATCH at most).

        Every link of a call is pending with the call's idempotency seed before
        it; Xero answers each element, so each application is linked or failed
        on its own.
        """
        for todo in self.creates:
            self._plan(
                todo.key,
                "allocate",
                {"CreditNoteID": todo.note_id, **todo.payload},
                None,
            )
        if self.ctx.dry_run:
            self.report.created += len(self.creates)
            return
        batches = self._batches()
        seeds = [(t.key, seed) for seed, batch in batches for t in batch]
        if seeds:
            self.store.mark_pending(seeds)
        for seed, batch in batches:
            self._send(seed, batch)
            self.flush()

    def _batches(self) -> list[tuple[str, list[Todo]]]:
        """The creates by credit note (planned order), BATCH a call, with seeds."""
        by_note: dict[str, list[Todo]] = {}
        for todo in self.creates:
            by_note.setdefault(todo.note_id.lower(), []).append(todo)
        out: list[tuple[str, list[Todo]]] = []
        for note_id, todos in by_note.items():
            for start in range(0, len(todos), BATCH):
                batch = todos[start : start + BATCH]
                out.append((self._seed(batch, f"{note_id}:{start}"), batch))
        return out

    def _seed(self, batch: list[Todo], name: str) -> str:
        """The idempotency seed: the pending links' own if they share it, else new."""
        kept = set()
        for todo in batch:
            link = self.store.get(todo.key)
            pending = link is not None and link.state == PENDING
            kept.add(link.idempotency_key if link is not None and pending else None)
        if len(kept) == 1 and None not in kept:
            return str(kept.pop())
        return f"{self.ctx.run_key}:{ENTITY}:{name}"

    def _send(self, seed: str, batch: list[Todo]) -> None:
        """One PUT of a credit note's allocations; link or fail each element."""
        note_id = batch[0].note_id
        results = self.ctx.gateway.allocate_credit_note(
            note_id, [(t.key, t.payload) for t in batch], run_key=seed
        )
        self.seen.pop(note_id.lower(), None)
        for todo in batch:
            services(self.ctx).invoices.forget(todo.invoice_id)
        if len(batch) > 1 and all(refused_whole(r) for r in results):
            for todo in batch:  # Xero may take one allocation a call: one by one
                self._send(f"{seed}:{todo.key}", [todo])
            return
        for todo, r in zip(batch, results, strict=True):
            if r.ok:
                allocation_id = r.xero_id or self._find_written(todo)
                self._synced(todo, allocation_id, "allocate", None)
                continue
            error = "; ".join(r.errors) or "Xero refused the allocation"
            if r.uncertain:
                error = f"{error}: {UNANSWERED}"
            error = lockdates.explain(error)
            self.store.record([Outcome(todo.key, FAILED, error=error)])
            self.logs.append(
                LogEntry(todo.key, "allocate", FAILED, error, None, todo.payload)
            )
            self._fail(todo.key, error)

    def _find_written(self, todo: Todo) -> str | None:
        """The AllocationID when Xero's answer lacked it: read the credit note."""
        self._read_notes({todo.note_id})
        return self._match(todo, set(self.store.by_xero_id()))

    def _synced(
        self, todo: Todo, allocation_id: str | None, action: str, note: str | None
    ) -> None:
        """Link one allocation as synced and count it."""
        self.store.record(
            [Outcome(todo.key, SYNCED, allocation_id, todo.note_id, todo.hash)]
        )
        self.logs.append(LogEntry(todo.key, action, SYNCED, note, allocation_id))
        self.report.created += 1

    def flush(self) -> None:
        """Write the buffered SyncLog rows (not in a dry run)."""
        if self.logs and not self.ctx.dry_run:
            write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []


def refused_whole(result: ElementResult) -> bool:
    """True when Xero refused the whole call, answering no element (nothing written).

    Whether Xero takes several allocations in one call is not documented beyond
    the body's array: a call refused as a whole is then sent one element a call.
    """
    return not result.ok and not result.uncertain and not result.raw
