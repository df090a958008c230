"""Documents of deleted customers: one Xero contact per deleted customer name.

Perfex keeps an invoice (or credit note) when its customer is deleted: `clientid`
then points to no `tblclients` row and `deleted_customer_name` keeps the name.
Such a document is sent to a contact made from that name and the billing
address the document stored; every document with the same name (case and
spacing ignored) shares one contact, linked under the key `deleted:<name>` in
the customers' links, ContactNumber `PX-D-<hash of the name>` (unique), named
and addressed as the newest such document says ("Name (PX-D-...)" when another
Xero contact has the name). A document whose customer was synced before the
deletion keeps that contact. A document with neither a customer nor a name
fails alone with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import Address
from pxflask.sync.context import StepContext, StepReport, numeric_ids
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import FAILED, LinkStore
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.mappers.contacts import (
    deleted_contact_key,
    map_deleted_customer,
)
from pxflask.sync.steps.base import Pending, Pusher

TABLES = {"invoices": "invoices", "credit-notes": "creditnotes"}
"""Entity -> the Perfex table of its documents."""
SKIP_STATUSES = {"invoices": (5, 6), "credit-notes": (3,)}
"""Statuses whose documents are never sent (cancelled, draft, void)."""
NAME_CLASH = "already assigned to another contact"
NO_NAME = (
    "customer {customer} no longer exists in Perfex and the document keeps no"
    " customer name: assign it to an existing customer in Perfex, then retry"
)


@dataclass(frozen=True)
class Orphan:
    """A document whose customer row is gone."""

    document_id: int
    customer_id: int
    name: str
    billing: Address | None
    status: int = 1

    @property
    def key(self) -> str | None:
        """The link key of its contact (None: no name to make one from)."""
        return deleted_contact_key(self.name) if self.name else None


def read_orphans(
    perfex: PerfexDB,
    entity: str,
    *,
    ids: Iterable[int] | None = None,
    customers: Iterable[int] | None = None,
    sendable: bool = False,
) -> dict[int, Orphan]:
    """Documents (ids, or of customer ids) whose customer row is gone, by id."""
    table = perfex.tables.table(TABLES[entity])
    clients = perfex.tables.clients
    if "deleted_customer_name" not in table.c:
        return {}
    c = table.c
    conds: list[sa.ColumnElement[bool]] = [clients.c.userid.is_(None)]
    if ids is not None:
        conds.append(c.id.in_(list(ids)))
    if customers is not None:
        conds.append(c.clientid.in_(list(customers)))
    if sendable:
        conds.append(sa.func.coalesce(c.status, 1).not_in(SKIP_STATUSES[entity]))
    columns: list[sa.ColumnElement[Any]] = [c.id, c.clientid, c.deleted_customer_name]
    parts = ("billing_street", "billing_city", "billing_state", "billing_zip")
    columns += [c[p] if p in c else sa.null() for p in parts]
    columns.append(c.billing_country if "billing_country" in c else sa.null())
    columns.append(c.status)
    query = (
        sa.select(*columns)
        .select_from(table.outerjoin(clients, clients.c.userid == c.clientid))
        .where(*conds)
        .order_by(c.id)
    )
    with perfex.engine.connect() as conn:
        rows = conn.execute(query).all()
    countries = reads.read_countries(perfex) if rows else {}
    out: dict[int, Orphan] = {}
    for r in rows:
        country = countries.get(int(r[7])) if r[7] else None
        billing = Address(r[3], r[4], r[5], r[6], country)
        name = " ".join(str(r[2] or "").split())
        status = int(r[8] if r[8] is not None else 1)
        out[int(r[0])] = Orphan(int(r[0]), int(r[1] or 0), name, billing, status)
    return out


class Contacts:
    """Xero contact ids for documents: the customer's link, else its orphan's."""

    def __init__(
        self,
        ctx: StepContext,
        entity: str,
        customer_ids: Iterable[int] | None,
        document_ids: Iterable[int] | None = None,
    ) -> None:
        """Load the customer links (some, or all) and the orphans among the docs."""
        wanted = None if customer_ids is None else {str(i) for i in customer_ids}
        store = LinkStore(ctx.session, "customers", keys=wanted)
        self.customers = store.synced_ids()
        self.failed_customers = {
            k: v.last_error or "failed"
            for k, v in store.links.items()
            if v.state == FAILED and not v.xero_id
        }
        """Customers whose sync failed: their documents fail with the reason."""
        ids = None if document_ids is None else list(document_ids)
        self.entity = entity
        self.orphans = read_orphans(ctx.perfex, entity, ids=ids)
        keys = {o.key for o in self.orphans.values() if o.key}
        self.deleted = (
            LinkStore(ctx.session, "customers", keys=keys).synced_ids() if keys else {}
        )

    def contact(self, document_id: int, customer_id: int | None) -> str | None:
        """The Xero ContactID a document goes to, or None."""
        found = self.customers.get(str(customer_id))
        if found is None and document_id in self.orphans:
            key = self.orphans[document_id].key
            found = self.deleted.get(key) if key else None
        return found

    def why_not(self, document_id: int, customer_id: int | None) -> tuple[str, bool]:
        """Why a document has no contact, and whether that fails it (else skip)."""
        orphan = self.orphans.get(document_id)
        if orphan is None:
            error = self.failed_customers.get(str(customer_id))
            if error is not None:
                return f"its customer {customer_id} failed: {error}", True
            return f"customer {customer_id} is not synced", False
        if not orphan.name:
            sendable = orphan.status not in SKIP_STATUSES[self.entity]
            return NO_NAME.format(customer=customer_id), sendable
        return (
            f"customer {customer_id} was deleted in Perfex; the contact for"
            f" {orphan.name!r} is not synced yet: sync customers first",
            False,
        )


def sync_contacts(ctx: StepContext, report: StepReport) -> None:
    """Create or update one contact per deleted customer name with documents."""
    wanted = ctx.keys_of("customers")
    customers = None if wanted is None else numeric_ids(wanted)
    if customers == []:
        return
    entities = ["invoices"]
    if "credit-notes" in (ctx.settings.entities or ()):
        entities.append("credit-notes")
    orphans: dict[str, Orphan] = {}
    keys = None if customers is None else {str(c) for c in customers}
    linked = LinkStore(ctx.session, "customers", keys=keys).synced_ids()
    for entity in entities:
        found = read_orphans(ctx.perfex, entity, customers=customers, sendable=True)
        for orphan in found.values():
            if orphan.key and str(orphan.customer_id) not in linked:
                orphans[orphan.key] = orphan  # the newest document's address wins
    if not orphans:
        return
    pusher = Pusher(ctx, "customers", "contacts", "ContactID")
    pusher.store = LinkStore(ctx.session, "customers", keys=set(orphans))
    pusher.report = report
    pusher.plan(_mapping(pusher, o) for o in orphans.values())
    failed = pusher.write_creates() + pusher.write_updates()
    again: list[Pending] = []
    final: list[Pending] = []
    for p in failed:
        if NAME_CLASH in (p.mapped.skip or "") and "(PX-D-" not in p.payload["Name"]:
            o = orphans[p.key]
            m = map_deleted_customer(o.name, o.billing, unique_name=True)
            again.append(Pending(p.decision, m, payload_hash(m.payload), p.xero_id))
        else:
            final.append(p)
    pusher.creates = [p for p in again if p.xero_id is None]
    pusher.updates = [p for p in again if p.xero_id is not None]
    final += pusher.write_creates() + pusher.write_updates()
    pusher.finish(final)


def _mapping(pusher: Pusher, orphan: Orphan) -> Mapped:
    """The contact as first sent (its unique name once Xero asked for it)."""
    plain = map_deleted_customer(orphan.name, orphan.billing)
    link = pusher.store.get(plain.key)
    if link is not None and link.payload_hash:
        other = map_deleted_customer(orphan.name, orphan.billing, unique_name=True)
        if payload_hash(other.payload) == link.payload_hash:
            return other
    return plain
