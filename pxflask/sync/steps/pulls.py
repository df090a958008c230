"""The pull machinery shared by the Xero -> Perfex halves of payment-like entities.

Payments and credit-note refunds made in Xero come back to Perfex the same way:
one If-Modified-Since read of Xero Payments per run (`pull_pages`), a claim link
`xero:<PaymentID>` before the Perfex write, a link marked as pulled after it, a
skip remembered once per reason, and a linked payment DELETED in Xero removed
from Perfex when it was pulled or locked when pxflask sent it (`Puller`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pxflask.perfex import reads
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.links import (
    LOCKED,
    PULLED_FROM_XERO,
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
from pxflask.sync.mappers.pulled import (
    claim_key,
    mode_for_account,
    naive_utc,
)
from pxflask.sync.steps.pull_skips import skip_once

DELETED_IN_XERO = "deleted in Xero; Perfex still has it (retry the record to resend)"


class Puller:
    """The pull of one run for one entity: its links, the buffered log."""

    def __init__(self, ctx: StepContext, report: StepReport, entity: str) -> None:
        """Load the entity's links (committed by flush, not one by one)."""
        self.ctx = ctx
        self.report = report
        self.entity = entity
        self.logs: list[LogEntry] = []
        self.store = LinkStore(ctx.session, entity, autocommit=False)
        self.by_xero = {
            str(link.xero_id).lower(): link
            for link in self.store.links.values()
            if link.xero_id
        }
        self._mode_links: dict[str, LinkRow] | None = None
        self._perfex_modes: list[Any] | None = None

    def page(self, records: Iterable[dict[str, Any]]) -> None:
        """Decide every Xero payment of one page."""
        raise NotImplementedError

    def remove_pulled(self, perfex_id: int, payment_id: str) -> bool:
        """Delete a row pulled from this Xero payment; False: not that row now."""
        raise NotImplementedError

    def link_pulled(
        self, key: str, payment_id: str, h: str, note: str | None, what: str
    ) -> None:
        """Link a Perfex row recorded from Xero (synced, pulled); drop the claim."""
        self.store.mark_pending([(key, PULLED_FROM_XERO)])
        self.store.record([Outcome(key, SYNCED, payment_id, None, h)])
        self.store.forget([claim_key(payment_id)])
        self.by_xero[payment_id.lower()] = self.store.links[key]
        self.logs.append(
            LogEntry(
                key,
                "pull",
                SYNCED,
                note or f"recorded in Perfex from Xero {what} {payment_id}",
                payment_id,
            )
        )
        self.ctx.session.commit()

    def deleted(self, link: LinkRow, record: dict[str, Any]) -> None:
        """A linked payment deleted in Xero: remove it in Perfex, or lock the link."""
        if link.state == LOCKED and link.last_error == DELETED_IN_XERO:
            self.report.unchanged += 1
            return
        if link.state not in (SYNCED, SKIPPED):
            return
        key, payment_id = link.perfex_key, str(record["PaymentID"])
        if link.idempotency_key == PULLED_FROM_XERO and key.isdigit():
            self.report.planned.append(
                PlannedAction(self.entity, key, "delete-in-perfex", {"id": int(key)})
            )
            if self.ctx.dry_run:
                self.report.pulled += 1
                return
            if self.remove_pulled(int(key), payment_id):
                self.store.forget([key])
                self.by_xero.pop(payment_id.lower(), None)
                self.logs.append(
                    LogEntry(
                        key,
                        "pull-delete",
                        "deleted",
                        "deleted in Xero: removed from Perfex",
                        payment_id,
                    )
                )
                self.report.pulled += 1
                self.ctx.session.commit()
                return
        self.report.blocked += 1
        self.report.planned.append(
            PlannedAction(self.entity, key, "blocked", None, DELETED_IN_XERO)
        )
        if self.ctx.dry_run:
            return
        self.store.record([Outcome(key, LOCKED, error=DELETED_IN_XERO)])
        self.logs.append(LogEntry(key, "inbound", LOCKED, DELETED_IN_XERO, payment_id))

    def drop_claim(self, payment_id: str) -> None:
        """A Xero payment deleted before its pull finished: forget its claim."""
        link = self.store.get(claim_key(payment_id))
        if link is None or self.ctx.dry_run:
            return
        self.store.forget([link.perfex_key])
        self.ctx.session.commit()

    def skip(self, record: dict[str, Any], reason: str, key: str | None = None) -> None:
        """Remember and log why a Xero payment is not recorded (once per reason)."""
        payment_id = str(record["PaymentID"])
        key = key or claim_key(payment_id)
        skip_once(self.ctx, self.store, self.report, self.logs, key, reason, payment_id)

    @property
    def mode_links(self) -> dict[str, LinkRow]:
        """Payment-mode links by Perfex mode id."""
        if self._mode_links is None:
            self._mode_links = dict(LinkStore(self.ctx.session, "payment-modes").links)
        return self._mode_links

    def mode_for(self, account: Mapping[str, Any]) -> str | None:
        """The Perfex payment mode of a Xero bank account (see mode_for_account)."""
        if self._perfex_modes is None:
            self._perfex_modes = reads.read_payment_modes(
                self.ctx.perfex, active_only=True
            )
        return mode_for_account(
            account, self.ctx.settings.raw, self.mode_links, self._perfex_modes
        )

    def flush(self) -> None:
        """Commit the links and write the buffered log (not in a dry run)."""
        if self.ctx.dry_run:
            self.logs = []
            return
        write_log(self.ctx.session, self.entity, self.logs, run_id=self.ctx.run_id)
        self.logs = []


def pull_pages(ctx: StepContext, puller: Puller, cursor_name: str) -> None:
    """Hand the puller every Xero payment changed since its cursor, page by page."""
    cursor = None if ctx.full else read_cursor(ctx.session, cursor_name)
    newest = cursor
    for page in ctx.gateway.iter_pages("payments", modified_since=cursor):
        for record in page:
            stamp = record.get("UpdatedDateUTC")
            if isinstance(stamp, datetime):
                naive = naive_utc(stamp)
                newest = naive if newest is None or naive > newest else newest
        puller.page(page)
        puller.flush()
    if not ctx.dry_run and newest is not None and newest != cursor:
        write_cursor(ctx.session, cursor_name, newest)
