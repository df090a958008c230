"""Estimates: tblestimates -> Xero quotes (off unless `estimates` is enabled).

Each Perfex estimate becomes one quote numbered as Perfex numbers it, with our
Reference PX-EST-<id>. New quotes are created DRAFT or SENT and moved on to the
status Perfex has (walk.py); before an update the current quotes are read once
(pages of 100, only in a run with updates) to know where each one stands. A
create a crash may have sent is found again by QuoteNumber and Reference before
anything is sent twice. An estimate deleted in Perfex is DELETED in Xero. Lock
dates are not checked: a quote is not posted to the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pxflask.perfex import reads
from pxflask.perfex.records import Estimate
from pxflask.sync import tracking
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.estimates.mapper import estimate_reference, map_estimate
from pxflask.sync.entities.estimates.walk import EDITABLE, move, route
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import DELETED, FROZEN, SYNCED, LinkRow, LinkStore, Outcome
from pxflask.sync.mappers.common import dec
from pxflask.sync.steps.base import Pending, Pusher
from pxflask.sync.steps.documents import (
    DocumentKind,
    MappedDocuments,
    map_documents,
    mapping_context,
)

ENTITY = "estimates"
KIND = "quotes"
ID_FIELD = "QuoteID"
ESTIMATE = DocumentKind("estimate", map_estimate)
DELETED_IN_PERFEX = "deleted in Perfex: the quote is DELETED in Xero"


def run(ctx: StepContext) -> StepReport:
    """Create, update, move or delete a Xero quote per Perfex estimate."""
    pusher = Pusher(ctx, ENTITY, KIND, ID_FIELD)
    every = reads.read_estimates(ctx.perfex)
    estimates = [
        e
        for e in every
        if ctx.date_from is None or e.date is None or e.date >= ctx.date_from
    ]
    docs = MappedDocuments()
    if estimates:
        contacts = CustomerContacts(ctx)
        mctx = mapping_context(ctx)
        docs = map_documents(ctx, pusher, contacts, estimates, ESTIMATE, mctx)
    mapped = tracking.Tracker(ctx, "estimates").tag(docs.mapped, docs.content)
    pusher.plan(mapped, frozenset(), docs.content)
    quotes = Quotes(ctx)
    _recover(pusher, quotes)
    finals = {p.key: p.hash for p in (*pusher.creates, *pusher.updates)}
    walks = _plan_walks(pusher, quotes, {str(e.id): e for e in estimates})
    tracking.ensure(ctx, pusher)
    failed_writes = pusher.write_creates() + pusher.write_updates()
    done = {p.key for p in failed_writes}
    walks = {k: w for k, w in walks.items() if k not in done and w}
    _walk(ctx, pusher, walks)
    _settle(ctx, pusher, walks, finals)
    _delete_gone(ctx, pusher, {str(e.id) for e in every})
    return pusher.finish(failed_writes)


class CustomerContacts:
    """The Xero contact of an estimate's customer (its customer link)."""

    def __init__(self, ctx: StepContext) -> None:
        """Load the customer links."""
        self.store = LinkStore(ctx.session, "customers")
        self.synced = self.store.synced_ids()

    def contact(self, document_id: int, customer_id: int | None) -> str | None:
        """The customer's ContactID, or None while it has none."""
        return self.synced.get(str(customer_id))

    def why_not(self, document_id: int, customer_id: int | None) -> tuple[str, bool]:
        """Not synced yet (a skip), or its sync failed (a failure, with why)."""
        why = f"customer {customer_id} is not synced"
        link = self.store.get(str(customer_id))
        if link is not None and link.last_error and not link.xero_id:
            return f"{why}: {link.last_error}", True
        return why, False


class Quotes:
    """The organisation's quotes, read once when a run needs them (not dry)."""

    def __init__(self, ctx: StepContext) -> None:
        """Bind to the run; nothing is read yet."""
        self.ctx = ctx
        self._all: list[dict[str, Any]] | None = None

    def all(self) -> list[dict[str, Any]]:
        """Every quote in Xero (pages of 100)."""
        if self._all is None:
            self._all = self.ctx.gateway.read_all(KIND)
        return self._all

    def by_id(self) -> dict[str, dict[str, Any]]:
        """Quotes by lower-case QuoteID."""
        return {str(q[ID_FIELD]).lower(): q for q in self.all()}


def _recover(pusher: Pusher, quotes: Quotes) -> None:
    """Creates a crashed run may have sent: adopt them by QuoteNumber + Reference."""
    maybe = pusher.recovering()
    if not maybe:
        return
    found = {
        (q.get("QuoteNumber"), q.get("Reference")): q
        for q in quotes.all()
        if q.get("Status") != "DELETED"
    }
    for p in maybe:
        record = found.get((p.payload["QuoteNumber"], estimate_reference(int(p.key))))
        if record is not None:
            pusher.adopt(p, str(record[ID_FIELD]))


def _plan_walks(
    pusher: Pusher, quotes: Quotes, estimates: dict[str, Estimate]
) -> dict[str, list[str]]:
    """Set each write's first status; the moves left after it, by Perfex key."""
    walks: dict[str, list[str]] = {}
    for p in pusher.creates:
        path = route(None, p.payload["Status"])
        _first(p, p.payload, path[0])
        walks[p.key] = path[1:]
    if not pusher.updates or pusher.ctx.dry_run:
        return walks
    current = quotes.by_id()
    for p in list(pusher.updates):
        quote = current.get(str(p.xero_id).lower())
        status = None if quote is None else str(quote.get("Status"))
        if quote is None or status == "DELETED":
            continue  # sent as it is: Xero's answer says why not
        path = route(status, p.payload["Status"])
        if status in EDITABLE:
            _first(p, p.payload, path[0])
        else:
            problem = _amounts_differ(quote, estimates[p.key])
            if problem is not None:
                pusher.updates.remove(p)
                pusher.store.record([pusher.refused(p.key, "update", problem)])
                continue
            _first(p, move(p.payload, str(p.xero_id), path[0]), path[0])
        walks[p.key] = path[1:]
    return walks


def _first(p: Pending, payload: dict[str, Any], status: str) -> None:
    """Send `payload` with `status` as the record's first write.

    While moves remain, the link keeps a hash of its own (see `_settle`): a run
    that stops between the moves leaves the estimate to update, never unchanged.
    """
    if status != p.payload["Status"]:
        p.hash = payload_hash({"moving": p.hash})
    p.mapped = replace(p.mapped, payload={**payload, "Status": status})


def _amounts_differ(quote: dict[str, Any], est: Estimate) -> str | None:
    """Why a quote past SENT cannot take Perfex's amounts (None: they agree)."""
    total, tax = dec(quote.get("Total") or 0), dec(quote.get("TotalTax") or 0)
    if total == dec(est.total) and tax == dec(est.total_tax):
        return None
    return (
        f"the quote is {quote.get('Status')} in Xero, whose lines can no longer be"
        f" edited; its total {total} (tax {tax}) differs from Perfex's"
        f" {dec(est.total)} (tax {dec(est.total_tax)}): move it back to SENT in"
        " Xero, then sync again"
    )


def _walk(ctx: StepContext, pusher: Pusher, walks: dict[str, list[str]]) -> None:
    """Send the remaining status moves, one batch per step, in order."""
    links = pusher.store.links
    step = 0
    while True:
        todo = [
            (key, path[step])
            for key, path in walks.items()
            if len(path) > step and (ctx.dry_run or _written(links.get(key)))
        ]
        if not todo:
            return
        for key, status in todo:
            body = {"Status": status}
            pusher.report.planned.append(PlannedAction(ENTITY, key, "move", body))
        if not ctx.dry_run:
            _send_moves(ctx, pusher, walks, todo)
        step += 1


def _settle(
    ctx: StepContext,
    pusher: Pusher,
    walks: dict[str, list[str]],
    finals: dict[str, str],
) -> None:
    """Quotes whose every move went through: their links take the final hash."""
    links = pusher.store.links
    arrived = {k: finals[k] for k in walks if _written(links.get(k))}
    if arrived and not ctx.dry_run:
        pusher.store.set_hashes(arrived)


def _written(link: LinkRow | None) -> bool:
    """The first write (or the last move) of this quote went through."""
    return link is not None and link.state == SYNCED and bool(link.xero_id)


def _send_moves(
    ctx: StepContext,
    pusher: Pusher,
    walks: dict[str, list[str]],
    todo: list[tuple[str, str]],
) -> None:
    """One batch of status moves; a refused one fails its estimate."""
    links = pusher.store.links
    payloads = {p.key: p.payload for p in (*pusher.creates, *pusher.updates)}
    elements = [
        (key, move(payloads[key], str(links[key].xero_id), status))
        for key, status in todo
    ]
    outcomes: list[Outcome] = []
    for batch in ctx.gateway.iter_write(
        KIND, elements, run_key=ctx.run_key, mode="upsert"
    ):
        for r in batch:
            key = str(r.ref)
            if not r.ok:
                error = "; ".join(r.errors) or "Xero refused the status"
                outcomes.append(pusher.refused(key, "move", error, r.xero_id))
                walks.pop(key, None)
    if outcomes:
        pusher.store.record(outcomes)
    pusher.flush_logs()


def _delete_gone(ctx: StepContext, pusher: Pusher, perfex_keys: Iterable[str]) -> None:
    """Estimates deleted in Perfex: their quotes become DELETED in Xero."""
    keep = set(perfex_keys)
    gone = [
        link
        for key, link in pusher.store.links.items()
        if key not in keep and link.state not in FROZEN
    ]
    forget = [link.perfex_key for link in gone if not link.xero_id]
    if forget and not ctx.dry_run:
        pusher.store.forget(forget)
    elements = [
        (link.perfex_key, {ID_FIELD: link.xero_id, "Status": "DELETED"})
        for link in gone
        if link.xero_id
    ]
    for key, body in elements:
        pusher.report.planned.append(PlannedAction(ENTITY, key, "delete", body))
    if ctx.dry_run or not elements:
        pusher.report.updated += len(elements) if ctx.dry_run else 0
        return
    outcomes = pusher.send_changes(
        elements,
        "deleted",
        "Xero refused to delete the quote",
        lambda key, r: Outcome(
            key, DELETED, r.xero_id, r.number, error=DELETED_IN_PERFEX
        ),
    )
    pusher.store.record(outcomes)
