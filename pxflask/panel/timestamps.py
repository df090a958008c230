"""How the panel shows a moment: UTC, to the minute or the second, no microseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime

MINUTE = "%Y-%m-%d %H:%M"
SECOND = "%Y-%m-%d %H:%M:%S"
FORMATS = {
    "minute": MINUTE,
    "second": SECOND,
    "date": "%Y-%m-%d",
    "time": "%H:%M",
    "clock": "%H:%M:%S",
}


def when(
    value: datetime | date | str | None, precision: str = "minute", empty: str = "—"
) -> str:
    """A datetime (naive is UTC), a date or ISO text as `YYYY-MM-DD HH:MM` UTC.

    `precision` is minute, second, date, time (HH:MM) or clock (HH:MM:SS); text
    that is not ISO is shown as it is, and None or "" as `empty`.
    """
    if value is None or value == "":
        return empty
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            return text
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if not isinstance(value, datetime):
        return value.isoformat()
    return value.strftime(FORMATS.get(precision, MINUTE))
