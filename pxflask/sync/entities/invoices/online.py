"""After the invoices: online invoice URLs wanted, and (opt-in) Xero e-mails them.

Runs at the end of the invoice step, over what the run already knows of Xero's
invoices (the If-Modified-Since read and the write answers):

- Online URL: an approved (AUTHORISED or PAID) invoice without one is marked
  "wanted" in pxf_xero_documents, with no call; the online-links job reads the
  URLs later, outside the sync (online_urls.py), so the sync's calls stay as
  they were.
- E-mail (setting `xero_emails_invoices`, off by default): an invoice that Xero
  answered AUTHORISED to a write of this run is queued; queued invoices are
  e-mailed (POST /Invoices/{id}/Email, one call each). The state is committed
  before the call (sending) and after it (sent / refused), so a crash never
  leads to a second e-mail: a row left "sending" becomes "unknown", not resent.
  Sending stops while fewer than DAY_RESERVE calls of the day budget are left
  (the sync itself needs them), and says so; a dry run calls nothing, only plans.
"""

from __future__ import annotations

from typing import Any

from pxflask.models import utcnow
from pxflask.sync.context import PlannedAction, StepContext
from pxflask.sync.entities.invoices import SWITCH
from pxflask.sync.links import DELETED, VOIDED, LogEntry
from pxflask.sync.steps.base import Pusher
from pxflask.sync.steps.services import services
from pxflask.sync.xero_documents import (
    QUEUED,
    REFUSED,
    SEEN,
    SENDING,
    SENT,
    UNKNOWN,
    WANTED,
    mark,
    save,
    stored,
)
from pxflask.xero.errors import QuotaExhausted, RetriesExhausted, XeroRequestError

ENTITY = "invoices"
DAY_RESERVE = 25
"""Calls of the day budget kept for the sync itself: below this, nothing extra."""
APPROVED = ("AUTHORISED", "PAID")
SHARED = "invoices.approved"
"""ctx.shared: Xero ids of invoices a write of this run left AUTHORISED."""


def watch(ctx: StepContext, pusher: Pusher) -> None:
    """Note the invoices this run's writes made AUTHORISED (they were not before)."""
    approved: set[str] = ctx.shared.setdefault(SHARED, set())
    before = pusher.on_written

    def written(raw: dict[str, Any]) -> None:
        """Note an approval (not an edit of an approved one), then chain."""
        xero_id = str(raw.get("InvoiceID") or "")
        was = (services(ctx).invoices.known.get(xero_id) or {}).get("Status")
        if xero_id and raw.get("Status") == "AUTHORISED" and was not in APPROVED:
            approved.add(xero_id)
        if before is not None:
            before(raw)

    pusher.on_written = written


def emails_on(ctx: StepContext) -> bool:
    """True when the admin opted in to Xero e-mailing approved invoices."""
    return SWITCH.is_on(ctx.settings.raw)


def after_invoices(ctx: StepContext, pusher: Pusher) -> None:
    """Mark the online URLs wanted, then send the queued e-mails (opt-in)."""
    keys = {
        link.xero_id: key
        for key, link in pusher.store.links.items()
        if link.xero_id and link.state not in (VOIDED, DELETED)
    }
    if not keys:
        return
    _want_online_urls(ctx, keys)
    if emails_on(ctx):
        _emails(ctx, pusher, keys)


def _budget_low(ctx: StepContext) -> int | None:
    """The calls left when they are below DAY_RESERVE, else None."""
    left = ctx.gateway.day_calls_left()
    return left if left is not None and left < DAY_RESERVE else None


def _want_online_urls(ctx: StepContext, keys: dict[str, str]) -> None:
    """Approved invoices this run saw without a URL: wanted (no call)."""
    known = services(ctx).invoices.known
    approved = [x for x in keys if (known.get(x) or {}).get("Status") in APPROVED]
    if ctx.dry_run or not approved:
        return
    rows = stored(ctx.session, ENTITY, approved)
    fresh = [
        x for x in approved if x not in rows or rows[x].online_state in (None, SEEN)
    ]
    mark(ctx.session, fresh, WANTED)


def _emails(ctx: StepContext, pusher: Pusher, keys: dict[str, str]) -> None:
    """Queue this run's approvals; send every queued e-mail (once each)."""
    approved: set[str] = ctx.shared.get(SHARED, set())
    ours = [x for x in keys if x in approved]
    rows = stored(ctx.session, ENTITY, keys)
    if ctx.dry_run:
        for xero_id in keys:
            state = rows[xero_id].email_state if xero_id in rows else None
            if state == QUEUED or (state is None and xero_id in ours):
                pusher.report.planned.append(
                    PlannedAction(ENTITY, keys[xero_id], "email")
                )
        return
    for xero_id in ours:
        row = rows.get(xero_id)
        if row is None or row.email_state is None:
            save(ctx.session, ENTITY, xero_id, email_state=QUEUED)
    rows = stored(ctx.session, ENTITY, keys)
    for xero_id, row in rows.items():
        if row.email_state == SENDING:  # a crash during the call: never resend
            message = (
                "the run stopped while Xero was asked to e-mail it; it may have"
                " gone out and is not sent again (check in Xero)"
            )
            save(
                ctx.session, ENTITY, xero_id, email_state=UNKNOWN, email_message=message
            )
            pusher.logs.append(
                LogEntry(keys[xero_id], "email", "skipped", message, xero_id)
            )
    queued = [x for x, row in rows.items() if row.email_state == QUEUED]
    for index, xero_id in enumerate(queued):
        left = _budget_low(ctx)
        if left is not None:
            _budget_stop(pusher, len(queued) - index, left)
            return
        if not _send(ctx, pusher, keys[xero_id], xero_id):
            return


def _send(ctx: StepContext, pusher: Pusher, key: str, xero_id: str) -> bool:
    """E-mail one invoice; False when the run should stop sending."""
    save(ctx.session, ENTITY, xero_id, email_state=SENDING)
    try:
        ctx.gateway.email_invoice(xero_id)
    except XeroRequestError as exc:
        message = f"Xero did not e-mail the invoice: {exc.message}"
        save(ctx.session, ENTITY, xero_id, email_state=REFUSED, email_message=message)
        pusher.logs.append(LogEntry(key, "email", "skipped", message, xero_id))
        return True
    except QuotaExhausted as exc:
        save(ctx.session, ENTITY, xero_id, email_state=QUEUED)
        pusher.logs.append(LogEntry(None, "email", "skipped", str(exc)))
        return False
    except RetriesExhausted as exc:
        message = (
            f"Xero did not answer ({exc}); the e-mail may have gone out and is"
            " not sent again (check in Xero)"
        )
        save(ctx.session, ENTITY, xero_id, email_state=UNKNOWN, email_message=message)
        pusher.logs.append(LogEntry(key, "email", "skipped", message, xero_id))
        return True
    save(ctx.session, ENTITY, xero_id, email_state=SENT, emailed_at=utcnow())
    pusher.logs.append(LogEntry(key, "email", "ok", "Xero e-mailed it", xero_id))
    pusher.report.planned.append(PlannedAction(ENTITY, key, "email"))
    return True


def _budget_stop(pusher: Pusher, waiting: int, left: int) -> None:
    """Say that e-mails wait for the next day's budget."""
    message = (
        f"{waiting} invoice e-mail(s) not sent: only {left} call(s) of Xero's day"
        f" budget are left (kept for the sync); they are sent on a later run"
    )
    pusher.logs.append(LogEntry(None, "email", "skipped", message))
