"""The connected organisation: one GET /Organisation per run, shared by the steps.

Lock dates (lockdates.py) and the tax rules (the country decides ReportTaxType
and which no-tax rate exists) read the same answer. The country is also kept as
a cursor row so the panel can explain tax choices without calling Xero.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.models import SyncCursor
from pxflask.sync.context import StepContext
from pxflask.sync.links import store_cursor

SHARED = "xero.organisation"
COUNTRY = "xero.organisation.country"
"""Cursor row: the organisation's CountryCode as last read (GB, AU, NZ, US...)."""
SHORT_CODE = "xero.organisation.shortcode"
"""Cursor row: the organisation's ShortCode (deep links into Xero), as last read."""


def organisation(ctx: StepContext) -> dict[str, Any]:
    """The organisation record, read once per run (cached in ctx.shared)."""
    if SHARED not in ctx.shared:
        record = ctx.gateway.get_organisation() or {}
        ctx.shared[SHARED] = record
        code = str(record.get("CountryCode") or "").upper()
        if code and not ctx.dry_run:
            store_cursor(ctx.session, COUNTRY, code, commit=True)
        short = str(record.get("ShortCode") or "")
        if short and not ctx.dry_run:
            store_cursor(ctx.session, SHORT_CODE, short, commit=True)
    return ctx.shared[SHARED]


def country(ctx: StepContext) -> str | None:
    """The organisation's CountryCode (GB, AU, NZ, US, ...), or None."""
    code = organisation(ctx).get("CountryCode")
    return str(code).upper() if code else None


def cached_country(session: SessionLike) -> str | None:
    """The CountryCode the last run read (for the panel), or None."""
    value = session.scalar(select(SyncCursor.value).where(SyncCursor.name == COUNTRY))
    return value or None


def cached_short_code(session: SessionLike) -> str | None:
    """The ShortCode the last run read (deep links without a call), or None."""
    value = session.scalar(
        select(SyncCursor.value).where(SyncCursor.name == SHORT_CODE)
    )
    return value or None
