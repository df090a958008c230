"""Xero's lock dates: no accounting write dated on or before them.

An organisation may carry a `PeriodLockDate` and an `EndOfYearLockDate`; Xero
refuses to create or change invoices, credit notes, payments, bank transactions
and allocations dated on or before the later of the two. The wording is the one
integrations quote from Xero ("The document date cannot be before the period lock
date, currently set at 30-Nov-2018"); neither FACTS.md nor the spec has it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..serialize import parse_date
from .common import Ctx, Invalid

PERIOD = "PeriodLockDate"
END_OF_YEAR = "EndOfYearLockDate"
MESSAGES = {
    PERIOD: "The document date cannot be before the period lock date, "
    "currently set at {when}",
    END_OF_YEAR: "The document date cannot be before the end of year lock date, "
    "currently set at {when}",
}


def lock_dates(organisation: dict[str, Any]) -> dict[str, date]:
    """The lock dates an organisation carries (field name -> date)."""
    found: dict[str, date] = {}
    for name in (PERIOD, END_OF_YEAR):
        value = organisation.get(name)
        if value not in (None, ""):
            found[name] = parse_date(value)
    return found


def effective_lock(ctx: Ctx) -> date | None:
    """The later of the two lock dates, or None when the books are open."""
    found = lock_dates(ctx.tenant.organisation)
    return max(found.values()) if found else None


def check_open(ctx: Ctx, *dates: date | None) -> None:
    """Raise Invalid when any of the dates is on or before a lock date."""
    found = lock_dates(ctx.tenant.organisation)
    if not found:
        return
    dated = [d for d in dates if d is not None]
    messages = [
        MESSAGES[name].format(when=f"{lock.day:02d}-{lock:%b-%Y}")
        for name, lock in found.items()
        if any(d <= lock for d in dated)
    ]
    if messages:
        raise Invalid(*messages)


def set_lock_dates(
    organisation: dict[str, Any],
    period: date | None = None,
    end_of_year: date | None = None,
) -> None:
    """Set (a date) or clear (None) both lock dates of an organisation."""
    for name, value in ((PERIOD, period), (END_OF_YEAR, end_of_year)):
        if value is None:
            organisation.pop(name, None)
        else:
            organisation[name] = value
