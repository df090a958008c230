"""Re-post records with the current mappings: an explicit action, previewed first.

A mapping change applies only to what is sent after it (history.py). When the
admin does want records already in Xero moved to the new mapping, `preview`
lists each record whose Xero side differs from what would be sent now, with the
change ("account 090 → 091") or the reason it is left alone: reconciled in Xero,
its link locked, voided or deleted, dated in a locked period, nothing mapped.
`mark` then flags the confirmed keys on their links, and a targeted sync of
those keys re-posts them (payments: delete and create again). Neither touches
a record the preview would skip: the sync checks reconciliation and lock dates
again when it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pxflask.dbtypes import SessionLike
from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.sync import lockdates
from pxflask.sync.context import Gateway, StepContext, SyncSettings
from pxflask.sync.entities.payments.step import read_payments
from pxflask.sync.history import REPOST_MARK
from pxflask.sync.links import FROZEN, SYNCED, LinkStore
from pxflask.sync.mappers.payment_accounts import account_for
from pxflask.sync.registry import REGISTRY

REPOSTABLE = ("payments",)
"""Entities the re-post action knows (what a mapping changes in Xero)."""


class RepostRefused(ValueError):
    """The entity cannot be re-posted."""


@dataclass(frozen=True)
class RepostItem:
    """One record the re-post would change, or leave alone with the reason."""

    entity: str
    key: str
    label: str
    change: str
    reason: str | None = None

    @property
    def action(self) -> str:
        """'repost' when it would be re-posted, else 'skip'."""
        return "skip" if self.reason else "repost"


@dataclass
class RepostPreview:
    """What a re-post of one entity would do."""

    entity: str
    items: list[RepostItem] = field(default_factory=list)

    @property
    def reposts(self) -> list[RepostItem]:
        """The records it would re-post."""
        return [i for i in self.items if i.reason is None]

    @property
    def skips(self) -> list[RepostItem]:
        """The records it would leave alone, each with its reason."""
        return [i for i in self.items if i.reason is not None]


def check_entity(entity: str) -> str:
    """The entity, when the re-post action knows it."""
    if entity not in REPOSTABLE:
        known = ", ".join(REPOSTABLE)
        raise RepostRefused(f"re-post knows {known}, not {entity!r}")
    return entity


def preview(
    session: SessionLike,
    perfex: PerfexDB,
    gateway: Gateway,
    settings: Mapping[str, str],
    entity: str = "payments",
) -> RepostPreview:
    """The records whose Xero side differs from what the mappings give now."""
    check_entity(entity)
    ctx = StepContext(
        session,
        perfex,
        gateway,
        SyncSettings.from_mapping(settings),
        dry_run=True,
        step_modules=REGISTRY.step_modules(),
    )
    return RepostPreview(entity, _payments(ctx))


def _payments(ctx: StepContext) -> list[RepostItem]:
    """Payments whose Xero account is not the one mapped now."""
    links = LinkStore(ctx.session, "payments").links
    modes = LinkStore(ctx.session, "payment-modes").links
    ctx.session.commit()  # no read transaction held across Xero calls or a prompt
    perfex = {str(p.id): p for p in reads.read_payments(ctx.perfex)}
    linked = {
        k: str(link.xero_id)
        for k, link in links.items()
        if k in perfex and link.xero_id
    }
    if not linked:
        return []
    found = read_payments(ctx, linked.values())
    lock = lockdates.lock_date(ctx)
    items: list[RepostItem] = []
    for key in sorted(linked, key=_numeric):
        record = found.get(linked[key].lower())
        if record is None:
            continue
        pay = perfex[key]
        now = account_for(pay.mode, ctx.settings.raw, modes)
        was = str((record.get("Account") or {}).get("Code") or "")
        if now == was:
            continue
        number = (record.get("Invoice") or {}).get("InvoiceNumber") or pay.invoice_id
        label = f"payment {key} ({pay.amount} on {pay.date}, invoice {number})"
        change = f"account {was or '?'} → {now or '(none)'}"
        link = links[key]
        reason = _why_not(link.state, link.last_error, record, lock)
        if reason is None and not now:
            reason = f"no Xero account is mapped for payment mode {pay.mode!r}"
        items.append(RepostItem("payments", key, label, change, reason))
    return items


def _why_not(
    state: str,
    error: str | None,
    record: Mapping[str, Any],
    lock: date | None,
) -> str | None:
    """Why a payment is left alone (None: it would be re-posted)."""
    if state in FROZEN:
        return f"its link is {state}" + (f": {error}" if error else "")
    if state != SYNCED:
        return f"its link is {state}: the next sync sends it with the current mapping"
    if str(record.get("Status") or "") == "DELETED":
        return "deleted in Xero"
    if record.get("IsReconciled"):
        return "reconciled in Xero"
    when = lockdates.locked([lockdates.as_date(record.get("Date"))], lock)
    if when is not None and lock is not None:
        return lockdates.reason(when, lock)
    return None


def _numeric(key: str) -> tuple[int, str]:
    """Sort keys numerically when they are (ASCII, id-sized) numbers."""
    number = key.isascii() and key.isdigit() and len(key) <= 18
    return (int(key), "") if number else (0, key)


def mark(session: SessionLike, entity: str, keys: Iterable[str]) -> list[str]:
    """Flag confirmed keys for re-posting; returns those flagged (synced links)."""
    check_entity(entity)
    wanted = sorted({str(k) for k in keys}, key=_numeric)
    store = LinkStore(session, entity, keys=wanted)
    flagged = [
        key
        for key in wanted
        if (link := store.get(key)) is not None
        and link.state == SYNCED
        and link.xero_id
    ]
    store.set_hashes(dict.fromkeys(flagged, REPOST_MARK))
    return flagged
