"""Deep links into Xero per entity: the path is the unit's `xero_link` fact."""

from __future__ import annotations

from collections.abc import Iterable

from pxflask.dbtypes import SessionLike
from pxflask.sync.registry import REGISTRY
from pxflask.sync.xero_documents import DocumentLinks, deep_link_for, links_for

QUOTE_LINK = "https://go.xero.com/app/{short}/quotes/view/{id}"
"""Quotes (estimates, until that entity has a unit), as Xero's MCP server builds."""


def path_of(entity: str) -> str | None:
    """The entity's deep-link path (its unit's `xero_link`), if any."""
    if entity in REGISTRY:
        return REGISTRY.get(entity).xero_link
    return QUOTE_LINK if entity == "estimates" else None


def deep_link(entity: str, short_code: str | None, xero_id: str | None) -> str | None:
    """The Xero deep link of one record, or None (no ShortCode, id or path)."""
    return deep_link_for(path_of(entity), short_code, xero_id)


def entity_links(
    session: SessionLike,
    entity: str,
    xero_ids: Iterable[str | None],
    short_code: str | None,
) -> dict[str, DocumentLinks]:
    """Deep link, online URL and e-mail state per Xero id of one entity."""
    return links_for(session, entity, xero_ids, short_code, path_of(entity))
