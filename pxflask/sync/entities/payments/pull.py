"""Payments made or deleted in Xero -> Perfex: the pull half of `payments`.

Runs inside the payments step, after the push, when `payments_from_xero` is on.
One If-Modified-Since read of Xero Payments (cursor `xero.payments.modified`) finds:

- a payment typed into Xero on an ACCREC invoice pxflask linked, not made by
  pxflask (no payments link has its PaymentID): recorded in Perfex with the
  PaymentID as `transactionid`, the invoice status refreshed, and a payments link
  (synced, marked as pulled, the hash the push side computes) so it is never sent
  back. Only in the invoice's currency and never above what Perfex has due;
  otherwise skipped with the reason. Refunds of overpayments and prepayments
  (PaymentType AROVERPAYMENTPAYMENT / ARPREPAYMENTPAYMENT; real Xero names the
  credit under `Invoice`) are skipped with the reason too.
- an overpayment or prepayment allocated in Xero to a linked invoice: Xero counts
  it in the invoice's AmountCredited and never lists it in GET /Payments. Linked
  invoices this run read from Xero with AmountCredited > 0 and changed since the
  cursor `xero.invoice-credits.checked` are read in full (one call per 50) and each
  such credit is skipped with the reason (never recorded as a Perfex payment).
- a linked payment now DELETED in Xero: pulled ones are deleted in Perfex (status
  refreshed); pushed ones are locked with "deleted in Xero; Perfex still has it"
  and not sent again until the admin retries the record.

Crash safety: a claim link `xero:<PaymentID>` (pending, no Xero id) is committed
before the Perfex insert, the insert checks the invoice's rows by transaction id
in the same transaction, and `settle_claims` runs before every push, so a row
inserted by a killed worker is linked, never pushed back nor inserted twice. The
module's after_payment_added hook may start a run that settles the claim while the
pull still waits for the module's answer; the pull then adopts that run's link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from pxflask.models import Link, SyncRun
from pxflask.perfex import module_api, reads, writes
from pxflask.perfex.balances import Balance, invoice_balances
from pxflask.perfex.records import INVOICE_CANCELLED, INVOICE_DRAFT
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.entities.payments import PULL_DEFAULT, PULL_SETTING
from pxflask.sync.entities.payments.mapper import DEFAULT_KEY, map_payment
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    LOCKED,
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
from pxflask.sync.lockdates import as_date
from pxflask.sync.mappers.common import dec
from pxflask.sync.steps.services import services

ENTITY = "payments"
CURSOR = "xero.payments.modified"
CLAIM = "xero:"
"""Key prefix of a claim (or skip) link for a Xero payment not yet in Perfex."""
PULLED = "pulled-from-xero"
"""idempotency_key of a link whose Perfex row was recorded from Xero."""
DELETED_IN_XERO = "deleted in Xero; Perfex still has it (retry the record to resend)"
OUT_OF_SCOPE = {
    "AROVERPAYMENTPAYMENT": "overpayment refund",
    "ARPREPAYMENTPAYMENT": "prepayment refund",
}
CREDITS_CURSOR = "xero.invoice-credits.checked"
CREDIT_KINDS = (
    ("Overpayments", "OverpaymentID", "overpayment"),
    ("Prepayments", "PrepaymentID", "prepayment"),
)
"""Invoice arrays of customer credit applied in Xero: (key, id field, name)."""

AccountFor = Callable[[str | None, Mapping[str, str], Mapping[str, LinkRow]], Any]
"""The push side's account choice: (mode, settings, mode links) -> account code."""


def enabled(settings: Mapping[str, str]) -> bool:
    """True when payments made in Xero are pulled into Perfex."""
    value = (settings.get(PULL_SETTING) or PULL_DEFAULT).strip().lower()
    return value in ("yes", "on", "true", "1")


def claim_key(payment_id: str) -> str:
    """The link key of a Xero payment that has no Perfex row yet."""
    return CLAIM + payment_id.lower()


def _naive(stamp: datetime) -> datetime:
    """A naive UTC datetime."""
    if stamp.tzinfo is None:
        return stamp
    return stamp.astimezone(UTC).replace(tzinfo=None)


def _day(value: Any) -> date | None:
    """A Xero date (date, datetime or ISO text) as a date."""
    if isinstance(value, datetime):
        return _naive(value).date()
    return as_date(value)


def _note(record: Mapping[str, Any]) -> str:
    """The Perfex note of a payment recorded from Xero."""
    text = f"Recorded from Xero payment {record['PaymentID']}"
    reference = (record.get("Reference") or "").strip()
    return f"{text} (reference: {reference})" if reference else text


# -------------------------------------------------------------- before the push


def settle_claims(ctx: StepContext, account_for: AccountFor) -> int:
    """Link claims whose Perfex row exists (a worker died after inserting it)."""
    rows = ctx.session.execute(
        sa.select(Link.perfex_key).where(
            Link.entity == ENTITY,
            Link.state == PENDING,
            Link.perfex_key.like(CLAIM + "%"),
        )
    ).scalars()
    claims = [str(key)[len(CLAIM) :] for key in rows]
    if not claims or ctx.dry_run:
        return 0
    pay = ctx.perfex.tables.invoicepaymentrecords
    with ctx.perfex.engine.connect() as conn:
        found = conn.execute(
            sa.select(pay.c.id, pay.c.transactionid).where(
                pay.c.transactionid.in_(claims)
            )
        ).all()
    if not found:
        return 0
    puller = _Puller(ctx, StepReport(ENTITY), account_for)
    for perfex_id, payment_id in found:
        puller.finish_claim(int(perfex_id), str(payment_id), "found after a crash")
    puller.flush()
    return len(found)


def release_on_retry(ctx: StepContext, store: LinkStore) -> int:
    """On an admin's retry, unlock the asked payments locked as deleted in Xero."""
    keys = ctx.keys_of(ENTITY)
    if not keys or ctx.dry_run or ctx.run_id is None:
        return 0
    run = ctx.session.get(SyncRun, ctx.run_id)
    if run is None or run.trigger != "retry":
        return 0
    locked = [
        key
        for key in keys
        if (link := store.get(key)) is not None
        and link.state == LOCKED
        and link.last_error == DELETED_IN_XERO
    ]
    return store.release(locked) if locked else 0


# ---------------------------------------------------------------- the pull


def pull(ctx: StepContext, report: StepReport, account_for: AccountFor) -> None:
    """Read Xero payments changed since the cursor and bring them to Perfex."""
    if ctx.targeted or not enabled(ctx.settings.raw):
        return
    puller = _Puller(ctx, report, account_for)
    if not puller.invoices:
        return
    cursor = None if ctx.full else read_cursor(ctx.session, CURSOR)
    newest = cursor
    for page in ctx.gateway.iter_pages("payments", modified_since=cursor):
        for record in page:
            stamp = record.get("UpdatedDateUTC")
            if isinstance(stamp, datetime):
                naive = _naive(stamp)
                newest = naive if newest is None or naive > newest else newest
        puller.page(page)
        puller.flush()
    if not ctx.dry_run and newest is not None and newest != cursor:
        write_cursor(ctx.session, CURSOR, newest)
    puller.credits_applied()
    puller.flush()


@dataclass
class _Puller:
    """The pull of one run: links, Perfex balances, the buffered log."""

    ctx: StepContext
    report: StepReport
    account_for: AccountFor
    logs: list[LogEntry] = field(default_factory=list)
    _modes: dict[str, Any] | None = None
    _perfex_modes: list[Any] | None = None

    def __post_init__(self) -> None:
        """Load the payment links and the linked invoices."""
        self.store = LinkStore(self.ctx.session, ENTITY, autocommit=False)
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
        self.by_xero = {
            str(link.xero_id).lower(): link
            for link in self.store.links.values()
            if link.xero_id
        }

    # -- one page -------------------------------------------------------------

    def page(self, records: Iterable[dict[str, Any]]) -> None:
        """Decide every payment of one page; pull the new ones in date order."""
        candidates: list[tuple[dict[str, Any], int]] = []
        for record in records:
            payment_id = str(record.get("PaymentID") or "").lower()
            if not payment_id:
                continue
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
            when = _day(record.get("Date"))
            if when is None:
                self.skip(record, "the payment has no date")
                continue
            if self.ctx.date_from is not None and when < self.ctx.date_from:
                continue
            candidates.append((record, linked[0]))
        if not candidates:
            return
        balances = invoice_balances(self.ctx.perfex, {inv for _, inv in candidates})
        candidates.sort(key=lambda c: (_day(c[0].get("Date")), c[0]["PaymentID"]))
        for record, invoice_id in candidates:
            self.consider(record, invoice_id, balances)

    def consider(
        self, record: dict[str, Any], invoice_id: int, balances: dict[int, Balance]
    ) -> None:
        """Record one new Xero payment in Perfex, or skip it with the reason."""
        amount = dec(record.get("Amount") or 0)
        currency = str((record.get("Invoice") or {}).get("CurrencyCode") or "")
        balance = balances.get(invoice_id)
        reason = _refusal(invoice_id, amount, currency, balance)
        if reason is not None:
            self.skip(record, reason)
            return
        assert balance is not None  # noqa: S101 - _refusal checked it
        balances[invoice_id] = replace(balance, received=balance.received + amount)
        payment_id = str(record["PaymentID"])
        mode = self.mode_for(record.get("Account") or {})
        on = _day(record.get("Date"))
        assert on is not None  # noqa: S101 - page() checked it
        row = {
            "invoiceid": invoice_id,
            "amount": amount,
            "paymentmode": mode,
            "date": on.isoformat(),
            "transactionid": payment_id.lower(),
            "note": _note(record),
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
                note=row["note"],
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
        self.store.mark_pending([(key, PULLED)])
        self.store.record(
            [Outcome(key, SYNCED, payment_id, None, self.push_hash(payment, linked))]
        )
        self.store.forget([claim_key(payment_id)])
        self.by_xero[payment_id.lower()] = self.store.links[key]
        self.logs.append(
            LogEntry(
                key,
                "pull",
                SYNCED,
                note or f"recorded in Perfex from Xero payment {payment_id}",
                payment_id,
            )
        )
        self.ctx.session.commit()

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
            stamp = _naive(stamp)
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

    def deleted(self, link: LinkRow, record: dict[str, Any]) -> None:
        """A linked payment deleted in Xero: remove it in Perfex, or lock the link."""
        if link.state == LOCKED and link.last_error == DELETED_IN_XERO:
            self.report.unchanged += 1
            return
        if link.state not in (SYNCED, SKIPPED):
            return
        key, payment_id = link.perfex_key, str(record["PaymentID"])
        if link.idempotency_key == PULLED and key.isdigit():
            self.report.planned.append(
                PlannedAction(ENTITY, key, "delete-in-perfex", {"id": int(key)})
            )
            if self.ctx.dry_run:
                self.report.pulled += 1
                return
            try:
                writes.delete_payment(
                    self.ctx.perfex, int(key), transaction_id=payment_id.lower()
                )
            except writes.PaymentRefused:
                pass  # the row is no longer the pulled one: keep it, lock below
            else:
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
            PlannedAction(ENTITY, key, "blocked", None, DELETED_IN_XERO)
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

    # -- skips and modes ------------------------------------------------------

    def skip(self, record: dict[str, Any], reason: str, key: str | None = None) -> None:
        """Remember and log why a Xero payment is not recorded (once per reason)."""
        payment_id = str(record["PaymentID"])
        key = key or claim_key(payment_id)
        h = payload_hash({"skip": reason})
        link = self.store.get(key)
        if link is not None and link.state == SKIPPED and link.payload_hash == h:
            self.report.unchanged += 1
            return
        self.report.skipped += 1
        self.report.planned.append(PlannedAction(ENTITY, key, "skip", None, reason))
        if self.ctx.dry_run:
            return
        self.store.record([Outcome(key, SKIPPED, payload_hash=h, error=reason)])
        self.logs.append(LogEntry(key, "pull", SKIPPED, reason, payment_id))

    @property
    def mode_links(self) -> dict[str, LinkRow]:
        """Payment-mode links by Perfex mode id."""
        if self._modes is None:
            self._modes = dict(LinkStore(self.ctx.session, "payment-modes").links)
        return self._modes

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
        write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []


def _refusal(
    invoice_id: int, amount: Decimal, currency: str, balance: Balance | None
) -> str | None:
    """Why a Xero payment cannot be recorded on a Perfex invoice, or None."""
    if balance is None:
        return f"invoice {invoice_id} no longer exists in Perfex"
    if balance.status == INVOICE_DRAFT:
        return f"invoice {invoice_id} is a draft in Perfex"
    if balance.status == INVOICE_CANCELLED:
        return f"invoice {invoice_id} is cancelled in Perfex"
    if currency and balance.currency and currency != balance.currency:
        return (
            f"the payment is in {currency} but invoice {invoice_id} is in"
            f" {balance.currency} in Perfex"
        )
    if amount <= 0:
        return f"amount {amount} is not positive"
    if amount > balance.due:
        return (
            f"amount {amount} is above what is due in Perfex on invoice"
            f" {invoice_id} ({balance.due})"
        )
    return None


def mode_for_account(
    account: Mapping[str, Any],
    settings: Mapping[str, str],
    mode_links: Mapping[str, LinkRow],
    modes: Iterable[Any],
) -> str | None:
    """The Perfex payment mode for a Xero account.

    In order: a `payment_account.<mode id>` setting naming the account's code (then
    a gateway id's), the payment-mode link to the account, else the first active
    Perfex mode usable on invoices (Perfex's seed mode "Bank"); None when none.
    """
    code = str(account.get("Code") or "").strip()
    account_id = str(account.get("AccountID") or "").lower()
    if code:
        named = [
            key.split(".", 1)[1]
            for key, value in settings.items()
            if key.startswith("payment_account.")
            and key != DEFAULT_KEY
            and (value or "").strip() == code
        ]
        if named:
            return min(named, key=_mode_order)
    for mode in sorted(mode_links, key=_mode_order):
        link = mode_links[mode]
        if (account_id and str(link.xero_id or "").lower() == account_id) or (
            code and link.xero_number == code
        ):
            return mode
    usable = [m for m in modes if not getattr(m, "expenses_only", False)]
    return str(usable[0].id) if usable else None


def _mode_order(mode: str) -> tuple[bool, int, str]:
    """Mode ids first, in numeric order, then gateway ids by name."""
    return (not mode.isdigit(), int(mode) if mode.isdigit() else 0, mode)
