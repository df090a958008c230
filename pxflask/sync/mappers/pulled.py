"""What the pulls from Xero share (pure): claim keys, Xero days, a Xero account's mode.

Payments and credit-note refunds made in Xero are brought to Perfex the same way:
a claim link `xero:<PaymentID>` before the Perfex write, a link marked as
pulled (`links.PULLED_FROM_XERO`) after it, the Perfex payment mode chosen from the
Xero bank account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from pxflask.sync.links import LinkRow
from pxflask.sync.mappers.payment_accounts import DEFAULT_KEY, PAYMENT_ACCOUNT
from pxflask.sync.units import Switch

CLAIM = "xero:"
"""Key prefix of a claim (or skip) link for a Xero payment not yet in Perfex."""
WANTED = "wanted:"
"""Key prefix of a payments link naming a Xero payment of an invoice pulled from
Xero: the payments pull reads it (by PaymentID) unless its own pass saw it."""
PAYMENTS_SWITCH = Switch(
    "payments_from_xero",
    "Payments made in Xero",
    on="Record them in Perfex",
    off="Leave them in Xero",
    default=True,
)
"""Pull payments made in Xero into Perfex (the payments unit's switch)."""


def claim_key(payment_id: str) -> str:
    """The link key of a Xero payment that has no Perfex row yet."""
    return CLAIM + payment_id.lower()


def wanted_key(payment_id: str) -> str:
    """The link naming to the payments pull one Xero payment of a pulled invoice."""
    return WANTED + payment_id.lower()


def naive_utc(stamp: datetime) -> datetime:
    """A naive UTC datetime."""
    if stamp.tzinfo is None:
        return stamp
    return stamp.astimezone(UTC).replace(tzinfo=None)


def xero_day(value: Any) -> date | None:
    """A Xero date (date, datetime or ISO text) as a date."""
    if isinstance(value, datetime):
        return naive_utc(value).date()
    if isinstance(value, date) or not value:
        return value or None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def mode_for_account(
    account: Mapping[str, Any],
    settings: Mapping[str, str],
    mode_links: Mapping[str, LinkRow],
    modes: Iterable[Any],
) -> str | None:
    """The Perfex payment mode for a Xero account.

    In order: a `payment_account.<mode id>` setting naming the account's code (then
    a gateway id's), the payment-mode link to the account, else the first active
    Perfex mode usable on invoices (Perfex's seed mode "Bank"); None when none.
    """
    code = str(account.get("Code") or "").strip()
    account_id = str(account.get("AccountID") or "").lower()
    if code:
        named = [
            key.split(".", 1)[1]
            for key, value in settings.items()
            if key.startswith(PAYMENT_ACCOUNT)
            and key != DEFAULT_KEY
            and (value or "").strip() == code
        ]
        if named:
            return min(named, key=mode_order)
    for mode in sorted(mode_links, key=mode_order):
        link = mode_links[mode]
        if (account_id and str(link.xero_id or "").lower() == account_id) or (
            code and link.xero_number == code
        ):
            return mode
    usable = [m for m in modes if not getattr(m, "expenses_only", False)]
    return str(usable[0].id) if usable else None


def mode_order(mode: str) -> tuple[bool, int, str]:
    """Mode ids first, in numeric order, then gateway ids by name."""
    return (not mode.isdigit(), int(mode) if mode.isdigit() else 0, mode)
