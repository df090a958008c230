"""Batch writes with summarizeErrors, and list reads with filters and paging."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ..serialize import loads
from .common import BadRequest, Ctx, Invalid, Resource
from .query import (
    QueryError,
    apply_order,
    apply_where,
    csv_values,
    modified_since,
)

MAX_IDS = 50
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class TooManyIds(Exception):
    """More IDs than fit in Xero's URL (real Xero answers 404)."""


def envelope(ctx: Ctx, name: str, items: list[Any], **extra: Any) -> dict[str, Any]:
    """Xero's response wrapper."""
    out: dict[str, Any] = {
        "Id": ctx.sb.new_response_id(),
        "Status": "OK",
        "ProviderName": "pxflask Xero sandbox",
        "DateTimeUTC": ctx.sb.clock.now(),
    }
    out.update(extra)
    out[name] = items
    return out


def validation_error(elements: list[dict[str, Any]]) -> dict[str, Any]:
    """The summarised 400 body."""
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def parse_body(raw: bytes) -> Any:
    """The JSON body with Decimal numbers (BadRequest when unreadable)."""
    if not raw:
        raise BadRequest("The request body is empty")
    try:
        return loads(raw)
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc


def elements_of(body: Any, name: str) -> list[Any]:
    """The elements of a batch body ({"Invoices": [...]}, a list or one object)."""
    if isinstance(body, dict) and name in body:
        items = body[name]
        if not isinstance(items, list):
            raise BadRequest(f"{name} must be a list")
        return items
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return [body]
    raise BadRequest("The request body must be a JSON object")


def failed_echo(resource: Resource, raw: Any, exc: Invalid) -> dict[str, Any]:
    """A failing element echoed back with its ValidationErrors."""
    echo = dict(raw) if isinstance(raw, dict) else {}
    echo[resource.error_flag] = True
    echo["StatusAttributeString"] = "ERROR"
    echo["ValidationErrors"] = [{"Message": m} for m in exc.messages]
    return echo


def write_batch(
    ctx: Ctx,
    resource: Resource,
    items: list[Any],
    method: str,
    summarize: bool,
) -> tuple[int, dict[str, Any]]:
    """Write each element independently; answer as Xero does in either mode."""
    outputs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for raw in items:
        try:
            record = resource.write(ctx, raw, method)
        except Invalid as exc:
            echo = failed_echo(resource, raw, exc)
            failures.append(echo)
            outputs.append(echo)
            continue
        view = resource.written_view(ctx, record)
        view[resource.error_flag] = False
        view["StatusAttributeString"] = "OK"
        outputs.append(view)
    if failures and summarize:
        return 400, validation_error(failures)
    return 200, envelope(ctx, resource.name, outputs)


def _select(
    ctx: Ctx, resource: Resource, args: dict[str, str], since: datetime | None
) -> list[dict[str, Any]]:
    """Stored records passing IDs, visibility, If-Modified-Since and list filters."""
    table = resource.table(ctx)
    ids = csv_values(args.get("IDs"))
    if len(ids) > MAX_IDS:
        raise TooManyIds()
    if ids:
        wanted = {i.lower() for i in ids}
        if resource.keyed_by_lower_id:
            candidates = table.in_order(wanted.union(ids))
        else:
            candidates = list(table.values())
        records = [
            r
            for r in candidates
            if str(r[resource.id_field]).lower() in wanted and resource.visible(r, args)
        ]
    else:
        records = [r for r in table.values() if resource.visible(r, args)]
    if since is not None:
        records = [r for r in records if r["UpdatedDateUTC"] >= since]
    return resource.list_filter(records, args)


def list_records(
    ctx: Ctx,
    resource: Resource,
    args: dict[str, str],
    if_modified_since: str | None,
) -> dict[str, Any]:
    """GET a collection: IDs, If-Modified-Since, filters, where, order, paging.

    Records are selected and paged before any view is built; only `where` and
    `order` (which address the response form) need the views of every match.
    """
    records = _select(ctx, resource, args, modified_since(if_modified_since))
    where, order = args.get("where"), args.get("order")
    views: list[dict[str, Any]] | None = None
    if where or order:
        views = [resource.view(ctx, r) for r in records]
        try:
            views = apply_order(apply_where(views, where), order)
        except QueryError as exc:
            raise BadRequest(str(exc)) from exc
    paged = "page" in args or "pageSize" in args
    extra: dict[str, Any] = {}
    if paged:
        try:
            page = max(int(args.get("page") or 1), 1)
            size = int(args.get("pageSize") or DEFAULT_PAGE_SIZE)
        except ValueError as exc:
            raise BadRequest("page and pageSize must be integers") from exc
        size = min(max(size, 1), MAX_PAGE_SIZE)
        count = len(records if views is None else views)
        extra["pagination"] = {
            "page": page,
            "pageSize": size,
            "pageCount": math.ceil(count / size),
            "itemCount": count,
        }
        window = slice((page - 1) * size, page * size)
        if views is None:
            records = records[window]
        else:
            views = views[window]
    summary = args.get("summaryOnly", "").lower() == "true"
    if views is None:
        if summary:
            views = [resource.summary_view(ctx, r) for r in records]
        else:
            lines = paged or resource.lines_when_unpaged
            views = [resource.list_view(ctx, r, lines) for r in records]
    elif summary:
        views = [resource.summarise(v) for v in views]
    elif not paged and not resource.lines_when_unpaged:
        views = [{k: v for k, v in view.items() if k != "LineItems"} for view in views]
    return envelope(ctx, resource.name, views, **extra)
