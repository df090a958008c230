"""A settings change never rewrites history: settings-neutral content.

A record Xero already has is sent again only when the Perfex record changed, not
because a mapping did (`sales_account`, `payment_account.<mode>`, `tax_rate.<id>`,
a tax link...). So what a step hashes to decide "changed" is the payload mapped
with every mapping replaced by what it maps *from*: a payment's Perfex mode
instead of its Xero account, a line's Perfex taxes instead of the Xero TaxType,
the setting's name instead of its account code. A mapping change applies to what
is sent after it; re-posting records with the current mappings is the explicit
`--repost` action (repost.py). Each entity's neutral mapping context lives beside
its mapper (mappers/documents.py, expenses/mapper.py).
"""

from __future__ import annotations

from typing import Any

REPOST_MARK = "repost"
"""A link's payload hash while a re-post with the current mappings is requested."""


def payment_content(payload: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """A payment's payload with the Xero account replaced by its Perfex mode."""
    return {**payload, "Account": {"PerfexMode": mode or ""}}
