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
- a payment of an invoice the documents pull brought from Xero (which runs before
  this step): the documents pull names each payment the Xero invoice lists with a
  link `wanted:<PaymentID>`; those this pass did not see (older than the cursor, or
  made while this switch was off) are read by PaymentID (one call per 20) and
  decided as above; then the names are dropped.
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

import sqlalchemy as sa

from pxflask.models import Link, SyncRun
from pxflask.sync.context import StepContext, StepReport
from pxflask.sync.entities.payments.pull_rules import (
    CLAIM,
    CURSOR,
    DELETED_IN_XERO,
    ENTITY,
    AccountFor,
    enabled,
)
from pxflask.sync.entities.payments.puller import PaymentPuller
from pxflask.sync.links import LOCKED, PENDING, LinkStore
from pxflask.sync.steps.pulls import pull_pages

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
    puller = PaymentPuller(ctx, StepReport(ENTITY), account_for)
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
    puller = PaymentPuller(ctx, report, account_for)
    if not puller.invoices:
        return
    pull_pages(ctx, puller, CURSOR)
    puller.wanted_payments()
    puller.credits_applied()
    puller.flush()
