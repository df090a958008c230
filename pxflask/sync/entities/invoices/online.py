"""After the invoices: online invoice URLs, and (opt-in) Xero e-mails the invoice.

Runs at the end of the invoice step, over what the run already knows of Xero's
invoices (the If-Modified-Since read and the write answers), so it makes no read
of its own:

- Online URL: one GET /Invoices/{id}/OnlineInvoice per approved (AUTHORISED or
  PAID) invoice that has none stored, at most ONLINE_PER_RUN a run; kept in
  pxf_xero_documents and never read again (a refusal is remembered too).
- E-mail (setting `xero_emails_invoices`, off by default): an invoice that Xero
  answered AUTHORISED to a write of this run is queued; queued invoices are
  e-mailed (POST /Invoices/{id}/Email, one call each). The state is committed
  before the call (sending) and after it (sent / refused), so a crash never
  leads to a second e-mail: a row left "sending" becomes "unknown", not resent.

Both stop while fewer than DAY_RESERVE calls of the day budget are left (the
sync itself needs them), and say so; a dry run calls nothing and only plans.
"""

from __future__ import annotations

from typing import Any

from pxflask.models import utcnow
from pxflask.sync.context import PlannedAction, StepContext
from pxflask.sync.entities.invoices import EMAIL_SETTING
from pxflask.sync.links import DELETED, VOIDED, LogEntry
from pxflask.sync.steps.base import Pusher
from pxflask.sync.steps.services import services
from pxflask.sync.xero_documents import (
    QUEUED,
    REFUSED,
    SENDING,
    SENT,
    UNKNOWN,
    save,
    stored,
)
from pxflask.xero.errors import QuotaExhausted, RetriesExhausted, XeroRequestError

ENTITY = "invoices"
ONLINE_PER_RUN = 50
"""Online URLs read per run at most (a backfill spreads over several runs)."""
DAY_RESERVE = 25
"""Calls of the day budget kept for the sync itself: below this, nothing extra."""
APPROVED = ("AUTHORISED", "PAID")
SHARED = "invoices.approved"
"""ctx.shared: Xero ids of invoices a write of this run left AUTHORISED."""


def watch(ctx: StepContext, pusher: Pusher) -> None:
    """Note the invoices Xero answered AUTHORISED to this run's writes."""
    approved: set[str] = ctx.shared.setdefault(SHARED, set())
    before = pusher.on_written

    def written(raw: dict[str, Any]) -> None:
        """Chain the step's callback, then note an approval."""
        if before is not None:
            before(raw)
        if raw.get("Status") == "AUTHORISED" and raw.get("InvoiceID"):
            approved.add(str(raw["InvoiceID"]))

    pusher.on_written = written


def emails_on(ctx: StepContext) -> bool:
    """True when the admin opted in to Xero e-mailing approved invoices."""
    return (ctx.settings.raw.get(EMAIL_SETTING) or "no") == "yes"


def after_invoices(ctx: StepContext, pusher: Pusher) -> None:
    """Fetch missing online URLs, then send the queued e-mails (opt-in)."""
    keys = {
        link.xero_id: key
        for key, link in pusher.store.links.items()
        if link.xero_id and link.state not in (VOIDED, DELETED)
    }
    if not keys:
        return
    _online_urls(ctx, pusher, keys)
    if emails_on(ctx):
        _emails(ctx, pusher, keys)


def _budget_low(ctx: StepContext) -> int | None:
    """The calls left when they are below DAY_RESERVE, else None."""
    left = ctx.gateway.day_calls_left()
    return left if left is not None and left < DAY_RESERVE else None


def _to_fetch(ctx: StepContext, keys: dict[str, str]) -> list[str]:
    """Approved invoices without a URL read yet, at most ONLINE_PER_RUN.

    The run's known states come first; links never looked at (made before this
    feature) get their status read, 50 per call, within the same cap; those not
    approved are marked seen, and fetched once a later run sees them approved.
    """
    states = services(ctx).invoices
    rows = stored(ctx.session, ENTITY, keys)

    def status(xero_id: str) -> Any:
        return (states.known.get(xero_id) or {}).get("Status")

    wanted = [
        x
        for x in keys
        if status(x) in APPROVED and (x not in rows or not rows[x].online_checked_at)
    ][:ONLINE_PER_RUN]
    room = ONLINE_PER_RUN - len(wanted)
    unseen = [x for x in keys if x not in rows and status(x) is None][:room]
    if unseen and not ctx.dry_run and _budget_low(ctx) is None:
        try:
            states.current(unseen)
        except (RetriesExhausted, QuotaExhausted):
            return wanted
        for xero_id in unseen:
            if status(xero_id) in APPROVED:
                wanted.append(xero_id)
            else:
                save(ctx.session, ENTITY, xero_id, online_checked_at=None)
    return wanted


def _online_urls(ctx: StepContext, pusher: Pusher, keys: dict[str, str]) -> None:
    """One read per approved invoice without a stored URL (capped per run)."""
    for xero_id in _to_fetch(ctx, keys):
        key = keys[xero_id]
        if ctx.dry_run:
            pusher.report.planned.append(PlannedAction(ENTITY, key, "online-url"))
            continue
        if _budget_low(ctx) is not None:
            return
        try:
            url = ctx.gateway.get_online_invoice(xero_id)
        except XeroRequestError as exc:
            url = None
            message = f"Xero gave no online invoice link: {exc.message}"
            pusher.logs.append(LogEntry(key, "online-url", "skipped", message, xero_id))
        except (RetriesExhausted, QuotaExhausted):
            return  # the next run reads it
        save(ctx.session, ENTITY, xero_id, online_url=url, online_checked_at=utcnow())


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
