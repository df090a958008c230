"""Invoices and credit notes made in Xero -> Perfex (opt-in: documents_from_xero).

One If-Modified-Since read per kind (cursors `xero.invoices.pulled`,
`xero.credit_notes.pulled`) finds ACCREC invoices and credit notes, AUTHORISED or
PAID, that no link of the push side names and whose Reference is not pxflask's
(PX-...). Each becomes a Perfex document with Perfex's own next number, its lines
and taxes (the Xero TaxType -> the Perfex tax mapped to it), and Xero's number in
the reference (credit notes: reference_no; invoices, which have no reference
column: the admin note, with the Xero id). A contact with no customers link
becomes a Perfex customer first. Then the document (and a new customer) is linked
on the push side as synced, with the hash the push side computes, so the push
never sends it back and a later edit in Perfex follows the normal update rules.
This step runs before payments: the payments a pulled invoice had in Xero follow
in the payments step (paid.py names each to it; the log says when they cannot).

Refused, with the reason, alone (the rest goes on): a currency Perfex lacks, a
Xero rate with no Perfex tax, totals Perfex's rounding cannot reproduce. A claim
link (pending) is committed before each Perfex write; a claim left by a killed
worker is settled first (the document found by its Xero id, or forgotten).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pxflask.perfex import document_writes, module_api, reads
from pxflask.perfex.document_writes import NewCustomer, NewDocument
from pxflask.perfex.writes import invoice_status_for
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.documents_pull import ENTITY, paid
from pxflask.sync.entities.documents_pull.rules import (
    KINDS,
    STATUSES,
    Converted,
    Kind,
    contact_parts,
    convert,
    doc_key,
    enabled,
    is_ours,
    reverse_taxes,
)
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    FAILED,
    PENDING,
    PULLED_FROM_XERO,
    SYNCED,
    LinkStore,
    LogEntry,
    Outcome,
    read_cursor,
    write_cursor,
    write_log,
)
from pxflask.sync.mappers.common import dec
from pxflask.sync.mappers.pulled import naive_utc, xero_day
from pxflask.sync.steps.services import services
from pxflask.sync.taxrates import cached_rates


def cursor_name(kind: Kind) -> str:
    """The cursor of one kind's If-Modified-Since pass."""
    return f"xero.{kind.read_kind}.pulled"


def run(ctx: StepContext) -> StepReport:
    """Pull the Xero documents changed since the cursors (nothing when off)."""
    report = StepReport(ENTITY)
    if ctx.targeted or not enabled(ctx.settings.raw):
        return report
    puller = DocumentPuller(ctx, report)
    puller.settle_claims()
    for kind in KINDS:
        cursor = None if ctx.full else read_cursor(ctx.session, cursor_name(kind))
        newest = cursor
        for page in ctx.gateway.iter_pages(kind.read_kind, modified_since=cursor):
            for record in page:
                stamp = record.get("UpdatedDateUTC")
                if isinstance(stamp, datetime):
                    naive = naive_utc(stamp)
                    newest = naive if newest is None or naive > newest else newest
            puller.page(kind, page)
            puller.flush()
        if not ctx.dry_run and newest is not None and newest != cursor:
            write_cursor(ctx.session, cursor_name(kind), newest)
    return report


class DocumentPuller:
    """The pull of one run: links, mappings, new customers, the buffered log."""

    def __init__(self, ctx: StepContext, report: StepReport) -> None:
        """Load the links and the reference data the documents need."""
        self.ctx, self.report = ctx, report
        self.logs: list[LogEntry] = []
        self.store = LinkStore(ctx.session, ENTITY, autocommit=False)
        self.pushed = {
            k.name: LinkStore(ctx.session, k.link_entity, autocommit=False)
            for k in KINDS
        }
        self.linked_ids = {
            name: {str(x).lower() for x in store.synced_ids().values()}
            for name, store in self.pushed.items()
        }
        """Kind -> the Xero ids (lower case) its push-side links name."""
        self.customers = LinkStore(ctx.session, "customers", autocommit=False)
        self.contacts = {
            str(link.xero_id).lower(): int(key)
            for key, link in self.customers.links.items()
            if link.xero_id and key.isdigit()
        }
        self.currencies = {c.code.upper(): c for c in reads.read_currencies(ctx.perfex)}
        tax_links = {
            key: link.xero_number
            for key, link in LinkStore(ctx.session, "taxes").links.items()
            if link.xero_number and link.state == SYNCED
        }
        self.reverse = reverse_taxes(
            ctx.settings.raw, reads.read_taxes(ctx.perfex), tax_links
        )
        self.rates = {r.tax_type: r.rate for r in cached_rates(ctx.session)}

    # -- one page -------------------------------------------------------------

    def linked(self, kind: Kind, xero_id: str) -> bool:
        """True when the push side links this Xero document (sent or pulled)."""
        return xero_id.lower() in self.linked_ids[kind.name]

    def page(self, kind: Kind, records: list[dict[str, Any]]) -> None:
        """Pull every new document of one page (its new contacts read at once)."""
        wanted: list[dict[str, Any]] = []
        for record in records:
            xero_id = str(record.get(kind.id_field) or "")
            if (
                not xero_id
                or record.get("Type") != kind.xero_type
                or record.get("Status") not in STATUSES
                or self.linked(kind, xero_id)
                or is_ours(record)
            ):
                continue
            day = xero_day(record.get("Date"))
            if day is not None and self.ctx.date_from and day < self.ctx.date_from:
                continue
            wanted.append(record)
        unknown = {
            str((r.get("Contact") or {}).get("ContactID") or "")
            for r in wanted
            if str((r.get("Contact") or {}).get("ContactID") or "").lower()
            not in self.contacts
        } - {""}
        found = (
            {
                str(c["ContactID"]).lower(): c
                for c in self.ctx.gateway.read_all("contacts", ids=sorted(unknown))
            }
            if unknown
            else {}
        )
        for record in wanted:
            self.consider(kind, record, found)

    def consider(
        self, kind: Kind, record: dict[str, Any], contacts: dict[str, dict[str, Any]]
    ) -> None:
        """Write one Xero document to Perfex, or fail it alone with the reason."""
        xero_id = str(record[kind.id_field])
        number = str(record.get(kind.number_field) or "")
        key = doc_key(kind, xero_id)
        code = str(record.get("CurrencyCode") or "").upper()
        currency = self.currencies.get(code)
        if currency is None:
            self.fail(key, xero_id, f"currency {code or '?'} is not a Perfex currency")
            return
        contact_id = str((record.get("Contact") or {}).get("ContactID") or "")
        customer = self.contacts.get(contact_id.lower())
        contact = contacts.get(contact_id.lower())
        if customer is None and contact is None:
            self.fail(key, xero_id, f"contact {contact_id or '?'} not found in Xero")
            return
        converted = convert(record, self.reverse, self.rates)
        if isinstance(converted, str):
            self.fail(key, xero_id, f"{kind.label} {number}: {converted}")
            return
        day = xero_day(record.get("Date"))
        if day is None:
            self.fail(key, xero_id, f"{kind.label} {number} has no date")
            return
        plan = {
            "kind": kind.name,
            "xero_number": number,
            "customer": customer
            if customer is not None
            else f"new: {(contact or {}).get('Name')}",
            "date": day.isoformat(),
            "currency": code,
            "subtotal": str(converted.subtotal),
            "total_tax": str(converted.total_tax),
            "total": str(converted.total),
            "lines": [line.as_posted() for line in converted.lines],
        }
        settings = self.ctx.settings.raw
        already = paid.paid_note(kind, record, settings) or None
        self.report.planned.append(PlannedAction(ENTITY, key, "pull", plan, already))
        self.report.pulled += 1
        if self.ctx.dry_run:
            self.report.planned.extend(paid.planned(kind, record, settings))
            return
        self.store.record([Outcome(key, PENDING, xero_id)])
        self.ctx.session.commit()
        if customer is None:
            assert contact is not None  # noqa: S101 - checked above
            customer = self.new_customer(contact, currency.id)
        self.write(kind, record, key, customer, currency.id, converted)

    def new_customer(self, contact: dict[str, Any], currency_id: int) -> int:
        """A Perfex customer for a Xero contact, linked as synced; its id."""
        parts = contact_parts(contact)
        base = next((c for c in self.currencies.values() if c.is_default), None)
        new = NewCustomer(
            **parts,  # type: ignore[arg-type]
            currency_id=0 if base is None or base.id == currency_id else currency_id,
        )
        userid = document_writes.create_customer(self.ctx.perfex, new)
        xero_id = str(contact["ContactID"])
        key = str(userid)
        h = services(self.ctx).content_hash("customers", userid)
        self.customers.mark_pending([(key, PULLED_FROM_XERO)])
        self.customers.record([Outcome(key, SYNCED, xero_id, None, h)])
        self.contacts[xero_id.lower()] = userid
        write_log(
            self.ctx.session,
            "customers",
            [
                LogEntry(
                    key,
                    "pull",
                    SYNCED,
                    f"created in Perfex from Xero contact {contact.get('Name')}",
                    xero_id,
                )
            ],
            run_id=self.ctx.run_id,
        )
        return userid

    def write(
        self,
        kind: Kind,
        record: dict[str, Any],
        key: str,
        customer: int,
        currency_id: int,
        converted: Converted,
    ) -> None:
        """Insert the Perfex document, link it on the push side, drop the claim."""
        xero_id = str(record[kind.id_field])
        number = str(record.get(kind.number_field) or "")
        day = xero_day(record.get("Date"))
        due = xero_day(record.get("DueDate"))
        assert day is not None  # noqa: S101 - consider() checked it
        status = 1
        if kind.name == document_writes.INVOICE:
            status = invoice_status_for(
                converted.total, dec(0), due, datetime.now().date()
            )
        marker = f"Xero {kind.label} {number} ({xero_id})"
        doc = NewDocument(
            kind=kind.name,
            clientid=customer,
            on=day,
            currency_id=currency_id,
            subtotal=converted.subtotal,
            total_tax=converted.total_tax,
            total=converted.total,
            lines=converted.lines,
            duedate=due,
            status=status,
            adminnote=f"Made in Xero: {marker}",
            reference_no=number[:100] or None,
        )
        perfex = self.ctx.perfex
        try:
            doc_id, formatted = module_api.create_document(perfex, doc, xero_id)
        except ValueError as exc:  # Perfex's model refused it
            self.store.forget([key])
            self.report.pulled -= 1
            self.report.planned = [p for p in self.report.planned if p.key != key]
            self.fail(key, xero_id, f"{kind.label} {number}: {exc}")
            return
        self.finish(kind, key, doc_id, xero_id, number, formatted, converted, record)

    def finish(
        self,
        kind: Kind,
        key: str,
        doc_id: int,
        xero_id: str,
        number: str,
        formatted: str,
        converted: Converted | None,
        record: dict[str, Any] | None = None,
    ) -> None:
        """Link a Perfex document written from Xero (synced, pulled), drop the claim."""
        store = self.pushed[kind.name]
        perfex_key = str(doc_id)
        h = services(self.ctx).content_hash(kind.link_entity, doc_id)
        store.mark_pending([(perfex_key, PULLED_FROM_XERO)])
        store.record([Outcome(perfex_key, SYNCED, xero_id, number, h)])
        self.linked_ids[kind.name].add(xero_id.lower())
        self.store.forget([key])
        notes = "; ".join(converted.notes) if converted and converted.notes else ""
        message = f"{kind.label} {formatted} created in Perfex from Xero {number}"
        settings = self.ctx.settings.raw
        already = paid.paid_note(kind, record, settings) if record else ""
        message += f" ({already})" if already else ""
        if record:  # its Xero payments, named to the payments pull (paid.py)
            wanted = paid.wanted(kind, record, paid.wanted_reason(record, settings))
            if wanted:
                keys = [w.key for w in wanted]
                LinkStore(
                    self.ctx.session, paid.PAYMENTS, keys=keys, autocommit=False
                ).record(wanted)
        write_log(
            self.ctx.session,
            kind.link_entity,
            [LogEntry(perfex_key, "pull", SYNCED, message, xero_id)],
            run_id=self.ctx.run_id,
        )
        self.logs.append(
            LogEntry(
                key, "pull", SYNCED, message + (f" ({notes})" if notes else ""), xero_id
            )
        )
        self.ctx.session.commit()

    # -- claims, failures, log -------------------------------------------------

    def settle_claims(self) -> None:
        """Claims a killed worker left: link the document it wrote, else forget."""
        if self.ctx.dry_run:
            return
        for key, link in list(self.store.links.items()):
            if link.state != PENDING:
                continue
            name, _, lower = key.partition(":")
            xero_id = link.xero_id or lower
            kind = next((k for k in KINDS if k.name == name), None)
            found = (
                document_writes.find_document(self.ctx.perfex, name, xero_id)
                if kind is not None
                else None
            )
            if kind is None or found is None:
                self.store.forget([key])
                continue
            self.finish(kind, key, found, xero_id, "", str(found), None)
        self.flush()

    def fail(self, key: str, xero_id: str, reason: str) -> None:
        """A document that cannot be pulled: count, log (once per reason), remember."""
        self.report.failed += 1
        self.report.errors.append((key, reason))
        self.report.planned.append(PlannedAction(ENTITY, key, "fail", None, reason))
        if self.ctx.dry_run:
            return
        link = self.store.get(key)
        h = payload_hash({"fail": reason})
        if link is not None and link.state == FAILED and link.last_error == reason:
            return
        self.store.record([Outcome(key, FAILED, xero_id, None, h, error=reason)])
        self.logs.append(LogEntry(key, "pull", FAILED, reason, xero_id))

    def flush(self) -> None:
        """Write the buffered log and commit (not in a dry run)."""
        if self.ctx.dry_run:
            self.logs = []
            return
        write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []
