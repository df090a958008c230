"""Routes of TrackingCategories and their Options (the logic is in tracking.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from ..http import json_response
from .batch import elements_of, envelope, failed_echo, parse_body, validation_error
from .common import BadRequest, Ctx, Invalid
from .pipeline import api_call, body_args
from .query import QueryError, apply_order, apply_where
from .registry import RESOURCES
from .responses import ok
from .tracking import TrackingCategories

NAME = "TrackingCategories"
ONE = "/TrackingCategories/{TrackingCategoryID}"
OPTIONS = ONE + "/Options"
OPTION = OPTIONS + "/{TrackingOptionID}"


def _resource() -> TrackingCategories:
    """The registered resource."""
    found = RESOURCES[NAME]
    assert isinstance(found, TrackingCategories)  # noqa: S101 - registry invariant
    return found


def _body() -> dict[str, Any]:
    """The single object of a request body (wrapped or not)."""
    items = elements_of(parse_body(request.get_data()), NAME)
    raw = items[0] if items else {}
    return raw if isinstance(raw, dict) else {}


def _refused(raw: Any, exc: Invalid) -> Response:
    """Xero's 400 with the element's ValidationErrors."""
    return json_response(validation_error([failed_echo(_resource(), raw, exc)]), 400)


def _guarded(raw: Any, make: Callable[[], Response]) -> Response:
    """Run a write; a validation failure is the element's 400."""
    try:
        return make()
    except Invalid as exc:
        return _refused(raw, exc)


def list_categories() -> Response:
    """GET /TrackingCategories (where, order, includeArchived)."""

    def handler(ctx: Ctx) -> Response:
        """Active categories (and archived ones when asked), with their options."""
        args = body_args()
        res = _resource()
        archived = str(args.get("includeArchived", "")).lower() == "true"
        views = [
            res.view(ctx, r, archived)
            for r in res.table(ctx).values()
            if res.visible(r, args)
        ]
        try:
            views = apply_order(
                apply_where(views, args.get("where")), args.get("order")
            )
        except QueryError as exc:
            raise BadRequest(str(exc)) from exc
        return ok(envelope(ctx, NAME, views))

    return api_call("/" + NAME, handler)


def put_category() -> Response:
    """PUT /TrackingCategories: create one category."""

    def handler(ctx: Ctx) -> Response:
        """Create it, or refuse with Xero's message."""
        raw = _body()
        res = _resource()
        return _guarded(
            raw, lambda: ok(envelope(ctx, NAME, [res.view(ctx, res.create(ctx, raw))]))
        )

    return api_call("/" + NAME, handler)


def one_category(key: str) -> Response:
    """GET, POST (rename, archive, restore) or DELETE one category."""
    method = request.method

    def handler(ctx: Ctx) -> Response:
        """Read or change the addressed category."""
        res = _resource()
        record = res.get(ctx, key)
        if method == "GET":
            return ok(envelope(ctx, NAME, [res.view(ctx, record)]))
        raw = _body() if method == "POST" else {}
        change = (
            (lambda: res.update(ctx, record, raw))
            if method == "POST"
            else (lambda: res.delete(ctx, record))
        )
        return _guarded(raw, lambda: ok(envelope(ctx, NAME, [res.view(ctx, change())])))

    return api_call(ONE, handler)


def put_options(key: str) -> Response:
    """PUT /TrackingCategories/{id}/Options: one option, or several ({"Options"})."""

    def handler(ctx: Ctx) -> Response:
        """Add the options, all or none."""
        body = parse_body(request.get_data())
        raws = elements_of(body, "Options")
        res = _resource()
        record = res.get(ctx, key)
        return _guarded(
            body,
            lambda: ok(envelope(ctx, "Options", res.add_options(ctx, record, raws))),
        )

    return api_call(OPTIONS, handler)


def one_option(key: str, option_id: str) -> Response:
    """POST (rename, archive, restore) or DELETE one option."""
    method = request.method

    def handler(ctx: Ctx) -> Response:
        """Change the addressed option."""
        res = _resource()
        record = res.get(ctx, key)
        if method == "POST":
            raw = _body()
            return _guarded(
                raw,
                lambda: ok(
                    envelope(
                        ctx, "Options", [res.change_option(ctx, record, option_id, raw)]
                    )
                ),
            )
        return _guarded(
            {},
            lambda: ok(
                envelope(ctx, "Options", [res.delete_option(ctx, record, option_id)])
            ),
        )

    return api_call(OPTION, handler)


def register(bp: Blueprint) -> None:
    """Add the tracking routes to the Accounting API blueprint."""
    base = "/" + NAME
    bp.add_url_rule(base, "list_tracking", list_categories, methods=["GET"])
    bp.add_url_rule(base, "put_tracking", put_category, methods=["PUT"])
    bp.add_url_rule(
        base + "/<key>", "one_tracking", one_category, methods=["GET", "POST", "DELETE"]
    )
    bp.add_url_rule(
        base + "/<key>/Options", "put_options", put_options, methods=["PUT"]
    )
    bp.add_url_rule(
        base + "/<key>/Options/<option_id>",
        "one_option",
        one_option,
        methods=["POST", "DELETE"],
    )
