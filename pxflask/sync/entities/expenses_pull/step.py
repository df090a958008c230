"""Bills (ACCPAY invoices) and spend money (SPEND bank transactions) -> expenses.

Opt-in: nothing happens unless `expenses_from_xero` is yes (and the entity is
run: named, or in `entities` for the scheduled pass). Each run reads the bills
and the spend-money transactions changed since its cursor (If-Modified-Since;
cursors `xero.bills.modified`, `xero.spend-money.modified`) plus, by id, those
whose mapping failed before (a fix in the settings clears them). Documents
pxflask sent (an `expenses` link holds their id, or a line carries the push's
"(Perfex expense N)" marker) are never pulled. Each other approved document
becomes one Perfex expense (mapper.py), linked under `bill:<id>` or
`spend:<id>` (this entity) and marked PULLED_FROM_XERO on its `expenses` link,
so the expenses push never sends it back and a rerun writes nothing. A document
edited in Xero later rewrites its expense; one voided or deleted there leaves
the expense in Perfex with the reason in the log. A dry run writes nothing and
lists every expense it would write.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pxflask.perfex import expense_writes
from pxflask.perfex.expense_writes import NewExpense
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.expenses_pull import SWITCH, UNIT
from pxflask.sync.entities.expenses_pull.lookups import Lookups
from pxflask.sync.entities.expenses_pull.mapper import (
    BILL,
    LABEL,
    LIVE,
    SPEND,
    describe,
    expense_fields,
    map_document,
    xero_day,
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
from pxflask.sync.mappers.expense_marks import marked_expense
from pxflask.sync.mappers.pulled import naive_utc
from pxflask.sync.steps.base import quote
from pxflask.sync.steps.pull_skips import skip_once

ENTITY = UNIT.name
KINDS = {
    BILL: ("invoices", "InvoiceID", "ACCPAY", "xero.bills.modified"),
    SPEND: (
        "bank_transactions",
        "BankTransactionID",
        "SPEND",
        "xero.spend-money.modified",
    ),
}
"""Kind -> (gateway kind, id field, Xero Type, cursor)."""
ID_CHUNK = 20
"""Bank transaction ids per `where` read (Xero caps the URL length)."""


def enabled(settings: Any) -> bool:
    """True when bills and spend money made in Xero come to Perfex."""
    return SWITCH.is_on(settings)


def link_key(kind: str, xero_id: str) -> str:
    """This entity's link key of a Xero document."""
    return f"{kind}:{xero_id.lower()}"


def run(ctx: StepContext) -> StepReport:
    """Pull the bills and spend money made in Xero into Perfex expenses."""
    report = StepReport(ENTITY)
    if not enabled(ctx.settings.raw):
        return report  # not targetable: a targeted run includes it only when asked
    puller = ExpensePuller(ctx, report)
    puller.settle_claims()
    for kind in (BILL, SPEND):
        gateway_kind, id_field, xero_type, name = KINDS[kind]
        cursor = None if ctx.full else read_cursor(ctx.session, name)
        newest, seen = cursor, set()
        pages = ctx.gateway.iter_pages(
            gateway_kind, modified_since=cursor, where=f'Type=="{xero_type}"'
        )
        for page in pages:
            for record in page:
                stamp = record.get("UpdatedDateUTC")
                if isinstance(stamp, datetime):
                    stamp = naive_utc(stamp)
                    newest = stamp if newest is None or stamp > newest else newest
                seen.add(str(record.get(id_field) or "").lower())
                puller.consider(kind, record)
            puller.flush()
        for record in puller.read_failed(kind, seen):
            puller.consider(kind, record)
        puller.flush()
        if not ctx.dry_run and newest is not None and newest != cursor:
            write_cursor(ctx.session, name, newest)
    return report


class ExpensePuller:
    """One run of the pull: its links, the push's links, the lookups, the log."""

    def __init__(self, ctx: StepContext, report: StepReport):
        """Load this entity's links and the expenses push's."""
        self.ctx = ctx
        self.report = report
        self.store = LinkStore(ctx.session, ENTITY)
        self.pushed = LinkStore(ctx.session, "expenses")
        self.ours = {
            str(link.xero_id).lower()
            for link in self.pushed.links.values()
            if link.xero_id and link.idempotency_key != PULLED_FROM_XERO
        }
        """Xero ids of the bank transactions the expenses push made."""
        self.logs: list[LogEntry] = []
        self._lookups: Lookups | None = None
        self._staff: int | None = None

    @property
    def lookups(self) -> Lookups:
        """The reverse mappings, read on first need."""
        if self._lookups is None:
            self._lookups = Lookups(self.ctx)
        return self._lookups

    # -- reading --------------------------------------------------------------

    def read_failed(self, kind: str, seen: set[str]) -> Iterator[dict[str, Any]]:
        """The documents of this kind whose mapping failed, not read this run."""
        prefix = f"{kind}:"
        ids = sorted(
            str(link.xero_id or key[len(prefix) :])
            for key, link in self.store.links.items()
            if key.startswith(prefix)
            and link.state == FAILED
            and key[len(prefix) :] not in seen
        )
        if not ids:
            return
        gateway_kind, id_field, _, _ = KINDS[kind]
        if kind == BILL:
            yield from self.ctx.gateway.read_all(gateway_kind, ids=ids)
            return
        for start in range(0, len(ids), ID_CHUNK):
            part = ids[start : start + ID_CHUNK]
            where = " OR ".join(f"{id_field}==Guid({quote(i)})" for i in part)
            yield from self.ctx.gateway.read_all(gateway_kind, where=where)

    def is_ours(self, kind: str, record: dict[str, Any], xero_id: str) -> bool:
        """True for a document the expenses push made (its link or line marker)."""
        if kind != SPEND:
            return False
        if xero_id.lower() in self.ours:
            return True
        lines = record.get("LineItems") or []
        return any(marked_expense(line.get("Description")) for line in lines)

    # -- deciding -------------------------------------------------------------

    def consider(self, kind: str, record: dict[str, Any]) -> None:
        """Pull, update, skip or fail one Xero document (or leave it alone)."""
        _, id_field, xero_type, _ = KINDS[kind]
        xero_id = str(record.get(id_field) or "")
        if not xero_id or record.get("Type") != xero_type:
            return
        if self.is_ours(kind, record, xero_id):
            return
        key = link_key(kind, xero_id)
        link = self.store.get(key)
        number = link.xero_number if link is not None else None
        perfex_id = int(number) if number and number.isdigit() else None
        if record.get("Status") not in LIVE[kind]:
            if perfex_id is not None:
                status = str(record.get("Status"))
                self.skip(key, xero_id, self.left_in_perfex(kind, status, perfex_id))
            elif link is not None and not self.ctx.dry_run:
                self.store.forget([key])
            return
        day = xero_day(record.get("Date"))
        since = self.ctx.date_from
        if perfex_id is None and since is not None and day is not None and day < since:
            return
        pulled = map_document(kind, record, xero_id, self.lookups)
        if pulled.skip is not None:
            self.skip(key, xero_id, pulled.skip)
        elif pulled.fail is not None:
            self.fail(key, xero_id, pulled.fail)
        elif pulled.expense is not None:
            self.write(kind, key, xero_id, perfex_id, pulled.expense)

    @staticmethod
    def left_in_perfex(kind: str, status: str, perfex_id: int) -> str:
        """Why a pulled expense stays when its Xero document is voided or deleted."""
        return (
            f"the {LABEL[kind]} is {status} in Xero; Perfex expense {perfex_id}"
            " pulled from it is kept (delete it in Perfex if it should go)"
        )

    def write(
        self,
        kind: str,
        key: str,
        xero_id: str,
        perfex_id: int | None,
        expense: NewExpense,
    ) -> None:
        """Insert the expense, or rewrite the one pulled before when it changed."""
        fields = expense_fields(expense)
        h = payload_hash(fields)
        link = self.store.get(key)
        if perfex_id is not None and link is not None and link.state == SYNCED:
            if link.payload_hash == h:
                self.report.unchanged += 1
                return
        action = "pull" if perfex_id is None else "pull-update"
        self.report.planned.append(
            PlannedAction(ENTITY, key, action, fields, describe(expense))
        )
        self.report.pulled += 1
        if self.ctx.dry_run:
            return
        if perfex_id is not None:
            if not expense_writes.update_expense(self.ctx.perfex, perfex_id, expense):
                self.report.pulled -= 1
                self.skip(key, xero_id, f"Perfex expense {perfex_id} was deleted")
                return
            self.settle(kind, key, xero_id, perfex_id, h, "updated from Xero")
            return
        self.store.mark_pending([(key, self.ctx.run_key)])
        if self._staff is None:
            self._staff = expense_writes.first_admin(self.ctx.perfex)
        new_id = expense_writes.insert_expense(
            self.ctx.perfex, expense, added_by=self._staff
        )
        self.settle(kind, key, xero_id, new_id, h, "pulled from Xero")

    def settle(
        self, kind: str, key: str, xero_id: str, perfex_id: int, h: str, text: str
    ) -> None:
        """Link the expense (the push skips it), then the document (claim settled)."""
        expense_key = str(perfex_id)
        self.pushed.mark_pending([(expense_key, PULLED_FROM_XERO)])
        self.pushed.record(
            [Outcome(expense_key, SYNCED, xero_id if kind == SPEND else None)]
        )
        self.store.record([Outcome(key, SYNCED, xero_id, str(perfex_id), h)])
        message = f"{text}: Xero {LABEL[kind]} {xero_id} -> Perfex expense {perfex_id}"
        self.logs.append(LogEntry(key, "pull", SYNCED, message, xero_id))

    def settle_claims(self) -> None:
        """Claims a killed run left: link the expense it inserted, or drop them."""
        claims = [k for k, link in self.store.links.items() if link.state == PENDING]
        if not claims or self.ctx.dry_run:
            return
        for key in claims:
            kind, _, xero_id = key.partition(":")
            found = expense_writes.find_tagged(self.ctx.perfex, xero_id)
            if found is None or kind not in KINDS:
                self.store.forget([key])
                continue
            link = self.store.links[key]
            link.payload_hash = None  # the next read rewrites it if it differs
            self.settle(kind, key, xero_id, found, "", "found after a crash")
        self.flush()

    # -- failures, skips and the log -----------------------------------------

    def fail(self, key: str, xero_id: str, reason: str) -> None:
        """A mapping is missing: failed with the reason (logged once per reason)."""
        self.report.failed += 1
        self.report.errors.append((key, reason))
        self.report.planned.append(PlannedAction(ENTITY, key, "fail", None, reason))
        link = self.store.get(key)
        if self.ctx.dry_run or (
            link is not None and link.state == FAILED and link.last_error == reason
        ):
            return
        self.store.record([Outcome(key, FAILED, xero_id, error=reason)])
        self.logs.append(LogEntry(key, "pull", FAILED, reason, xero_id))

    def skip(self, key: str, xero_id: str, reason: str) -> None:
        """Not an expense Perfex can hold: skipped with the reason (logged once)."""
        skip_once(self.ctx, self.store, self.report, self.logs, key, reason, xero_id)

    def flush(self) -> None:
        """Write the buffered log (not in a dry run)."""
        if self.logs and not self.ctx.dry_run:
            write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []
