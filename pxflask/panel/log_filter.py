"""The sync log's filters, read from the log page's query string (no Flask).

Every value is checked: a page number or a date that is not plain ASCII digits in
range, or text with control characters (PostgreSQL refuses NUL), is an
``InvalidFilter`` with a clear message, which the log page answers with 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["MAX_PAGE", "InvalidFilter", "LogFilter", "parse_log_filter"]

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class LogFilter:
    """The sync log filters, as the log page's query string carries them."""

    entity: str = ""
    outcome: str = ""
    action: str = ""  # e.g. pull: what came from Xero
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    page: int = 1


class InvalidFilter(ValueError):
    """A log filter value is malformed."""


def parse_log_filter(args: dict[str, str]) -> LogFilter:
    """Read filters from query arguments; raise InvalidFilter with a clear message."""

    def text(name: str) -> str:
        raw = (args.get(name) or "").strip()
        if any(ch < " " for ch in raw):
            raise InvalidFilter(f"the {name} filter holds control characters")
        return raw

    def day(name: str) -> date | None:
        raw = text(name)
        if not raw:
            return None
        try:
            if not ISO_DAY.fullmatch(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidFilter(f"{raw[:40]!r} is not a date like 2025-01-31") from None

    page = text("page") or "1"
    if not (page.isascii() and page.isdigit() and len(page) <= 7) or not (
        0 < int(page) <= MAX_PAGE
    ):
        raise InvalidFilter(f"page must be a number from 1 to {MAX_PAGE:,}")
    return LogFilter(
        entity=text("entity"),
        outcome=text("outcome"),
        action=text("action"),
        date_from=day("from"),
        date_to=day("to"),
        text=text("q")[:200],
        page=int(page),
    )
