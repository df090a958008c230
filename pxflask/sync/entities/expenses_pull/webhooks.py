"""Which Xero webhooks start the expenses pull.

Xero sends INVOICE events for bills (ACCPAY) as for sales invoices, without the
type (only CREDITNOTE events carry one), and none for bank transactions: spend
money is found by the scheduled pass (If-Modified-Since). So an INVOICE event
starts one incremental pull (two reads when nothing changed) when the switch is on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pxflask.sync.entities.expenses_pull.step import enabled

CATEGORY = "INVOICE"


def pull_wanted(
    events: Iterable[Mapping[str, Any]], settings: Mapping[str, str]
) -> bool:
    """True when the switch is on and an event says a Xero invoice or bill changed."""
    if not enabled(settings):
        return False
    return any(str(e.get("eventCategory", "")).upper() == CATEGORY for e in events)
