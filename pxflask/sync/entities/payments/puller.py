"""The payments pull of one run: decides each Xero payment, records, skips, deletes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from pxflask.perfex import module_api, reads, writes
from pxflask.perfex.balances import Balance, invoice_balances
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.payments.mapper import map_payment
from pxflask.sync.entities.payments.pull_rules import (
    CREDIT_KINDS,
    CREDITS_CURSOR,
    ENTITY,
    OUT_OF_SCOPE,
    WANTED,
    WANTED_CHUNK,
    AccountFor,
    claim_key,
    naive_utc,
    pulled_note,
    refusal,
    xero_day,
)
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    PENDING,
    LinkStore,
    Outcome,
    read_cursor,
    write_cursor,
)
from pxflask.sync.mappers.common import dec
from pxflask.sync.steps.base import quote
from pxflask.sync.steps.pulls import Puller
from pxflask.sync.steps.services import services


class PaymentPuller(Puller):
    """The pull of one run: links, Perfex balances, the buffered log."""

    def __init__(
        self, ctx: StepContext, report: StepReport, account_for: AccountFor
    ) -> None:
        """Load the payment links and the linked invoices."""
        super().__init__(ctx, report, ENTITY)
        self.account_for = account_for
        self.invoices: dict[str, tuple[int, str]] = {
            xero_id.lower(): (int(key), xero_id)
            for key, xero_id in LinkStore(self.ctx.session, "invoices")
            .synced_ids()
            .items()
            if key.isdigit()
        }
        """Xero invoice id (lower case) -> (Perfex invoice id, Xero id as linked)."""
        self.invoice_ids = dict(self.invoices.values())
        """Perfex invoice id -> its Xero id as the invoice link holds it."""
        self.seen: set[str] = set()
        """PaymentIDs (lower case) this run's pass read."""

    # -- one page -------------------------------------------------------------

    def page(self, records: Iterable[dict[str, Any]]) -> None:
        """Decide every payment of one page; pull the new ones in date order."""
        candidates: list[tuple[dict[str, Any], int]] = []
        for record in records:
            payment_id = str(record.get("PaymentID") or "").lower()
            if not payment_id:
                continue
            self.seen.add(payment_id)
            status = record.get("Status")
            link = self.by_xero.get(payment_id)
            if link is not None:
                if status == "DELETED":
                    self.deleted(link, record)
                continue
            if status == "DELETED":
                self.drop_claim(payment_id)
                continue
            kind = str(record.get("PaymentType") or "")
            if kind in OUT_OF_SCOPE:
                self.skip(record, f"{OUT_OF_SCOPE[kind]}s are not synced to Perfex")
                continue
            invoice = record.get("Invoice") or {}
            linked = self.invoices.get(str(invoice.get("InvoiceID") or "").lower())
            if linked is None:
                continue
            if kind and kind != "ACCRECPAYMENT":
                self.skip(record, f"{kind} payments are not synced to Perfex")
                continue
            when = xero_day(record.get("Date"))
            if when is None:
                self.skip(record, "the payment has no date")
                continue
            if self.ctx.date_from is not None and when < self.ctx.date_from:
                continue
            candidates.append((record, linked[0]))
        if not candidates:
            return
        balances = invoice_balances(self.ctx.perfex, {inv for _, inv in candidates})
        candidates.sort(key=lambda c: (xero_day(c[0].get("Date")), c[0]["PaymentID"]))
        for record, invoice_id in candidates:
            self.consider(record, invoice_id, balances)

    def consider(
        self, record: dict[str, Any], invoice_id: int, balances: dict[int, Balance]
    ) -> None:
        """Record one new Xero payment in Perfex, or skip it with the reason."""
        amount = dec(record.get("Amount") or 0)
        currency = str((record.get("Invoice") or {}).get("CurrencyCode") or "")
        balance = balances.get(invoice_id)
        reason = refusal(invoice_id, amount, currency, balance)
        if reason is not None:
            self.skip(record, reason)
            return
        assert balance is not None  # noqa: S101 - refusal checked it
        balances[invoice_id] = replace(balance, received=balance.received + amount)
        payment_id = str(record["PaymentID"])
        mode = self.mode_for(record.get("Account") or {})
        on = xero_day(record.get("Date"))
        assert on is not None  # noqa: S101 - page() checked it
        note = pulled_note(record)
        row = {
            "invoiceid": invoice_id,
            "amount": amount,
            "paymentmode": mode,
            "date": on.isoformat(),
            "transactionid": payment_id.lower(),
            "note": note,
        }
        self.report.planned.append(
            PlannedAction(ENTITY, claim_key(payment_id), "pull", row)
        )
        if self.ctx.dry_run:
            self.report.pulled += 1
            return
        key = claim_key(payment_id)
        self.store.record([Outcome(key, PENDING)])
        self.ctx.session.commit()
        try:
            perfex_id, _ = module_api.record_payment(
                self.ctx.perfex,
                invoice_id,
                amount,
                on,
                mode,
                transaction_id=payment_id.lower(),
                note=note,
            )
        except writes.PaymentRefused as exc:
            self.report.planned.pop()
            self.skip(record, str(exc))
            return
        self.finish_claim(perfex_id, payment_id, None)
        self.report.pulled += 1

    def finish_claim(self, perfex_id: int, payment_id: str, note: str | None) -> None:
        """Link a Perfex row recorded from Xero (synced, pulled) and drop the claim."""
        found = reads.read_payments(self.ctx.perfex, [perfex_id])
        if not found:
            return
        payment = found[0]
        linked = self.invoice_ids.get(payment.invoice_id)
        key = str(perfex_id)
        if self.linked_meanwhile(key, payment_id):
            return
        h = self.push_hash(payment, linked)
        self.link_pulled(key, payment_id, h, note, "payment")

    def linked_meanwhile(self, key: str, payment_id: str) -> bool:
        """True when another run linked the row first (the module's hook): adopt it.

        Perfex's payment model fires after_payment_added before the module answers, so
        a second worker (or `pxflask sync` beside the worker) may settle the claim of
        this very row while the pull waits; then its link stands and the claim is gone.
        """
        if self.store.get(key) is not None:
            return False
        fresh = LinkStore(self.ctx.session, ENTITY, keys=[key]).links.get(key)
        if fresh is None:
            return False
        self.store.links[key] = fresh
        self.store.links.pop(claim_key(payment_id), None)
        self.by_xero[payment_id.lower()] = fresh
        return True

    def push_hash(self, payment: Any, invoice_xero_id: str | None) -> str:
        """The payload hash the push side computes for this Perfex payment."""
        m = map_payment(
            payment,
            invoice_xero_id=invoice_xero_id,
            account_code=self.account_for(
                payment.mode, self.ctx.settings.raw, self.mode_links
            ),
        )
        if m.payload is None:
            return payload_hash({"skip": m.skip})
        return payload_hash(m.payload)

    # -- payments of invoices pulled from Xero ---------------------------------

    def wanted_payments(self) -> None:
        """Read by id the payments of pulled invoices the pass did not see; decide."""
        markers = [key for key in self.store.links if key.startswith(WANTED)]
        if not markers:
            return
        ids = {key[len(WANTED) :] for key in markers}
        unseen = sorted(ids - self.seen - set(self.by_xero))
        for start in range(0, len(unseen), WANTED_CHUNK):
            chunk = unseen[start : start + WANTED_CHUNK]
            where = " OR ".join(f"PaymentID==Guid({quote(i)})" for i in chunk)
            self.page(self.ctx.gateway.read_all("payments", where=where))
            self.flush()
        if not self.ctx.dry_run:
            self.store.forget(markers)
            self.ctx.session.commit()

    # -- credit applied in Xero ----------------------------------------------

    def credits_applied(self) -> None:
        """Skip with the reason overpayments/prepayments applied to linked invoices."""
        cursor = (
            None if self.ctx.full else read_cursor(self.ctx.session, CREDITS_CURSOR)
        )
        newest, wanted = cursor, []
        for xero_id, invoice in services(self.ctx).invoices.known.items():
            stamp = invoice.get("UpdatedDateUTC")
            if not isinstance(stamp, datetime) or xero_id.lower() not in self.invoices:
                continue
            stamp = naive_utc(stamp)
            if cursor is not None and stamp <= cursor:
                continue
            newest = stamp if newest is None or stamp > newest else newest
            if dec(invoice.get("AmountCredited") or 0) > 0:
                wanted.append(xero_id)
        if self.ctx.dry_run:
            return
        if wanted:
            for record in self.ctx.gateway.read_all("invoices", ids=wanted):
                self.credit_skips(record)
        if newest is not None and newest != cursor:
            write_cursor(self.ctx.session, CREDITS_CURSOR, newest)

    def credit_skips(self, invoice: dict[str, Any]) -> None:
        """One skip per overpayment/prepayment applied to a linked Xero invoice."""
        linked = self.invoices.get(str(invoice.get("InvoiceID") or "").lower())
        if linked is None:
            return
        for key, id_field, kind in CREDIT_KINDS:
            applied: dict[str, Decimal] = {}
            for entry in invoice.get(key) or []:
                credit_id = str(entry.get(id_field) or "")
                if credit_id:
                    amount = dec(entry.get("AppliedAmount") or 0)
                    applied[credit_id] = applied.get(credit_id, Decimal(0)) + amount
            for credit_id, amount in applied.items():
                reason = (
                    f"{kind} {credit_id} applied in Xero to invoice {linked[0]}"
                    f" ({amount}): Xero credit, not a payment; not recorded in Perfex"
                )
                self.skip(
                    {"PaymentID": credit_id},
                    reason,
                    claim_key(f"{credit_id}:{linked[1]}"),
                )

    # -- deletions in Xero ----------------------------------------------------

    def remove_pulled(self, perfex_id: int, payment_id: str) -> bool:
        """Delete the Perfex payment pulled from this Xero payment (its status too)."""
        try:
            writes.delete_payment(
                self.ctx.perfex, perfex_id, transaction_id=payment_id.lower()
            )
        except writes.PaymentRefused:
            return False  # the row is no longer the pulled one: keep it
        return True
