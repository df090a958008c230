"""The online-links job's work: read the online invoice URLs the sync marked wanted.

Outside the sync (jobs/tasks.py runs it after a sync that left some wanted), so a
sync's calls per document do not grow: one GET /Invoices/{id}/OnlineInvoice per
approved invoice, once, at most ONLINE_PER_RUN a job (jobs a minute apart), and
never into the half of the day budget kept for syncing. Invoices linked before
this feature have no row: their status is read 50 a call (summary), within the
same cap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import and_, select

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, XeroDocumentLink, utcnow
from pxflask.sync.context import Gateway
from pxflask.sync.links import DELETED, VOIDED
from pxflask.sync.xero_documents import NONE, READ, SEEN, WANTED, mark, save
from pxflask.xero.errors import QuotaExhausted, RetriesExhausted, XeroRequestError

ENTITY = "invoices"
ONLINE_PER_RUN = 10
"""Online URL reads per job at most: a sixth of Xero's 60 calls a minute (a
backfill spreads over jobs a minute apart, jobs/online_links.py)."""
APPROVED = ("AUTHORISED", "PAID")


@dataclass
class OnlineReport:
    """What one job did."""

    read: int = 0
    none: int = 0
    looked_up: int = 0
    stopped: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The report as the job's result."""
        return asdict(self)


def reserve(gateway: Gateway) -> int:
    """Calls of the day budget this job never uses: half of it (the sync's)."""
    return max(25, gateway.day_budget() // 2)


def _wanted(session: SessionLike, limit: int) -> list[str]:
    """Xero ids marked wanted, oldest first."""
    return list(
        session.scalars(
            select(XeroDocumentLink.xero_id)
            .where(
                XeroDocumentLink.entity == ENTITY,
                XeroDocumentLink.online_state == WANTED,
            )
            .order_by(XeroDocumentLink.updated_at, XeroDocumentLink.id)
            .limit(limit)
        )
    )


def _never_looked_at(session: SessionLike, limit: int) -> list[str]:
    """Linked invoices with no row yet (linked before this feature)."""
    joined = and_(
        XeroDocumentLink.entity == ENTITY, XeroDocumentLink.xero_id == Link.xero_id
    )
    return list(
        session.scalars(
            select(Link.xero_id)
            .outerjoin(XeroDocumentLink, joined)
            .where(
                Link.entity == ENTITY,
                Link.xero_id.is_not(None),
                Link.state.not_in((VOIDED, DELETED)),
                XeroDocumentLink.id.is_(None),
            )
            .order_by(Link.id.desc())
            .limit(limit)
        )
    )


def pending(session: SessionLike) -> bool:
    """True when a URL is wanted or an invoice was never looked at (no call)."""
    return bool(_wanted(session, 1) or _never_looked_at(session, 1))


def fetch_online_urls(
    session: SessionLike, gateway: Gateway, limit: int = ONLINE_PER_RUN
) -> OnlineReport:
    """Read up to `limit` wanted URLs (and look up unseen invoices first)."""
    report = OnlineReport()
    keep = reserve(gateway)

    def budget_ok() -> bool:
        left = gateway.day_calls_left()
        if left is not None and left <= keep:
            report.stopped = (
                f"{left} call(s) of Xero's day budget left: the rest is kept for"
                " syncing; online invoice links are read on a later day"
            )
            return False
        return True

    wanted = _wanted(session, limit)
    unseen = _never_looked_at(session, limit - len(wanted))
    try:
        if unseen and budget_ok():
            found = gateway.read_all("invoices", ids=unseen, summary_only=True)
            report.looked_up = len(unseen)
            status = {str(r.get("InvoiceID")): r.get("Status") for r in found}
            approved = [x for x in unseen if status.get(x) in APPROVED]
            mark(session, approved, WANTED)
            mark(session, [x for x in unseen if x not in approved], SEEN)
            wanted += approved
        for xero_id in wanted[:limit]:
            if not budget_ok():
                break
            try:
                url = gateway.get_online_invoice(xero_id)
            except XeroRequestError:
                url = None
            state = READ if url else NONE
            report.read += state == READ
            report.none += state == NONE
            save(
                session,
                ENTITY,
                xero_id,
                online_url=url,
                online_state=state,
                online_checked_at=utcnow(),
            )
    except (RetriesExhausted, QuotaExhausted) as exc:
        report.stopped = str(exc)
    return report
