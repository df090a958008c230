"""Control endpoints for overpayments and prepayments "typed into Xero"."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response

from .http import current_sandbox, json_body, json_response
from .inject import InjectionError


def _on(body: dict[str, Any]) -> date | None:
    """The optional "date" (YYYY-MM-DD)."""
    return date.fromisoformat(body["date"]) if body.get("date") else None


def receive_credit(kind: str) -> Response:
    """{"contact_id", "amount", "account_code": "090", "date"}: the credit's view."""
    body = json_body()
    try:
        made = current_sandbox().inject.receive_credit(
            kind,
            str(body.get("contact_id") or ""),
            str(body.get("amount") or "0"),
            str(body.get("account_code") or "090"),
            _on(body),
            body.get("tenant_id"),
        )
    except (InjectionError, ValueError, KeyError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(made)


def allocate_credit(kind: str, credit_id: str) -> Response:
    """{"invoice_id", "amount", "date"}: the Allocation view."""
    body = json_body()
    try:
        made = current_sandbox().inject.allocate_credit(
            kind,
            credit_id,
            str(body.get("invoice_id") or ""),
            str(body.get("amount") or "0"),
            _on(body),
            body.get("tenant_id"),
        )
    except (InjectionError, ValueError, KeyError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(made)


def register(bp: Blueprint) -> None:
    """Add these endpoints to the control blueprint (/_sandbox/...)."""
    kinds = "/<any(overpayment, prepayment):kind>s"
    bp.add_url_rule(kinds, view_func=receive_credit, methods=["POST"])
    bp.add_url_rule(
        kinds + "/<credit_id>/allocations", view_func=allocate_credit, methods=["POST"]
    )
