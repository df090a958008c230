"""The panel's links back to Xero: per record page and per log row (no Flask).

Deep links are computed from the ShortCode the last sync kept; online invoice
URLs come from pxf_xero_documents. Only https URLs on Xero's hosts come out
(pxflask.sync.xero_documents.safe_xero_url), so a template can show them as links.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, SyncLog
from pxflask.sync.deep_links import entity_links
from pxflask.sync.organisation import cached_short_code
from pxflask.sync.xero_documents import DocumentLinks

__all__ = ["DocumentLinks", "for_log", "for_record", "for_perfex_record"]


def for_record(
    session: SessionLike, entity: str, xero_id: str | None
) -> DocumentLinks | None:
    """The links of one linked record (None without a Xero id or any link)."""
    if not xero_id:
        return None
    found = entity_links(session, entity, [xero_id], cached_short_code(session))
    links = found.get(xero_id)
    if links is None or not (links.deep_link or links.online_url):
        return None
    return links


def for_perfex_record(
    session: SessionLike, entity: str, perfex_key: str
) -> DocumentLinks | None:
    """The links of a Perfex record through its sync link (the module's API)."""
    xero_id = session.scalar(
        select(Link.xero_id).where(Link.entity == entity, Link.perfex_key == perfex_key)
    )
    return for_record(session, entity, xero_id)


def for_log(session: SessionLike, rows: Iterable[SyncLog]) -> dict[int, DocumentLinks]:
    """The links of each log row with a Xero id, by log row id (a query an entity)."""
    by_entity: dict[str, list[SyncLog]] = defaultdict(list)
    for row in rows:
        if row.xero_id:
            by_entity[row.entity].append(row)
    if not by_entity:
        return {}
    short = cached_short_code(session)
    out: dict[int, DocumentLinks] = {}
    for entity, entity_rows in by_entity.items():
        found = entity_links(session, entity, [r.xero_id for r in entity_rows], short)
        for row in entity_rows:
            links = found.get(row.xero_id or "")
            if links is not None and (links.deep_link or links.online_url):
                out[row.id] = links
    return out
