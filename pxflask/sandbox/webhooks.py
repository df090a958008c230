"""Send Xero-style webhooks: signed payloads and the intent-to-receive check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

import urllib3

if TYPE_CHECKING:
    from .core import Sandbox

_pool = urllib3.PoolManager(retries=False)


def sign(body: bytes, key: str) -> str:
    """x-xero-signature: base64(HMAC-SHA256(body, key))."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def payload(events: list[dict[str, Any]], first: int = 0, last: int = 0) -> bytes:
    """The JSON body Xero posts (events with public fields only)."""
    public = [{k: v for k, v in e.items() if not k.startswith("_")} for e in events]
    body = {
        "events": public,
        "firstEventSequence": first,
        "lastEventSequence": last,
        "entropy": secrets.token_hex(10).upper(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def post(url: str, body: bytes, signature: str, timeout: float = 5.0) -> int:
    """POST a webhook body; return the receiver's status code."""
    response = _pool.request(
        "POST",
        url,
        body=body,
        headers={"Content-Type": "application/json", "x-xero-signature": signature},
        timeout=timeout,
    )
    return response.status


def send_webhook(
    url: str,
    events: list[dict[str, Any]],
    key: str,
    first_sequence: int | None = None,
    last_sequence: int | None = None,
    timeout: float = 5.0,
) -> int:
    """Sign and POST events; return the HTTP status the receiver answered."""
    seqs = [e.get("_sequence", 0) for e in events] or [0]
    body = payload(
        events,
        first_sequence if first_sequence is not None else min(seqs),
        last_sequence if last_sequence is not None else max(seqs),
    )
    return post(url, body, sign(body, key), timeout)


def send_intent_to_receive(url: str, key: str, timeout: float = 5.0) -> tuple[int, int]:
    """Xero's check: (status for a correct signature, status for a wrong one)."""
    body = payload([])
    good = post(url, body, sign(body, key), timeout)
    bad = post(url, body, sign(body, key + "-wrong"), timeout)
    return good, bad


def make_event(
    tenant_id: str,
    category: str,
    resource_id: str,
    event_type: str = "UPDATE",
    event_date_utc: str = "2026-01-01T00:00:00.000",
) -> dict[str, Any]:
    """A single webhook event dict (category CONTACT, INVOICE or CREDITNOTE)."""
    path = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}[
        category
    ]
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{path}/{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": event_date_utc,
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
    }


def deliver_pending(sb: Sandbox, url: str, key: str | None = None) -> int | None:
    """Send the events queued by changes in the sandbox; None if none queued."""
    events = sb.take_events()
    if not events:
        return None
    return send_webhook(url, events, key or sb.options.webhook_key)
