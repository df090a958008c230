"""The gateway's reads: paged collections, ids in chunks, If-Modified-Since."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from pxflask.xero import payloads

IDS_PER_REQUEST = 50
MAX_PAGE_SIZE = 1000
FIXED_PAGE_SIZE = 100
"""Records per page of the collections that take no pageSize (Quotes)."""


class GatewayReads:
    """XeroGateway's reads (mixed in; they go through its `call`)."""

    call: Callable[..., Any]

    def iter_pages(
        self,
        kind: str,
        *,
        modified_since: datetime | date | None = None,
        where: str | None = None,
        order: str | None = None,
        ids: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        summary_only: bool = False,
        page_size: int = MAX_PAGE_SIZE,
        unitdp: int | None = None,
        include_archived: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the elements of a collection page by page (plain dicts)."""
        spec = payloads.entity(kind)
        if spec.get is None:
            raise ValueError(f"{kind} cannot be read")
        query: dict[str, Any] = {}
        if modified_since is not None and spec.modified_since:
            query["if_modified_since"] = _modified_since(modified_since)
        if where:
            query["where"] = where
        if order:
            query["order"] = order
        if statuses and spec.statuses:
            query["statuses"] = list(statuses)
        if summary_only and spec.summary_only:
            query["summary_only"] = True
        if unitdp is not None and spec.unitdp:
            query["unitdp"] = unitdp
        if include_archived and kind in ("contacts", "invoices"):
            query["include_archived"] = True
        if ids is not None:
            if not spec.ids:
                raise ValueError(f"{kind} cannot be filtered by ids")
            id_list = list(ids)
            for start in range(0, len(id_list), IDS_PER_REQUEST):
                chunk = {"i_ds": id_list[start : start + IDS_PER_REQUEST]}
                yield from self._pages(spec, {**query, **chunk}, page_size)
            return
        yield from self._pages(spec, query, page_size)

    def _pages(
        self, spec: payloads.EntitySpec, query: dict[str, Any], page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Page through one query."""
        if not spec.paged:
            data = self.call(spec.get, **query)
            items = [payloads.from_model(x) for x in getattr(data, spec.attr) or []]
            if items:
                yield items
            return
        page_size = max(1, min(MAX_PAGE_SIZE, page_size))
        sizing = {"page_size": page_size}
        if not spec.sized:
            page_size, sizing = FIXED_PAGE_SIZE, {}
        page = 1
        while True:
            data = self.call(spec.get, page=page, **sizing, **query)
            raw = getattr(data, spec.attr) or []
            if raw:
                yield [payloads.from_model(x) for x in raw]
            pagination = getattr(data, "pagination", None)
            page_count = getattr(pagination, "page_count", None)
            if len(raw) < page_size or (page_count is not None and page >= page_count):
                return
            page += 1

    def read_all(self, kind: str, **query: Any) -> list[dict[str, Any]]:
        """Every element of iter_pages() in one list."""
        return [item for page in self.iter_pages(kind, **query) for item in page]

    def get_organisation(self) -> dict[str, Any]:
        """The connected organisation (name, base currency, country, ...)."""
        data = self.call("get_organisations")
        orgs = getattr(data, "organisations", None) or []
        return payloads.from_model(orgs[0]) if orgs else {}


def _modified_since(value: datetime | date) -> str:
    """If-Modified-Since as RFC 3339 UTC, floored to the second (never misses)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"
