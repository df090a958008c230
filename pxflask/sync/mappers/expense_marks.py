"""What the expenses push and the expenses pull share: Perfex's total, our marks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from pxflask.sync.mappers.common import HUNDRED, ZERO, dec, round2

_MARKER = re.compile(r"\(Perfex expense (\d+)\)")
_XERO_TAG = re.compile(r"\[xero:[0-9a-f-]{8,}\]")
"""The tag perfex.expense_writes.xero_tag puts in the note of a pulled expense."""


def expense_total(amount: Decimal, rates: Iterable[Decimal]) -> Decimal:
    """Perfex's expense total: net plus each tax on the net, rounded once."""
    net = dec(amount)
    return round2(net + sum((net * dec(r) / HUNDRED for r in rates), ZERO))


def expense_marker(expense_id: int) -> str:
    """The text on the Xero line that names the Perfex expense (a look-up key)."""
    return f"(Perfex expense {expense_id})"


def marked_expense(text: object) -> int | None:
    """The Perfex expense id a Xero line's text names (the push's marker), or None."""
    found = _MARKER.search(str(text or ""))
    return int(found.group(1)) if found else None


def has_xero_tag(note: object) -> bool:
    """True when an expense's note names the Xero document it was pulled from."""
    return bool(_XERO_TAG.search(str(note or "")))
