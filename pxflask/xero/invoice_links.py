"""The gateway's calls about one sales invoice: its online URL and its e-mail.

Both go through the gateway's one call path (token, limiter, day budget, retries,
stats). Xero e-mails one invoice per call; the idempotency key is fixed per
invoice, so a retry (or a rerun within Xero's 6 minutes) never sends it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xero_python.accounting import models as sdk

from pxflask.xero.limiter import RateLimiter
from pxflask.xero.stats import CallStats

EMAIL_KEY_PREFIX = "pxflask-email-"


class GatewayInvoiceLinks:
    """XeroGateway's online-invoice and e-mail calls (mixed in)."""

    limiter: RateLimiter
    stats: CallStats
    call: Callable[..., Any]
    tokens: Any

    def get_online_invoice(self, invoice_id: str) -> str | None:
        """The customer-facing URL of an approved sales invoice (None if absent).

        Xero answers 400 for drafts, bills and voided invoices: that raises
        XeroRequestError with Xero's message.
        """
        data = self.call("get_online_invoice", invoice_id)
        found = getattr(data, "online_invoices", None) or []
        url = getattr(found[0], "online_invoice_url", None) if found else None
        return str(url) if url else None

    def email_invoice(self, invoice_id: str) -> None:
        """Ask Xero to e-mail one approved sales invoice to its contact.

        Raises XeroRequestError (400) with Xero's reason when it refuses: not
        approved, no e-mail address on the contact, the day's e-mail limit.
        """
        self.call(
            "email_invoice",
            invoice_id,
            sdk.RequestEmpty(),
            idempotency_key=f"{EMAIL_KEY_PREFIX}{invoice_id}",
        )

    def day_budget(self) -> int:
        """The calls a day the limiter allows the tenant (XERO_DAY_LIMIT)."""
        return self.limiter.limits.day_budget

    def day_calls_left(self) -> int | None:
        """Calls of today's budget left for the tenant: the limiter's count and
        what Xero last said (X-DayLimit-Remaining), the lower; None if unknown."""
        conn = self.tokens.peek()
        tenant = conn.tenant_id if conn is not None else None
        counts: list[int] = []
        if tenant:
            counts.append(self.limiter.day_left(tenant))
        seen = self.stats.snapshot().get("day_remaining")
        if isinstance(seen, int):
            counts.append(seen)
        return min(counts) if counts else None
