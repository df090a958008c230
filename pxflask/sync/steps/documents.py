"""The per-record loop the sales-document steps share (invoices, credit notes, ...).

`map_documents` turns Perfex documents into what a `Pusher` plans: a damaged row
fails alone, a document whose customer has no Xero contact is skipped or failed
with the reason, a document the mapper marks for removal (voided, deleted) becomes
a removal of its linked Xero document (or is skipped when it was never sent),
and every other one is mapped twice: once for Xero, once with the neutral context
(settings as their own names) for the content hash that tells an edit in Perfex
from a change of settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from pxflask.perfex.records import SalesDocument
from pxflask.sync.context import StepContext
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import DELETED, VOIDED, LinkStore
from pxflask.sync.mappers.common import Mapped, skipped
from pxflask.sync.mappers.common import failed as failed_alone
from pxflask.sync.mappers.documents import (
    DRAFTS_SKIP,
    DocumentContext,
    neutral_context,
    neutral_tax,
)
from pxflask.sync.steps.base import Pusher, damaged_record, map_guarded
from pxflask.sync.steps.services import services

DocumentMapper = Callable[[Any, str, DocumentContext], Mapped]
"""map_<type>(document, contact id, context) -> Mapped."""


class Contacts(Protocol):
    """The Xero contact of a document's customer (orphans.Contacts)."""

    def contact(self, document_id: int, customer_id: int | None) -> str | None:
        """The customer's ContactID, or None when it has none to use."""

    def why_not(self, document_id: int, customer_id: int | None) -> tuple[str, bool]:
        """Why the record has no contact, and whether that fails it."""


@dataclass(frozen=True)
class DocumentKind:
    """What differs between document types in the shared loop."""

    what: str
    """The document's name in messages ("invoice", "credit note", "quote")."""
    mapper: DocumentMapper
    removed_status: str = "VOIDED"
    """The mapped Status that means: remove the linked Xero document."""
    never_sent: str = "voided before it was synced"
    """Why a removal of a document never sent is skipped."""


@dataclass
class MappedDocuments:
    """What the loop gives the step: records to plan, content, removals, dates."""

    mapped: list[Mapped] = field(default_factory=list)
    content: dict[str, Any] = field(default_factory=dict)
    removals: list[tuple[str, str, str]] = field(default_factory=list)
    """(Perfex key, Xero id, payload hash) of linked documents to void or delete."""
    dated: dict[str, date | None] = field(default_factory=dict)
    """The Perfex date of each removal (Xero's lock date applies to it)."""


def mapping_context(ctx: StepContext, *, drafts: str = DRAFTS_SKIP) -> DocumentContext:
    """The run's document mapping context: accounts from settings, the tax resolver."""
    resolve = services(ctx).taxes()
    return DocumentContext(
        sales_account=ctx.settings.sales_account,
        rounding_account=ctx.settings.rounding_account,
        resolve_tax=resolve,
        tax_rates=resolve.rates,
        no_tax_type=resolve.no_tax_type(),
        discount_account=ctx.settings.discount_account,
        drafts=drafts,
    )


def map_documents(
    ctx: StepContext,
    pusher: Pusher,
    contacts: Contacts,
    documents: Iterable[SalesDocument],
    kind: DocumentKind,
    mctx: DocumentContext,
) -> MappedDocuments:
    """Map each document for the pusher (see the module docstring)."""
    out = MappedDocuments()
    resolve = services(ctx).taxes()
    neutral = neutral_context(mctx)
    for doc in documents:
        key = str(doc.id)
        if doc.damaged:
            label = doc.formatted_number
            out.mapped.append(damaged_record(kind.what, label, key, doc.damaged))
            continue
        contact = contacts.contact(doc.id, doc.customer_id)
        if contact is None:
            why, fails = contacts.why_not(doc.id, doc.customer_id)
            out.mapped.append(failed_alone(key, why) if fails else skipped(key, why))
            continue
        m = map_guarded(key, kind.mapper, doc, contact, mctx)
        if m.payload is not None and m.payload["Status"] == kind.removed_status:
            _removal(ctx, pusher, out, doc, m, kind)
            continue
        m = resolve.checked(m)
        out.mapped.append(m)
        n = kind.mapper(doc, contact, neutral)
        if m.payload is not None and n.payload is not None:
            out.content[key] = n.payload
    resolve.flush()
    return out


def _removal(
    ctx: StepContext,
    pusher: Pusher,
    out: MappedDocuments,
    doc: SalesDocument,
    m: Mapped,
    kind: DocumentKind,
) -> None:
    """A document to remove in Xero: skipped unsent, queued, or already removed."""
    link = pusher.store.get(m.key)
    if link is None or not link.xero_id:
        out.mapped.append(skipped(m.key, kind.never_sent))
    elif link.state not in (VOIDED, DELETED):
        out.removals.append((m.key, link.xero_id, payload_hash(m.payload or {})))
        out.dated[m.key] = doc.date
    else:
        pusher.report.unchanged += 1
        if m.key in pusher.sources and not ctx.dry_run:
            pusher.store.set_sources({m.key: pusher.sources[m.key]})


def document_hash(
    ctx: StepContext,
    found: Sequence[SalesDocument],
    mapper: DocumentMapper,
    *,
    drafts: str = DRAFTS_SKIP,
) -> str | None:
    """The content hash a document step compares for one document (None: not sent).

    For a document written into Perfex from Xero: stored on its link, the next push
    finds it unchanged; a later edit in Perfex changes it.
    """
    if not found:
        return None
    doc = found[0]
    customers = LinkStore(ctx.session, "customers", keys=[doc.customer_id])
    link = customers.get(doc.customer_id)
    contact = str(link.xero_id) if link is not None and link.xero_id else ""
    neutral = neutral_context(DocumentContext("", "", neutral_tax, drafts=drafts))
    m = mapper(doc, contact, neutral)
    return None if m.payload is None else payload_hash(m.payload)
