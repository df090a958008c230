"""What every accounting call goes through: auth, tenant, limits, faults, replay."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Response, request

from .. import tokens
from ..http import current_sandbox, json_response
from ..idempotency import MAX_KEY_LENGTH, IdempotencyStore, StoredResponse
from .batch import TooManyIds
from .common import BadRequest, Ctx, NotFound
from .query import QueryError

if TYPE_CHECKING:
    from ..core import Sandbox

WRITE_METHODS = ("PUT", "POST", "DELETE")
Handler = Callable[[Ctx], Response]


def problem(status: int, title: str, detail: str) -> Response:
    """Xero's problem+json body (401/403)."""
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail}
    return json_response(body, status, "application/problem+json")


def error_400(kind: str, message: str, number: int = 14) -> Response:
    """A non-element 400 (PostDataInvalidException, QueryParseException...)."""
    return json_response({"ErrorNumber": number, "Type": kind, "Message": message}, 400)


def _run(sb: Sandbox, ctx: Ctx, handler: Handler) -> Response:
    """Call the handler under the state lock, mapping errors to responses."""
    try:
        with sb.lock:
            return handler(ctx)
    except NotFound:
        return Response(
            "The resource you're looking for cannot be found",
            status=404,
            mimetype="text/plain",
        )
    except TooManyIds:
        return Response("Not Found: URL too long", status=404, mimetype="text/plain")
    except QueryError as exc:
        return error_400("QueryParseException", str(exc), 16)
    except BadRequest as exc:
        return error_400("PostDataInvalidException", str(exc))


def _unitdp() -> int:
    """The unitdp query parameter (2 or 4)."""
    try:
        return 4 if int(request.args.get("unitdp", "2")) >= 4 else 2
    except ValueError:
        return 2


def _drop_connection() -> None:
    """Shut the client socket so the caller sees a dropped connection."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _with_idempotency(
    sb: Sandbox, ctx: Ctx, handler: Handler, key: str, client_id: str
) -> Response:
    """Replay a stored response or run the handler and store its response."""
    if len(key) > MAX_KEY_LENGTH:
        return error_400(
            "ValidationException",
            f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters",
            10,
        )
    store = sb.idempotency
    scope = (client_id, ctx.tenant.tenant_id, key)
    fingerprint = IdempotencyStore.fingerprint(
        request.method,
        request.path,
        request.query_string.decode(),
        request.get_data(),
    )
    outcome, stored = store.begin(scope, fingerprint)
    if outcome == "mismatch":
        return error_400(
            "ValidationException",
            "The idempotency key has already been used with a different request",
            10,
        )
    if outcome == "replay" and stored is not None:
        replayed = Response(stored.body, status=stored.status)
        for name, value in stored.headers.items():
            replayed.headers[name] = value
        replayed.headers["Idempotent-Replayed"] = "true"
        return replayed
    response: Response | None = None
    try:
        response = _run(sb, ctx, handler)
        return response
    finally:
        if response is None:
            store.finish(scope, None)
        else:
            store.finish(
                scope,
                StoredResponse(
                    response.status_code,
                    response.get_data(),
                    {"Content-Type": response.headers.get("Content-Type", "")},
                ),
            )


def api_call(endpoint: str, handler: Handler) -> Response:
    """Run an accounting call through Xero's gates and the fault switches."""
    sb = current_sandbox()
    tenant_id = request.headers.get("xero-tenant-id", "").strip().lower() or None
    sb.counters.record_call(request.method, endpoint, tenant_id)
    with sb.lock:
        grant, reason = tokens.resolve_access(sb, request.headers.get("Authorization"))
        if grant is None:
            response = problem(401, "Unauthorized", reason)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        if not tokens.tenant_allowed(sb, grant, tenant_id):
            return problem(403, "Forbidden", "AuthenticationUnsuccessful")
        tenant = sb.state.tenants[tenant_id]  # type: ignore[index]
    arrived = sb.counters.record_arrival(tenant.tenant_id)
    limiter = sb.limiter
    decision = limiter.acquire(tenant.tenant_id)
    if not decision.allowed:
        if decision.problem != "day" and decision.retry_after:
            sb.counters.record_retry_after(
                tenant.tenant_id, arrived, float(decision.retry_after)
            )
        response = json_response(
            {
                "Title": "Too Many Requests",
                "Status": 429,
                "Detail": f"Rate limit exceeded: {decision.problem}",
            },
            429,
        )
        response.headers.update(decision.headers or {})
        response.headers["X-Rate-Limit-Problem"] = decision.problem or ""
        response.headers["Retry-After"] = str(decision.retry_after)
        return response
    try:
        response = _gated(sb, Ctx(sb, tenant, _unitdp()), handler, grant.client_id)
    finally:
        limiter.release(tenant.tenant_id)
    response.headers.update(limiter.headers(tenant.tenant_id))
    return response


def _gated(sb: Sandbox, ctx: Ctx, handler: Handler, client_id: str) -> Response:
    """The part of a call that runs inside its concurrency slot."""
    faults = sb.faults
    if faults.latency_s:
        time.sleep(faults.latency_s)
    mixed = faults.take_mixed()
    if mixed == 429:
        return _too_many_requests(sb, ctx.tenant.tenant_id, faults.mix.retry_after_s)
    failure = faults.take_failure("api", request.path, request.method) or mixed
    if failure:
        return json_response(
            {
                "Title": "Service Unavailable",
                "Status": failure,
                "Detail": "The Xero API is temporarily unavailable (sandbox fault)",
            },
            failure,
        )
    key = request.headers.get("Idempotency-Key")
    if key and request.method in ("PUT", "POST"):
        response = _with_idempotency(sb, ctx, handler, key, client_id)
    else:
        response = _run(sb, ctx, handler)
    if request.method in WRITE_METHODS and response.status_code < 500:
        hold = faults.take_hold(request.method, request.path)
        if hold is not None:
            hold.hold()
        status = faults.take_commit_failure(request.path)
        if status is None and faults.take_mixed_commit():
            status = 503
        if status is not None:
            request.environ["xero_sandbox.no_contract"] = True
            if status == 0:
                _drop_connection()
                return Response(b"", status=500)
            return Response(
                f"{status} sandbox commit-then-fail",
                status=status,
                mimetype="text/plain",
            )
    return response


def _too_many_requests(sb: Sandbox, tenant_id: str, retry_after: int) -> Response:
    """A minute-limit 429 (fault), its Retry-After window noted for the tests."""
    sb.counters.record_retry_after(tenant_id, time.monotonic(), float(retry_after))
    response = json_response(
        {
            "Title": "Too Many Requests",
            "Status": 429,
            "Detail": "Rate limit exceeded: minute (sandbox fault)",
        },
        429,
    )
    response.headers["X-Rate-Limit-Problem"] = "minute"
    response.headers["Retry-After"] = str(retry_after)
    return response


def body_args() -> dict[str, Any]:
    """Query args as a plain dict (first value wins)."""
    return dict(request.args.items())
