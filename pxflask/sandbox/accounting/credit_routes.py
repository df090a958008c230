"""Routes of Overpayments and Prepayments: GET list/one, allocations PUT/DELETE."""

from __future__ import annotations

from flask import Blueprint, Response

from .common import Ctx
from .credits import Credits, allocate_credit, credit_resource, deallocate_credit
from .pipeline import api_call
from .responses import (
    allocations_response,
    list_response,
    one_response,
    summarize_errors,
    unallocate,
)


def _register(bp: Blueprint, name: str) -> None:
    """GET /{name}, GET /{name}/{id}, PUT and DELETE /{name}/{id}/Allocations."""
    resource: Credits = credit_resource(name)
    one = f"/{name}/{{{resource.id_field}}}"

    def list_view() -> Response:
        """GET collection (paging, If-Modified-Since, where, order)."""
        return list_response(name, resource)

    def one_view(key: str) -> Response:
        """GET one."""
        return one_response(name, resource, key)

    def put_allocations(key: str) -> Response:
        """PUT allocations; summarizeErrors as for batches."""
        summarize = summarize_errors()

        def handler(ctx: Ctx) -> Response:
            """Allocate each element."""
            credit = resource.get(ctx, key)
            return allocations_response(
                ctx, summarize, lambda raw: allocate_credit(ctx, resource, credit, raw)
            )

        return api_call(one + "/Allocations", handler)

    def delete_allocation(key: str, allocation_id: str) -> Response:
        """DELETE one allocation: the Allocation with IsDeleted (404 when gone)."""
        return api_call(
            one + "/Allocations/{AllocationID}",
            lambda ctx: unallocate(
                allocation_id,
                lambda: deallocate_credit(
                    ctx, resource, resource.get(ctx, key), allocation_id
                ),
            ),
        )

    bp.add_url_rule(f"/{name}", f"list_{name}", list_view, methods=["GET"])
    bp.add_url_rule(f"/{name}/<key>", f"get_{name}", one_view, methods=["GET"])
    bp.add_url_rule(
        f"/{name}/<key>/Allocations",
        f"allocate_{name}",
        put_allocations,
        methods=["PUT"],
    )
    bp.add_url_rule(
        f"/{name}/<key>/Allocations/<allocation_id>",
        f"deallocate_{name}",
        delete_allocation,
        methods=["DELETE"],
    )


def register(bp: Blueprint) -> None:
    """Add the Overpayments and Prepayments routes to the Accounting API blueprint."""
    for name in ("Overpayments", "Prepayments"):
        _register(bp, name)
