"""Customers: tblclients + primary contact -> Xero Contacts, name clashes handled.

With `contacts_from_xero` on, contacts changed in Xero first update the linked
customers (pull.py), then the push runs and records each pushed contact's bases.
"""

from __future__ import annotations

from pxflask.perfex import reads
from pxflask.perfex.records import Customer
from pxflask.sync import orphans
from pxflask.sync.context import StepContext, StepReport, numeric_ids
from pxflask.sync.entities.customers import pull
from pxflask.sync.entities.customers.mapper import (
    contact_name,
    customer_id_from_number,
    disambiguate_name,
    map_contact,
    same_customer,
)
from pxflask.sync.hashing import payload_hash
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.steps.base import Pending, Pusher, lookup

ENTITY = "customers"
NAME_CLASH = "already assigned to another contact"
NUMBER_CLASH = "contact number"


def _mapping(customer: Customer, currencies: dict[int, str], pusher: Pusher) -> Mapped:
    """The plain mapping, or the disambiguated one when that is what was sent."""
    plain = map_contact(customer, currencies)
    link = pusher.store.get(customer.id)
    if link is not None and link.payload_hash and plain.payload is not None:
        other = map_contact(
            customer, currencies, disambiguate_name(contact_name(customer), customer.id)
        )
        if (
            other.payload is not None
            and payload_hash(other.payload) == link.payload_hash
        ):
            return other
    return plain


def run(ctx: StepContext) -> StepReport:
    """Pull contacts changed in Xero (when on), then push every Perfex customer."""
    pulled = StepReport(ENTITY)
    pull.pull(ctx, pulled)
    pusher = Pusher(ctx, ENTITY, "contacts", "ContactID")
    _merge(pusher.report, pulled)
    written: list[tuple[str, dict, dict]] = []
    if pull.enabled(ctx.settings.raw) and not ctx.dry_run:
        pusher.on_written = lambda raw: _remember(pusher, raw, written)
    currencies = {c.id: c.code for c in reads.read_currencies(ctx.perfex)}
    keys = ctx.keys_of(ENTITY)
    ids = None if keys is None else numeric_ids(keys)
    customers = {str(c.id): c for c in reads.read_customers(ctx.perfex, ids=ids)}
    pusher.plan(_mapping(c, currencies, pusher) for c in customers.values())
    _recover(ctx, pusher)
    _separate_same_names(pusher, customers, currencies)
    failed = pusher.write_creates() + pusher.write_updates()
    retry_create: list[Pending] = []
    retry_update: list[Pending] = []
    final: list[Pending] = []
    clashes = [p for p in failed if NAME_CLASH in (p.mapped.skip or "")]
    existing = lookup(ctx, "contacts", "Name", [p.payload["Name"] for p in clashes])
    for p in failed:
        error = p.mapped.skip or ""
        customer = customers[p.key]
        if p in clashes:
            found = existing.get(p.payload["Name"])
            if found and same_customer(found, customer) and p.xero_id is None:
                p.xero_id = str(found["ContactID"])
                retry_update.append(p)
                continue
            name = disambiguate_name(contact_name(customer), customer.id)
            m = map_contact(customer, currencies, name)
            again = Pending(p.decision, m, payload_hash(m.payload), p.xero_id)
            (retry_update if p.xero_id else retry_create).append(again)
        elif NUMBER_CLASH in error.lower() and p.xero_id is None:
            found = lookup(
                ctx, "contacts", "ContactNumber", [p.payload["ContactNumber"]]
            )
            record = found.get(p.payload["ContactNumber"])
            if record:
                p.xero_id = str(record["ContactID"])
                retry_update.append(p)
            else:
                final.append(p)
        else:
            final.append(p)
    pusher.creates, pusher.updates = retry_create, retry_update
    final += pusher.write_creates() + pusher.write_updates()
    report = pusher.finish(final)
    if written:
        pull.ContactPuller(ctx, report).pushed(written)
    orphans.sync_contacts(ctx, report)
    return report


def _merge(report: StepReport, pulled: StepReport) -> None:
    """Start the push's report with the pull's counts, errors and plan."""
    report.pulled, report.skipped = pulled.pulled, pulled.skipped
    report.failed, report.unchanged = pulled.failed, pulled.unchanged
    report.errors += pulled.errors
    report.planned += pulled.planned


def _remember(pusher: Pusher, raw: dict, written: list[tuple[str, dict, dict]]) -> None:
    """Keep a contact Xero accepted with the payload pushed (for the pull's bases)."""
    customer_id = customer_id_from_number(raw.get("ContactNumber"))
    if customer_id is None:
        return
    key = str(customer_id)
    for p in (*pusher.creates, *pusher.updates):
        if p.key == key:
            written.append((key, raw, p.payload))
            return


def _separate_same_names(
    pusher: Pusher, customers: dict[str, Customer], currencies: dict[int, str]
) -> None:
    """New contacts named like another in this run get a distinct name up front."""
    taken = {p.payload["Name"].strip().casefold() for p in pusher.updates}
    for index, p in enumerate(pusher.creates):
        name = p.payload["Name"].strip().casefold()
        if name not in taken:
            taken.add(name)
            continue
        customer = customers[p.key]
        mapped = map_contact(
            customer, currencies, disambiguate_name(contact_name(customer), customer.id)
        )
        pusher.creates[index] = Pending(
            p.decision, mapped, payload_hash(mapped.payload), p.xero_id
        )


def _recover(ctx: StepContext, pusher: Pusher) -> None:
    """Creates that may already exist (an earlier crash): find them by number."""
    pusher.adopt_by("ContactNumber")


def content_hash(ctx: StepContext, perfex_id: int) -> str | None:
    """The content hash this step compares for one Perfex customer."""
    currencies = {c.id: c.code for c in reads.read_currencies(ctx.perfex)}
    found = reads.read_customers(ctx.perfex, ids=[perfex_id])
    m = map_contact(found[0], currencies) if found else None
    return None if m is None or m.payload is None else payload_hash(m.payload)
