"""Invoices: tblinvoices -> Xero ACCREC invoices, following Xero's edit rules.

Change detection is cheap: one aggregate query (`reads.invoice_fingerprints`) gives
a fingerprint per Perfex invoice; only invoices whose fingerprint (plus contact and
mapping settings) differs from the one stored on the link are read, mapped and
hashed. On Xero's side one If-Modified-Since read (summary only) finds invoices
voided or deleted by a user since the last run: their links are frozen and never
re-sent silently.

DRAFT/SUBMITTED invoices are updated; AUTHORISED ones only while nothing is
allocated to them (else the link becomes "locked" with the reason). Invoices
cancelled or deleted in Perfex are voided (DELETED while a draft in Xero) when
nothing is allocated to them, else locked with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.sync import lockdates, orphans, tracking
from pxflask.sync.context import PlannedAction, StepContext, StepReport, numeric_ids
from pxflask.sync.entities.invoices import online
from pxflask.sync.entities.invoices.mapper import (
    REFERENCE_PREFIX,
    invoice_reference,
    map_invoice,
)
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    DELETED,
    LOCKED,
    VOIDED,
    LinkStore,
    LogEntry,
    Outcome,
    read_cursor,
    write_cursor,
)
from pxflask.sync.mappers.common import Mapped, dec
from pxflask.sync.mappers.documents import xero_document_total
from pxflask.sync.steps import renumber
from pxflask.sync.steps.base import Pending, Pusher, lookup, single
from pxflask.sync.steps.documents import (
    DocumentKind,
    MappedDocuments,
    document_hash,
    map_documents,
    mapping_context,
)
from pxflask.sync.steps.services import services

ENTITY = "invoices"
NUMBERED = renumber.Numbered(
    "invoices",
    "InvoiceNumber",
    "InvoiceID",
    "invoice",
    lambda key: invoice_reference(int(key)),
)
INVOICE = DocumentKind(
    "invoice", map_invoice, never_sent="cancelled before it was synced"
)
NUMBER_CLASH = "must be unique"
CURSOR = "xero.invoices.modified"
ALLOCATED = "a payment or credit note is allocated to it in Xero; it cannot be edited"
CANCELLED_ALLOCATED = "cancelled in Perfex but payments are allocated in Xero"
DELETED_ALLOCATED = "deleted in Perfex but payments are allocated in Xero"
SETTING_KEYS = (
    "sales_account",
    "rounding_account",
    "discount_account",
    "no_tax_type",
    "drafts",
)


def allocated(invoice: dict[str, Any]) -> Decimal:
    """Money paid or credited against a Xero invoice."""
    return dec(invoice.get("AmountPaid") or 0) + dec(invoice.get("AmountCredited") or 0)


def _context_hash(ctx: StepContext) -> str:
    """What besides the Perfex rows shapes a mapped invoice (settings, tax links)."""
    raw = ctx.settings.raw
    values = {k: raw.get(k) or "" for k in SETTING_KEYS}
    values.update({k: v for k, v in raw.items() if k.startswith("tax_rate.")})
    tax_links = {
        k: v.xero_number for k, v in LinkStore(ctx.session, "taxes").links.items()
    }
    return payload_hash({"settings": values, "tax_links": tax_links})[:16]


def _source(fingerprint: str, contact: str | None, context: str) -> str:
    """The source fingerprint stored on a link (Perfex rows + contact + context)."""
    text = f"{fingerprint}|{contact or ''}|{context}".encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _client_ids(
    ctx: StepContext, conds: list[sa.ColumnElement[bool]]
) -> dict[int, int]:
    """Invoice id -> customer id for the selected invoices (one small query)."""
    inv = ctx.perfex.tables.invoices
    with ctx.perfex.engine.connect() as conn:
        rows = conn.execute(sa.select(inv.c.id, inv.c.clientid).where(*conds))
        return {int(r[0]): int(r[1] or 0) for r in rows}


def _only(ctx: StepContext) -> list[sa.ColumnElement[bool]]:
    """The id condition of a targeted run (empty list: every invoice)."""
    keys = ctx.keys_of(ENTITY)
    if keys is None:
        return []
    return [ctx.perfex.tables.invoices.c.id.in_(numeric_ids(keys))]


def _perfex_ids(
    ctx: StepContext, fingerprints: dict[int, str], only: list[sa.ColumnElement[bool]]
) -> set[int]:
    """Every (targeted) invoice id in Perfex, not only those after the date filter."""
    if ctx.date_from is None:
        return set(fingerprints)
    inv = ctx.perfex.tables.invoices
    with ctx.perfex.engine.connect() as conn:
        return set(conn.execute(sa.select(inv.c.id).where(*only)).scalars())


def run(ctx: StepContext) -> StepReport:
    """Create, update, void or delete Xero invoices for Perfex invoices."""
    pusher = Pusher(ctx, ENTITY, "invoices", "InvoiceID")
    pusher.on_written = lambda raw: services(ctx).invoices.remember([raw])
    online.watch(ctx, pusher)
    if not ctx.targeted:
        _pull_xero_changes(ctx, pusher)
    only = _only(ctx)
    conds = reads.invoice_conditions(ctx.perfex, date_from=ctx.date_from) + only
    fingerprints = reads.invoice_fingerprints(ctx.perfex, *conds)
    clients = _client_ids(ctx, conds)
    contacts = orphans.Contacts(
        ctx,
        ENTITY,
        set(clients.values()) if only else None,
        list(clients) if only else None,
    )
    context = _context_hash(ctx)
    tracker = tracking.Tracker(ctx, "invoices")
    again = lockdates.released(ctx, pusher.store)
    changed: list[int] = []
    for invoice_id, fingerprint in fingerprints.items():
        key = str(invoice_id)
        contact = contacts.contact(invoice_id, clients.get(invoice_id))
        source = _source(fingerprint + tracker.mark(invoice_id), contact, context)
        pusher.sources[key] = source
        if (
            key not in again
            and not ctx.full
            and pusher.store.source_unchanged(key, source)
        ):
            pusher.report.unchanged += 1
            continue
        changed.append(invoice_id)
    docs = MappedDocuments()
    if changed:
        mctx = mapping_context(ctx, drafts=ctx.settings.drafts)
        invoices = reads.read_invoices(ctx.perfex, ids=changed)
        docs = map_documents(ctx, pusher, contacts, invoices, INVOICE, mctx)
    mapped = tracker.tag(docs.mapped, docs.content)
    mapped = renumber.keep_sent_numbers(pusher.store, mapped, "InvoiceNumber")
    pusher.plan(mapped, again, docs.content)
    _recover(ctx, pusher)
    _check_updates(ctx, pusher)
    lockdates.hold(ctx, pusher, lambda p: _dates(ctx, p))
    # invoices deleted in Perfex first: Perfex may have given one's number to a
    # new invoice, which Xero then sees held by a voided one (renumber.py)
    _void_deleted(ctx, pusher, _perfex_ids(ctx, fingerprints, only))
    tracking.ensure(ctx, pusher)
    failed = pusher.write_creates() + pusher.write_updates()
    final = _retry_number_clashes(ctx, pusher, failed)
    _void(ctx, pusher, list(docs.removals), CANCELLED_ALLOCATED, docs.dated)
    online.after_invoices(ctx, pusher)
    return pusher.finish(final)


def _dates(ctx: StepContext, p: Pending) -> list[date | None]:
    """The dates Xero checks against its lock date: new, and current in Xero."""
    now = services(ctx).invoices.known.get(p.xero_id or "", {}).get("Date")
    return [lockdates.as_date(p.payload.get("Date")), lockdates.as_date(now)]


def _pull_xero_changes(ctx: StepContext, pusher: Pusher) -> None:
    """Read invoices changed in Xero since the last run; freeze voided/deleted."""
    by_xero = pusher.store.by_xero_id()
    if ctx.dry_run or not by_xero:
        return
    cursor = read_cursor(ctx.session, CURSOR)
    newest: datetime | None = cursor
    outcomes: list[Outcome] = []
    for page in ctx.gateway.iter_pages(
        "invoices", modified_since=cursor, summary_only=True
    ):
        services(ctx).invoices.remember(page)
        for record in page:
            stamp = record.get("UpdatedDateUTC")
            if isinstance(stamp, datetime):
                naive = _naive(stamp)
                newest = naive if newest is None or naive > newest else newest
            link = by_xero.get(str(record.get("InvoiceID")))
            status = record.get("Status")
            if link is None or status not in ("VOIDED", "DELETED"):
                continue
            state = VOIDED if status == "VOIDED" else DELETED
            if link.state == state:
                continue
            reason = f"{status.lower()} in Xero: it will not be sent again"
            outcomes.append(Outcome(link.perfex_key, state, error=reason))
            pusher.report.planned.append(
                PlannedAction(ENTITY, link.perfex_key, "frozen", None, reason)
            )
            pusher.logs.append(
                LogEntry(link.perfex_key, "inbound", state, reason, link.xero_id)
            )
    if outcomes:
        pusher.store.record(outcomes)
    pusher.flush_logs()
    if newest is not None and newest != cursor:
        write_cursor(ctx.session, CURSOR, newest)


def _naive(stamp: datetime) -> datetime:
    """A naive UTC datetime."""
    if stamp.tzinfo is None:
        return stamp
    return stamp.astimezone(UTC).replace(tzinfo=None)


def _check_updates(ctx: StepContext, pusher: Pusher) -> None:
    """Keep only updates Xero allows; lock or freeze the others with a reason."""
    if not pusher.updates or ctx.dry_run:
        return
    found_all = services(ctx).invoices.current(
        [p.xero_id or "" for p in pusher.updates]
    )
    keep: list[Pending] = []
    outcomes: list[Outcome] = []
    for p in pusher.updates:
        found = found_all.get(p.xero_id or "")
        status = (found or {}).get("Status")
        if found is None:
            keep.append(p)
            continue
        if status in ("VOIDED", "DELETED"):
            state = VOIDED if status == "VOIDED" else DELETED
            reason = f"the invoice is {status} in Xero"
        elif status == "PAID" or allocated(found) > 0:
            state, reason = LOCKED, ALLOCATED
        else:
            keep.append(p)
            continue
        outcomes.append(
            Outcome(
                p.key,
                state,
                payload_hash=p.hash,
                error=reason,
                source=pusher.sources.get(p.key),
            )
        )
        pusher.block(p.key, reason, p.payload)
    pusher.updates = keep
    if outcomes:
        pusher.store.record(outcomes)


def _recover(ctx: StepContext, pusher: Pusher) -> None:
    """Creates that may already exist in Xero: look them up by InvoiceNumber."""
    found = pusher.adopt_by(
        "InvoiceNumber",
        lambda p, r: r.get("Reference") == invoice_reference(int(p.key)),
    )
    services(ctx).invoices.remember(found)


def _retry_number_clashes(
    ctx: StepContext, pusher: Pusher, failed: list[Pending]
) -> list[Pending]:
    """A create refused for its number: this invoice (link it), a dead holder
    (resend as <number>-2, see renumber.py) or a live one (fail with the reason)."""
    clashes = [
        p for p in failed if p.xero_id is None and NUMBER_CLASH in (p.mapped.skip or "")
    ]
    if not clashes:
        return failed
    found = lookup(
        ctx, "invoices", "InvoiceNumber", [p.payload["InvoiceNumber"] for p in clashes]
    )
    final = [p for p in failed if p not in clashes]
    retry: list[Pending] = []
    held: list[tuple[Pending, dict[str, Any]]] = []
    for p in clashes:
        number = p.payload["InvoiceNumber"]
        record = found.get(number)
        if record and _is_same(record, p, services(ctx).taxes().rates):
            services(ctx).invoices.remember([record])
            p.xero_id = str(record["InvoiceID"])
            retry.append(p)
        elif record and record.get("Status") in renumber.DEAD:
            held.append((p, record))
        else:
            reason = (
                renumber.live_holder_reason(NUMBERED, number, record)
                if record
                else f"invoice number {number} is already used in Xero"
            )
            p.mapped = Mapped(p.key, p.payload, reason)
            final.append(p)
    creates, linked, refused = renumber.resend(ctx, held, NUMBERED)
    final += refused
    pusher.creates, pusher.updates = creates, retry + linked
    _check_updates(ctx, pusher)
    return final + pusher.write_creates() + pusher.write_updates()


def _is_same(record: dict[str, Any], p: Pending, rates: dict[str, Decimal]) -> bool:
    """A Xero invoice is this one: our Reference, or same contact and same total.

    A voided or deleted invoice, or one marked as another Perfex invoice, never is:
    Perfex reuses the number of a deleted invoice for the next one.
    """
    reference = record.get("Reference")
    if reference == invoice_reference(int(p.key)):
        return True
    if record.get("Status") in renumber.DEAD:
        return False
    if str(reference or "").startswith(REFERENCE_PREFIX):
        return False
    contact = (record.get("Contact") or {}).get("ContactID")
    if str(contact) != str(p.payload["Contact"]["ContactID"]):
        return False
    total = record.get("Total")
    try:
        expected = xero_document_total(p.payload, rates)
    except KeyError:
        return False
    return total is not None and dec(total) == expected


def _void(
    ctx: StepContext,
    pusher: Pusher,
    voids: list[tuple[str, str, str | None]],
    allocated_reason: str,
    dated: dict[str, date | None] | None = None,
) -> None:
    """VOIDED (DELETED for a Xero draft) unless allocated or in a locked period."""
    if not voids:
        return
    found_all = services(ctx).invoices.current([xero_id for _, xero_id, _ in voids])
    lock = lockdates.lock_date(ctx)
    outcomes: list[Outcome] = []
    for key, xero_id, h in voids:
        found = found_all.get(xero_id, {})
        status = found.get("Status")
        target = "DELETED" if status in ("DRAFT", "SUBMITTED") else "VOIDED"
        source = pusher.sources.get(key)
        if status in ("VOIDED", "DELETED"):
            state = VOIDED if status == "VOIDED" else DELETED
            outcomes.append(Outcome(key, state, payload_hash=h, source=source))
            pusher.report.unchanged += 1
            continue
        if found and (status == "PAID" or allocated(found) > 0):
            outcomes.append(
                Outcome(
                    key, LOCKED, payload_hash=h, error=allocated_reason, source=source
                )
            )
            pusher.block(key, allocated_reason)
            continue
        dates = [lockdates.as_date(found.get("Date")), (dated or {}).get(key)]
        when = lockdates.locked(dates, lock)
        if when is not None and lock is not None:
            held = lockdates.hold_change(pusher, key, lockdates.reason(when, lock))
            if held is not None:
                outcomes.append(replace(held, payload_hash=h, source=source))
            continue
        pusher.report.planned.append(
            PlannedAction(ENTITY, key, "void", {"InvoiceID": xero_id, "Status": target})
        )
        if ctx.dry_run:
            pusher.report.updated += 1
            continue
        r = single(
            ctx.gateway.update_invoice_status,
            xero_id,
            target,
            run_key=ctx.run_key,
            ref=key,
        )
        if r.ok:
            state = VOIDED if target == "VOIDED" else DELETED
            done = Outcome(key, state, xero_id, r.number, h, source=source)
            outcomes.append(pusher.changed(done, target.lower(), xero_id))
            if r.raw:
                services(ctx).invoices.remember([r.raw])
        else:
            error = "; ".join(r.errors) or "Xero refused the status change"
            outcomes.append(pusher.refused(key, target.lower(), error, xero_id))
    if outcomes and not ctx.dry_run:
        pusher.store.record(outcomes)


def deleted_in_perfex(store: LinkStore, perfex_ids: set[int]) -> list[tuple[str, str]]:
    """(key, xero id) of linked invoices whose Perfex row is gone."""
    out = []
    for key, link in store.links.items():
        if not link.xero_id or link.state in (VOIDED, DELETED):
            continue
        if link.state == LOCKED and link.last_error != DELETED_ALLOCATED:
            continue
        if key.isdigit() and int(key) not in perfex_ids:
            out.append((key, link.xero_id))
    return out


def _void_deleted(ctx: StepContext, pusher: Pusher, perfex_ids: set[int]) -> None:
    """Invoices deleted in Perfex: void or delete them in Xero (or lock)."""
    gone = [
        (key, xero_id)
        for key, xero_id in deleted_in_perfex(pusher.store, perfex_ids)
        if pusher.store.links[key].last_error != DELETED_ALLOCATED
    ]
    _void(ctx, pusher, [(k, x, None) for k, x in gone], DELETED_ALLOCATED)


def void_released(ctx: StepContext, xero_ids: set[str]) -> StepReport:
    """Retry voiding invoices deleted in Perfex once their payments are deleted."""
    pusher = Pusher(ctx, ENTITY, "invoices", "InvoiceID")
    waiting: list[tuple[str, str, str | None]] = [
        (key, link.xero_id, None)
        for key, link in pusher.store.links.items()
        if link.state == LOCKED
        and link.last_error == DELETED_ALLOCATED
        and link.xero_id in xero_ids
    ]
    if waiting:
        services(ctx).invoices.known.clear()
        _void(ctx, pusher, waiting, DELETED_ALLOCATED)
    return pusher.finish([])


def content_hash(ctx: StepContext, perfex_id: int) -> str | None:
    """The content hash this step compares for one Perfex invoice."""
    found = reads.read_invoices(ctx.perfex, ids=[perfex_id])
    return document_hash(ctx, found, map_invoice, drafts=ctx.settings.drafts)
