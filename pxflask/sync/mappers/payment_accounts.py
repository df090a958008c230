"""The Xero bank account a Perfex payment mode pays into (payments, expenses)."""

from __future__ import annotations

from collections.abc import Mapping

from pxflask.sync.links import LinkRow

PAYMENT_ACCOUNT = "payment_account."
"""Settings prefix: payment_account.<mode id or gateway id> -> a Xero account code."""
DEFAULT_KEY = PAYMENT_ACCOUNT + "default"


def payment_account_for(mode: str | None, settings: Mapping[str, str]) -> str | None:
    """The Xero account code for a mode id or gateway id, else the default one."""
    if mode:
        code = (settings.get(f"payment_account.{mode}") or "").strip()
        if code:
            return code
    return (settings.get(DEFAULT_KEY) or "").strip() or None


def account_for(
    mode: str | None, settings: Mapping[str, str], modes: Mapping[str, LinkRow]
) -> str | None:
    """The Xero account: per mode/gateway setting, the mode's link, the default."""
    if mode and not (settings.get(f"payment_account.{mode}") or "").strip():
        link = modes.get(mode)
        if link is not None and link.xero_number:
            return link.xero_number
    return payment_account_for(mode, settings)
