"""Links back to Xero: deep links (computed) and online invoice URLs (stored).

A deep link opens a record inside the right Xero organisation; it is built from
the organisation's ShortCode (GET /Organisation, kept as a cursor row) and the
record's Xero id, without a call. Xero's documented form is
`https://go.xero.com/organisationlogin/default.aspx?shortcode=<ShortCode>&redirecturl=<path>`
with one path per kind of record (README, "Links to Xero", says which are
documented by Xero and which are assumed).

The online invoice URL (`https://in.xero.com/...`) is what the customer sees; it
is read from Xero once per invoice and kept in `pxf_xero_documents`, beside
whether pxflask asked Xero to e-mail the invoice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import insert, select, update

from pxflask.dbtypes import SessionLike, rowcount
from pxflask.models import XeroDocumentLink, utcnow

DEEP_LINK_BASE = "https://go.xero.com/organisationlogin/default.aspx"
XERO_HOSTS = frozenset({"go.xero.com", "in.xero.com"})
"""Hosts whose https URLs the panel and the Perfex module show as links."""
SHORT_CODE = re.compile(r"^![A-Za-z0-9_-]{1,20}$")
XERO_ID = re.compile(r"^[0-9a-fA-F-]{32,36}$")

WANTED = "wanted"
READ = "read"
NONE = "none"
SEEN = "seen"
"""Online URL states: WANTED (approved, to read), READ, NONE (Xero gave none),
SEEN (looked at while not approved; WANTED once a run sees it approved)."""
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
REFUSED = "refused"
UNKNOWN = "unknown"
"""E-mail states: QUEUED once pxflask approved the invoice; SENDING is written
before the call; a crash leaves it, and the next run turns it into UNKNOWN
(never sent again: "never twice"); SENT or REFUSED after Xero's answer."""


def deep_link_for(
    path: str | None, short_code: str | None, xero_id: str | None
) -> str | None:
    """The Xero deep link of one record from its unit's path (None: no link)."""
    if not path or not short_code or not xero_id:
        return None
    if not SHORT_CODE.match(short_code) or not XERO_ID.match(xero_id):
        return None
    if path.startswith("https://"):
        return path.format(short=short_code, id=xero_id)
    redirect = path.format(id=xero_id)
    return f"{DEEP_LINK_BASE}?shortcode={short_code}&redirecturl={redirect}"


def safe_xero_url(url: str | None) -> str | None:
    """The URL when it is https on one of Xero's hosts (else None: not a link)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme != "https" or parts.hostname not in XERO_HOSTS:
        return None
    if parts.username or parts.password or parts.port:
        return None
    return url.strip()


@dataclass(frozen=True)
class DocumentLinks:
    """What the panel and the module show for one linked record."""

    deep_link: str | None = None
    online_url: str | None = None
    email_state: str | None = None
    email_message: str | None = None


def stored(
    session: SessionLike, entity: str, xero_ids: Iterable[str]
) -> dict[str, XeroDocumentLink]:
    """The stored rows of some Xero ids (one query per 500 ids)."""
    ids = sorted({i for i in xero_ids if i})
    found: dict[str, XeroDocumentLink] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.scalars(
            select(XeroDocumentLink)
            .where(
                XeroDocumentLink.entity == entity, XeroDocumentLink.xero_id.in_(chunk)
            )
            .execution_options(populate_existing=True)
        )
        found.update({row.xero_id: row for row in rows})
    return found


def links_for(
    session: SessionLike,
    entity: str,
    xero_ids: Iterable[str | None],
    short_code: str | None,
    path: str | None,
) -> dict[str, DocumentLinks]:
    """Deep link, online URL (only a safe one) and e-mail state per Xero id."""
    ids = [i for i in xero_ids if i]
    rows = stored(session, entity, ids)
    out: dict[str, DocumentLinks] = {}
    for xero_id in ids:
        row = rows.get(xero_id)
        out[xero_id] = DocumentLinks(
            deep_link_for(path, short_code, xero_id),
            safe_xero_url(row.online_url) if row else None,
            row.email_state if row else None,
            row.email_message if row else None,
        )
    return out


def save(session: SessionLike, entity: str, xero_id: str, **values: object) -> None:
    """Insert or update one document's row, then commit (crash-safe states)."""
    values = {**values, "updated_at": utcnow()}
    done = session.execute(
        update(XeroDocumentLink)
        .where(XeroDocumentLink.entity == entity, XeroDocumentLink.xero_id == xero_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not rowcount(done):
        session.execute(
            insert(XeroDocumentLink).values(entity=entity, xero_id=xero_id, **values)
        )
    session.commit()


def mark(
    session: SessionLike, xero_ids: Iterable[str], online_state: str, entity: str = ""
) -> None:
    """Set the online URL state of many invoices in one transaction."""
    entity = entity or "invoices"
    ids = sorted(set(xero_ids))
    if not ids:
        return
    rows = stored(session, entity, ids)
    now = utcnow()
    for xero_id in ids:
        if xero_id in rows:
            rows[xero_id].online_state = online_state
            rows[xero_id].updated_at = now
        else:
            session.add(
                XeroDocumentLink(
                    entity=entity,
                    xero_id=xero_id,
                    online_state=online_state,
                    updated_at=now,
                )
            )
    session.commit()
