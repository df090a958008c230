"""The status moves that bring a Xero quote to the status Perfex's estimate has.

Xero moves a quote one documented step at a time (DRAFT -> SENT -> ACCEPTED ->
INVOICED, SENT -> DECLINED, back to SENT from ACCEPTED or DECLINED) and refuses a
jump such as DRAFT -> DECLINED or ACCEPTED -> DECLINED; a new quote is created
DRAFT or SENT. Lines and dates can be edited while a quote is DRAFT or SENT: a
move from a later status carries only the fields that do not change its amounts.
"""

from __future__ import annotations

from typing import Any

EDITABLE = ("DRAFT", "SENT")
KEPT_ON_A_MOVE = ("Contact", "QuoteNumber", "Reference", "Terms", "Title", "Summary")
"""Sent with every move: Xero clears Reference, Terms, Title, Summary left out."""


def route(current: str | None, target: str) -> list[str]:
    """The statuses to send in turn, from `current` (None: a new quote) to target."""
    if current == target or target == "DRAFT":
        return [target]
    if current == "ACCEPTED" and target in ("INVOICED", "SENT"):
        return [target]
    path = [] if current == "SENT" else ["SENT"]
    if target == "INVOICED":
        return [*path, "ACCEPTED", "INVOICED"]
    if target == "SENT":
        return path
    return [*path, target]


def move(payload: dict[str, Any], quote_id: str, status: str) -> dict[str, Any]:
    """A status move of a quote: its id, the status, and the fields Xero keeps."""
    kept = {k: payload[k] for k in KEPT_ON_A_MOVE if k in payload}
    return {"QuoteID": quote_id, **kept, "Status": status}
