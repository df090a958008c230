"""Flask routes of the Accounting API; the logic lives in the resources."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..http import json_response
from . import credit_routes, online, tracking_routes
from .batch import (
    elements_of,
    envelope,
    failed_echo,
    list_records,
    parse_body,
    validation_error,
    write_batch,
)
from .common import Ctx, Invalid, NotFound
from .payments import allocate, deallocate
from .pipeline import api_call, body_args
from .registry import RESOURCES
from .responses import (
    allocations_response,
    list_response,
    ok,
    one_response,
    summarize_errors,
    unallocate,
)
from .settings import currency_views, organisation_view

bp = Blueprint("xero_accounting", __name__, url_prefix="/api.xro/2.0")

BATCH = tuple(name for name, resource in RESOURCES.items() if resource.batched)
"""Collections written in batches (each resource says so)."""
GENERIC = (*BATCH, "Payments", "Accounts")


def _single_write(ctx: Ctx, name: str, raw: object, method: str) -> Response:
    """Write one element; a failure is a summarised 400."""
    resource = RESOURCES[name]
    try:
        record = resource.write(ctx, raw, method)  # type: ignore[arg-type]
    except Invalid as exc:
        return json_response(validation_error([failed_echo(resource, raw, exc)]), 400)
    view = resource.written_view(ctx, record)
    return ok(envelope(ctx, name, [view]))


# ----------------------------------------------------------------- settings
@bp.get("/Organisation")
def get_organisation() -> Response:
    """GET /Organisation."""
    return api_call(
        "/Organisation",
        lambda ctx: ok(envelope(ctx, "Organisations", [organisation_view(ctx)])),
    )


@bp.get("/Currencies")
def get_currencies() -> Response:
    """GET /Currencies."""
    return api_call(
        "/Currencies",
        lambda ctx: ok(envelope(ctx, "Currencies", currency_views(ctx))),
    )


@bp.put("/Currencies")
def put_currency() -> Response:
    """PUT /Currencies: subscribe to another currency."""

    def handler(ctx: Ctx) -> Response:
        """Add the currency when the sandbox knows a rate for it."""
        from ..seed import RATES_PER_USD

        body = parse_body(request.get_data())
        code = body.get("Code") if isinstance(body, dict) else None
        if code not in RATES_PER_USD:
            exc = Invalid(f"Currency code {code} is not valid")
            return json_response(
                validation_error(
                    [
                        {
                            **(body or {}),
                            "ValidationErrors": [{"Message": m} for m in exc.messages],
                        }
                    ]
                ),
                400,
            )
        if code not in ctx.tenant.currencies:
            ctx.tenant.currencies.append(code)
        return ok(
            envelope(
                ctx, "Currencies", [c for c in currency_views(ctx) if c["Code"] == code]
            )
        )

    return api_call("/Currencies", handler)


@bp.put("/Accounts")
def put_account() -> Response:
    """PUT /Accounts: one account per request."""
    return api_call(
        "/Accounts",
        lambda ctx: _single_write(
            ctx, "Accounts", _one(parse_body(request.get_data()), "Accounts"), "PUT"
        ),
    )


@bp.delete("/Accounts/<account_id>")
def delete_account(account_id: str) -> Response:
    """DELETE /Accounts/{id}."""

    def handler(ctx: Ctx) -> Response:
        """Delete when unused."""
        resource = RESOURCES["Accounts"]
        record = resource.get(ctx, account_id)
        try:
            resource.delete(ctx, record)  # type: ignore[attr-defined]
        except Invalid as exc:
            return json_response(
                validation_error(
                    [failed_echo(resource, {"AccountID": account_id}, exc)]
                ),
                400,
            )
        return ok(envelope(ctx, "Accounts", [resource.view(ctx, record)]))

    return api_call("/Accounts/{AccountID}", handler)


@bp.get("/TaxRates")
def get_tax_rates() -> Response:
    """GET /TaxRates."""
    return api_call(
        "/TaxRates",
        lambda ctx: ok(list_records(ctx, RESOURCES["TaxRates"], body_args(), None)),
    )


@bp.get("/TaxRates/<tax_type>")
def get_tax_rate(tax_type: str) -> Response:
    """GET /TaxRates/{TaxType}."""
    resource = RESOURCES["TaxRates"]
    return api_call(
        "/TaxRates/{TaxType}",
        lambda ctx: ok(
            envelope(ctx, "TaxRates", [resource.view(ctx, resource.get(ctx, tax_type))])
        ),
    )


@bp.route("/TaxRates", methods=["PUT", "POST"])
def write_tax_rates() -> Response:
    """PUT/POST /TaxRates."""
    method = request.method
    return api_call(
        "/TaxRates",
        lambda ctx: _batch(ctx, "TaxRates", method, True),
    )


def _one(body: object, name: str) -> object:
    """The single element of a body that may be wrapped."""
    items = elements_of(body, name)
    return items[0] if items else {}


def _batch(ctx: Ctx, name: str, method: str, summarize: bool) -> Response:
    """Run a batch write."""
    items = elements_of(parse_body(request.get_data()), name)
    status, body = write_batch(ctx, RESOURCES[name], items, method, summarize)
    return json_response(body, status)


# ------------------------------------------------------- generic collections
def _register(name: str) -> None:
    """Add GET list/one, PUT/POST batch and POST /{id} routes for a resource."""
    resource = RESOURCES[name]
    id_field = resource.id_field

    def list_view() -> Response:
        """GET collection."""
        return list_response(name, resource)

    def one_view(key: str) -> Response:
        """GET one."""
        return one_response(name, resource, key)

    def batch_write() -> Response:
        """PUT/POST collection."""
        method = request.method
        if name == "Payments" and method == "POST":
            return api_call(
                f"/{name}",
                lambda ctx: _single_write(
                    ctx, name, _one(parse_body(request.get_data()), name), "PUT"
                ),
            )
        return api_call(
            f"/{name}", lambda ctx: _batch(ctx, name, method, summarize_errors())
        )

    def one_write(key: str) -> Response:
        """POST /{name}/{id}: update one (Payments: delete)."""

        def handler(ctx: Ctx) -> Response:
            """Update the addressed record."""
            record = resource.get(ctx, key)
            raw = _one(parse_body(request.get_data()), name)
            if not isinstance(raw, dict):
                raw = {}
            raw = {**raw, id_field: record[id_field]}
            return _single_write(ctx, name, raw, "POST")

        return api_call(f"/{name}/{{{id_field}}}", handler)

    bp.add_url_rule(f"/{name}", f"list_{name}", list_view, methods=["GET"])
    bp.add_url_rule(f"/{name}/<key>", f"get_{name}", one_view, methods=["GET"])
    if name != "Accounts":
        bp.add_url_rule(
            f"/{name}", f"write_{name}", batch_write, methods=["PUT", "POST"]
        )
    bp.add_url_rule(f"/{name}/<key>", f"post_{name}", one_write, methods=["POST"])


for _name in GENERIC:
    _register(_name)


@bp.delete("/Items/<item_id>")
def delete_item(item_id: str) -> Response:
    """DELETE /Items/{id} → 204."""

    def handler(ctx: Ctx) -> Response:
        """Remove the item."""
        resource = RESOURCES["Items"]
        record = resource.get(ctx, item_id)
        del resource.table(ctx)[record["ItemID"]]
        return Response(status=204)

    return api_call("/Items/{ItemID}", handler)


@bp.put("/CreditNotes/<credit_note_id>/Allocations")
def put_allocations(credit_note_id: str) -> Response:
    """PUT /CreditNotes/{id}/Allocations."""
    summarize = summarize_errors()

    def handler(ctx: Ctx) -> Response:
        """Allocate each element; summarizeErrors as for batches."""
        note = RESOURCES["CreditNotes"].get(ctx, credit_note_id)
        return allocations_response(
            ctx, summarize, lambda raw: allocate(ctx, note, raw)
        )

    return api_call("/CreditNotes/{CreditNoteID}/Allocations", handler)


@bp.delete("/CreditNotes/<credit_note_id>/Allocations/<allocation_id>")
def delete_allocation(credit_note_id: str, allocation_id: str) -> Response:
    """DELETE /CreditNotes/{id}/Allocations/{AllocationID}: the Allocation."""

    def handler(ctx: Ctx) -> Response:
        """Reverse the allocation (404 when it is not on this credit note)."""
        note = RESOURCES["CreditNotes"].get(ctx, credit_note_id)
        return unallocate(allocation_id, lambda: deallocate(ctx, note, allocation_id))

    return api_call("/CreditNotes/{CreditNoteID}/Allocations/{AllocationID}", handler)


__all__ = ["bp", "NotFound"]

credit_routes.register(bp)  # the Overpayments and Prepayments routes
tracking_routes.register(bp)  # TrackingCategories and their Options
online.register(bp)  # OnlineInvoice and Email of invoices
