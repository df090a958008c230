"""What the Accounting API's routes share: JSON answers, lists, allocations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from ..http import json_response
from .batch import elements_of, envelope, list_records, parse_body, validation_error
from .common import Ctx, Invalid
from .pipeline import api_call, body_args


def summarize_errors() -> bool:
    """summarizeErrors (real default: true)."""
    return request.args.get("summarizeErrors", "true").lower() not in ("false", "0")


def ok(body: dict) -> Response:
    """200 JSON."""
    return json_response(body, 200)


def list_response(name: str, resource: Any) -> Response:
    """GET a collection: paging, If-Modified-Since, where and order."""
    return api_call(
        f"/{name}",
        lambda ctx: ok(
            list_records(
                ctx, resource, body_args(), request.headers.get("If-Modified-Since")
            )
        ),
    )


def one_response(name: str, resource: Any, key: str) -> Response:
    """GET one record of a collection by its id."""
    return api_call(
        f"/{name}/{{{resource.id_field}}}",
        lambda ctx: ok(
            envelope(ctx, name, [resource.view(ctx, resource.get(ctx, key))])
        ),
    )


def allocations_response(
    ctx: Ctx, summarize: bool, allocate_one: Callable[[dict[str, Any]], dict[str, Any]]
) -> Response:
    """PUT .../Allocations: each element allocated or echoed with its errors."""
    items = elements_of(parse_body(request.get_data()), "Allocations")
    outputs, failures = [], []
    for raw in items:
        try:
            outputs.append(allocate_one(raw if isinstance(raw, dict) else {}))
        except Invalid as exc:
            echo = dict(raw) if isinstance(raw, dict) else {}
            echo["StatusAttributeString"] = "ERROR"
            echo["ValidationErrors"] = [{"Message": m} for m in exc.messages]
            failures.append(echo)
            outputs.append(echo)
    if failures and summarize:
        return json_response(validation_error(failures), 400)
    return ok(envelope(ctx, "Allocations", outputs))


def unallocate(allocation_id: str, delete: Callable[[], dict[str, Any]]) -> Response:
    """Run an allocation delete: the Allocation, or Xero's 400 when it is refused."""
    try:
        return ok(delete())
    except Invalid as exc:
        echo: dict[str, Any] = {
            "AllocationID": allocation_id,
            "StatusAttributeString": "ERROR",
        }
        echo["ValidationErrors"] = [{"Message": m} for m in exc.messages]
        return json_response(validation_error([echo]), 400)
