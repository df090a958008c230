"""Contacts changed in Xero -> the linked Perfex customers (the customers pull).

Runs inside the customers step before the push, when `contacts_from_xero` is on
(default off), so a field changed in Xero reaches Perfex before a push could send
the whole contact back over it. A run that names no records reads the Xero
contacts changed since the cursor `xero.contacts.modified` (If-Modified-Since,
archived ones included); a targeted run (a webhook, a hook, a retry) reads the
contacts of its customers by id. Only customers pxflask already linked are
updated; pull_rules.py states which side wins per field. Each customer's change
is one transaction (pxflask/perfex/customer_updates.py); a value that does not fit
Perfex fails that field with the reason while the others are written.

No echo: when the customer had no unsent change, the customers link takes the hash
of the push mapping of the updated customer, so the push sends nothing back; a
rerun with nothing changed in Xero reads nothing (the cursor) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pxflask.perfex import reads
from pxflask.perfex.customer_updates import CustomerGone, FieldWrite, update_customer
from pxflask.perfex.records import Customer
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.customers.mapper import (
    contact_name,
    disambiguate_name,
    map_contact,
)
from pxflask.sync.entities.customers.pull_rules import (
    ARCHIVED,
    BASES,
    CONFLICT,
    CURSOR,
    ENTITY,
    FIELDS,
    SAME,
    XERO,
    contact_fields,
    enabled,
    field_write,
    fingerprint,
    fingerprints,
    parse,
    shown,
    verdict,
)
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    FAILED,
    FROZEN,
    PENDING,
    SKIPPED,
    SYNCED,
    LinkRow,
    LinkStore,
    LogEntry,
    Outcome,
    read_cursor,
    write_cursor,
    write_log,
)
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.mappers.pulled import naive_utc

BAD = "bad"
"""The verdict of a field whose Xero value did not fit Perfex (not written)."""


def push_mapping(
    customer: Customer, currencies: Mapping[int, str], sent: str | None, name: str = ""
) -> Mapped:
    """The push mapping of a customer: the disambiguated one when that was sent.

    With `name`, the disambiguated one is taken when it gives that Xero name.
    """
    plain = map_contact(customer, currencies)
    other = map_contact(
        customer, currencies, disambiguate_name(contact_name(customer), customer.id)
    )
    if other.payload is None or plain.payload is None:
        return plain
    if name:
        return other if other.payload["Name"] == name else plain
    return other if payload_hash(other.payload) == sent else plain


class ContactPuller:
    """The pull of one run: customer links, bases, the buffered log."""

    def __init__(self, ctx: StepContext, report: StepReport) -> None:
        """Load the customer links and their bases."""
        self.ctx, self.report = ctx, report
        keys = ctx.keys_of(ENTITY)
        self.links = LinkStore(ctx.session, ENTITY, keys=keys)
        self.bases = LinkStore(ctx.session, BASES, keys=keys)
        self.by_xero = {
            str(link.xero_id).lower(): link
            for key, link in self.links.links.items()
            if link.xero_id and key.isdigit()
        }
        self.currencies = {c.id: c.code for c in reads.read_currencies(ctx.perfex)}
        self.logs: list[LogEntry] = []

    def page(self, records: Iterable[dict[str, Any]]) -> None:
        """Consider every linked contact of one page."""
        linked = [
            (record, link)
            for record in records
            if (link := self.by_xero.get(str(record.get("ContactID") or "").lower()))
        ]
        if not linked:
            return
        ids = [int(link.perfex_key) for _, link in linked]
        customers = {c.id: c for c in reads.read_customers(self.ctx.perfex, ids=ids)}
        for record, link in linked:
            customer = customers.get(int(link.perfex_key))
            if customer is not None:
                self.consider(record, link, customer)

    def consider(self, record: dict[str, Any], link: LinkRow, c: Customer) -> None:
        """Bring one Xero contact's changes into its Perfex customer, or say why not."""
        key, contact_id = link.perfex_key, str(record.get("ContactID"))
        if (record.get("ContactStatus") or "ACTIVE") != "ACTIVE":
            self.settle(key, contact_id, SKIPPED, ARCHIVED, None)
            return
        if link.state in FROZEN or link.state == PENDING:
            return
        mapped = push_mapping(c, self.currencies, link.payload_hash)
        assert mapped.payload is not None  # noqa: S101 - customers always map
        unsent = payload_hash(mapped.payload) != link.payload_hash
        xero, perfex = contact_fields(record), contact_fields(mapped.payload)
        base = self.bases.get(key)
        base_x = parse(base.payload_hash) if base else None
        base_p = parse(base.source_hash) if base else None
        verdicts = {
            name: verdict(name, xero[name], perfex[name], base_x, base_p, unsent)
            for name in FIELDS
        }
        writes: dict[str, FieldWrite] = {}
        for name in FIELDS:
            if verdicts[name] == XERO:
                write = field_write(name, xero[name], c)
                if write is None:
                    verdicts[name] = SAME  # an individual's name: from the person
                else:
                    writes[name] = write
        conflicts = [name for name in FIELDS if verdicts[name] == CONFLICT]
        if not writes and not conflicts:
            self.report.unchanged += 1
            if not self.ctx.dry_run:
                self.keep_bases(key, contact_id, verdicts, xero, perfex, base, True)
            return
        changes = {
            name: {"perfex": shown(name, perfex[name]), "xero": shown(name, xero[name])}
            for name in writes
        }
        kept = (
            f"changed on both sides, Perfex wins (not written; the push sends"
            f" Perfex's value): {', '.join(conflicts)}"
            if conflicts
            else None
        )
        said = _said(changes, writes)
        why = " | ".join(t for t in (f"from Xero: {said}" if said else "", kept) if t)
        self.report.planned.append(
            PlannedAction(
                ENTITY, key, "pull" if writes else "skip", {"fields": changes}, why
            )
        )
        if self.ctx.dry_run:
            self.report.pulled += 1 if writes else 0
            self.report.skipped += 0 if writes else 1
            return
        try:
            problems = update_customer(self.ctx.perfex, c.id, writes) if writes else {}
        except CustomerGone:
            return
        for name in problems:
            verdicts[name] = BAD  # not written: tried again when Xero changes it
        fresh = next(iter(reads.read_customers(self.ctx.perfex, ids=[c.id])), c)
        after = push_mapping(fresh, self.currencies, None, xero["Name"])
        assert after.payload is not None  # noqa: S101 - customers always map
        if not unsent and set(writes) - set(problems):
            self.links.set_hashes({key: payload_hash(after.payload)})
        done = [n for n in writes if n not in problems]
        parts = []
        if done:
            parts.append(f"updated from Xero: {_said(changes, done)}")
        if kept:
            parts.append(kept)
        parts += problems.values()
        state = FAILED if problems else SYNCED if done else SKIPPED
        self.report.pulled += 1 if done else 0
        if problems:
            self.report.failed += 1
            self.report.errors.append((key, "; ".join(problems.values())))
        elif not done:
            self.report.skipped += 1
        perfex_after = contact_fields(after.payload)
        self.keep_bases(key, contact_id, verdicts, xero, perfex_after, base)
        self.settle(key, contact_id, state, " | ".join(parts), changes, force=True)

    def keep_bases(
        self,
        key: str,
        contact_id: str,
        verdicts: Mapping[str, str],
        xero: Mapping[str, str],
        perfex: Mapping[str, str],
        base: LinkRow | None,
        settled: bool = False,
    ) -> None:
        """New bases: agreed and written fields move on, the others keep theirs.

        `settled`: nothing is left to do, so an earlier failure or skip is over.
        """
        old_x = parse(base.payload_hash) if base else None
        old_p = parse(base.source_hash) if base else None
        new_x, new_p = [], []
        for name in FIELDS:
            if verdicts[name] in (SAME, XERO):
                new_x.append(fingerprint(xero[name]))
                new_p.append(fingerprint(perfex[name]))
            elif old_x is not None and old_p is not None:
                new_x.append(old_x[name])
                new_p.append(old_p[name])
            elif verdicts[name] == CONFLICT:
                new_x.append(fingerprint(xero[name]))  # Perfex's value wins
                new_p.append(fingerprint(perfex[name]))
            else:
                new_x.append(fingerprint(perfex[name]))  # Xero's value: tried again
                new_p.append(fingerprint(perfex[name]))
        self.record_bases(key, contact_id, "".join(new_x), "".join(new_p), settled)

    def pushed(self, written: Iterable[tuple[str, dict[str, Any], Any]]) -> None:
        """After the push: Xero's answer and the payload sent are the new bases."""
        fresh: list[Outcome] = []
        xero: dict[str, str] = {}
        perfex: dict[str, str] = {}
        for key, raw, payload in written:
            xero[key] = fingerprints(contact_fields(raw))
            perfex[key] = fingerprints(contact_fields(payload))
            if self.bases.get(key) is None:
                contact_id = str(raw.get("ContactID"))
                fresh.append(
                    Outcome(
                        key, SYNCED, contact_id, None, xero[key], source=perfex[key]
                    )
                )
        if fresh:
            self.bases.record(fresh)
        self.bases.set_hashes(xero)
        self.bases.set_sources(perfex)

    def record_bases(
        self, key: str, contact_id: str, xero: str, perfex: str, settled: bool = False
    ) -> None:
        """Store one customer's bases (its `customers-pull` link).

        A known link keeps its state unless `settled` (then synced, error cleared).
        """
        link = self.bases.get(key)
        if link is None or (settled and link.state != SYNCED):
            self.bases.record(
                [Outcome(key, SYNCED, contact_id, None, xero, source=perfex)]
            )
            return
        self.bases.set_hashes({key: xero})
        self.bases.set_sources({key: perfex})

    def settle(
        self,
        key: str,
        contact_id: str,
        state: str,
        message: str,
        payload: Any,
        force: bool = False,
    ) -> None:
        """Log one customer's pull (a repeated skip only once) and keep its state."""
        link = self.bases.get(key)
        if link is not None and link.state == state and link.last_error == message:
            if not force:
                self.report.unchanged += 1
                return
        if state == SKIPPED and not force:
            self.report.skipped += 1
        if self.ctx.dry_run:
            skip = PlannedAction(ENTITY, key, "skip", None, message)
            self.report.planned.append(skip)
            return
        error = None if state == SYNCED else message
        self.bases.record([Outcome(key, state, contact_id, error=error)])
        self.logs.append(LogEntry(key, "pull", state, message, contact_id, payload))

    def flush(self) -> None:
        """Write the buffered log (not in a dry run)."""
        if self.logs and not self.ctx.dry_run:
            write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []


def _said(changes: Mapping[str, Mapping[str, str]], names: Iterable[str]) -> str:
    """Fields' changes as the log and a dry run say them: "Name 'a' -> 'b'; ..."."""
    return "; ".join(
        f"{n} {changes[n]['perfex']!r} -> {changes[n]['xero']!r}" for n in names
    )


def pull(ctx: StepContext, report: StepReport) -> None:
    """Read the Xero contacts changed since the cursor (or targeted) into Perfex."""
    if not enabled(ctx.settings.raw):
        return
    puller = ContactPuller(ctx, report)
    if not puller.by_xero:
        return
    if ctx.targeted:
        ids = sorted(str(link.xero_id) for link in puller.by_xero.values())
        for page in ctx.gateway.iter_pages("contacts", ids=ids, include_archived=True):
            puller.page(page)
        puller.flush()
        return
    cursor = None if ctx.full else read_cursor(ctx.session, CURSOR)
    newest = cursor
    pages = ctx.gateway.iter_pages(
        "contacts", modified_since=cursor, include_archived=True
    )
    for page in pages:
        for record in page:
            stamp = record.get("UpdatedDateUTC")
            if isinstance(stamp, datetime):
                newest = max(newest, naive_utc(stamp)) if newest else naive_utc(stamp)
        puller.page(page)
        puller.flush()
    if not ctx.dry_run and newest is not None and newest != cursor:
        write_cursor(ctx.session, CURSOR, newest)
