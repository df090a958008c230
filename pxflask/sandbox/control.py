"""Out-of-band control endpoints (/_sandbox/...) for other processes."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response

from . import control_credits
from .core import ContractExtraMissing
from .http import current_sandbox, json_body, json_response
from .inject import InjectionError

bp = Blueprint("xero_sandbox_control", __name__, url_prefix="/_sandbox")


@bp.get("/counters")
def counters() -> Response:
    """Call and token counters."""
    return json_response(current_sandbox().counters.snapshot())


@bp.get("/violations")
def violations() -> Response:
    """Contract violations so far."""
    return json_response(list(current_sandbox().violations))


@bp.get("/emails")
def emails() -> Response:
    """Invoices Xero e-mailed, per tenant ({tenant id: [e-mail, ...]})."""
    sb = current_sandbox()
    with sb.lock:
        return json_response(
            {tid: list(t.emails) for tid, t in sb.state.tenants.items()}
        )


@bp.post("/reset")
def reset() -> Response:
    """Fresh state; the JSON body holds SandboxOptions overrides."""
    try:
        current_sandbox().reset(**json_body())
    except ContractExtraMissing as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response({"ok": True})


@bp.post("/token")
def token() -> Response:
    """A consented token set ({"tenant_ids": [...], "scope": [...]} optional)."""
    body = json_body()
    return json_response(
        current_sandbox().issue_token(body.get("tenant_ids"), body.get("scope"))
    )


@bp.post("/advance")
def advance() -> Response:
    """Move the sandbox clock by {"seconds": N}."""
    current_sandbox().advance_time(float(json_body().get("seconds", 0)))
    return json_response({"ok": True})


@bp.post("/faults")
def faults() -> Response:
    """Set fault switches from JSON (see README: Control endpoints)."""
    sb = current_sandbox()
    body = json_body()
    status = int(body.get("status", 503))
    if body.get("clear"):
        sb.faults.clear()
    if body.get("fail_next"):
        sb.faults.fail_next(int(body["fail_next"]), status)
    if "fail_fraction" in body:
        sb.faults.fail_fraction(float(body["fail_fraction"]), status)
    if "latency" in body:
        sb.faults.set_latency(float(body["latency"]))
    if body.get("commit_then_fail"):
        sb.faults.commit_then_fail(
            int(body["commit_then_fail"]), int(body.get("commit_status", 504))
        )
    mix = body.get("mix")
    if isinstance(mix, dict):
        sb.faults.fault_mix(
            float(mix.get("rate_429", 0)),
            float(mix.get("rate_503", 0)),
            float(mix.get("rate_commit", 0)),
            int(mix.get("retry_after", 1)),
            int(mix["seed"]) if mix.get("seed") is not None else None,
        )
    expired = sb.expire_access_tokens() if body.get("expire_tokens") else 0
    return json_response({"ok": True, "expired_tokens": expired})


@bp.post("/payments")
def make_payment() -> Response:
    """A payment "typed into Xero": {"invoice_id", "amount", "account_code", "date"}."""
    body = json_body()
    fields = {"Reference": body["reference"]} if body.get("reference") else {}
    try:
        made = current_sandbox().inject.payment(
            str(body.get("invoice_id") or ""),
            str(body.get("amount") or "0"),
            str(body.get("account_code") or "090"),
            date.fromisoformat(body["date"]) if body.get("date") else None,
            body.get("tenant_id"),
            **fields,
        )
    except (InjectionError, ValueError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(made)


@bp.post("/payments/<payment_id>/delete")
def remove_payment(payment_id: str) -> Response:
    """Delete a payment in Xero as a user would (the invoice is due again)."""
    try:
        gone = current_sandbox().inject.delete_payment(
            payment_id, json_body().get("tenant_id")
        )
    except InjectionError as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(gone)


@bp.post("/lock-dates")
def lock_dates() -> Response:
    """Set the lock dates: {"period": "YYYY-MM-DD"|null, "end_of_year": ...}."""
    body = json_body()
    try:
        period, end = (
            date.fromisoformat(body[k]) if body.get(k) else None
            for k in ("period", "end_of_year")
        )
    except (TypeError, ValueError) as exc:
        return json_response({"error": str(exc)}, 400)
    current_sandbox().inject.lock_dates(period, end, body.get("tenant_id"))
    return json_response({"ok": True})


control_credits.register(bp)  # the overpayment and prepayment endpoints
