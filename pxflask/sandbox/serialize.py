"""Xero wire formats: /Date(ms+0000)/ dates, Decimal money, JSON without floats."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
TWO = Decimal("0.01")
_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def to_decimal(value: Any) -> Decimal:
    """Turn a JSON number/str into Decimal; raise ValueError when impossible."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half away from zero to the given number of decimal places."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    """A money amount rounded to 2 dp."""
    return quantize(to_decimal(value), 2)


def ms_date(value: date | datetime) -> str:
    """Format a date/datetime as Xero's /Date(ms+0000)/."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(value, time(0), tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def date_string(value: date | datetime) -> str:
    """Format like Xero's DateString: 2026-11-25T00:00:00."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return value.strftime("%Y-%m-%dT00:00:00")


def iso_utc(value: datetime) -> str:
    """Format a timestamp as ISO-8601 UTC with milliseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def parse_date(value: Any) -> date:
    """Parse an incoming Xero date (/Date(ms)/, YYYY-MM-DD, ISO datetime)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"invalid date {value!r}")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return date.fromisoformat(text[:10])


def parse_timestamp(value: str) -> datetime:
    """Parse an If-Modified-Since value (ISO or HTTP date) as aware UTC."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = parsedate_to_datetime(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _encode(obj: Any, out: list[str]) -> None:
    """Append the JSON text of obj to out."""
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_encode_str(obj))
    elif isinstance(obj, Decimal):
        out.append(format(obj, "f"))
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, float):
        out.append(format(Decimal(repr(obj)), "f"))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key, val in obj.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(str(key)))
            out.append(":")
            _encode(val, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for index, val in enumerate(obj):
            if index:
                out.append(",")
            _encode(val, out)
        out.append("]")
    elif isinstance(obj, datetime | date):
        out.append(_encode_str(ms_date(obj)))
    else:
        raise TypeError(f"cannot serialise {type(obj).__name__}")


class _HasDecimal(Exception):
    """The fast encoder met a Decimal: the exact encoder takes over."""


def _dates_only(obj: Any) -> str:
    """Dates as Xero writes them; anything else needs the exact encoder."""
    if isinstance(obj, datetime | date):
        return ms_date(obj)
    raise _HasDecimal


# json's C encoder, for documents without money (contacts, items, ...); floats
# never reach it: the sandbox parses every number with parse_float=Decimal
_FAST = json.JSONEncoder(separators=(",", ":"), default=_dates_only)


def dumps(obj: Any) -> str:
    """JSON-encode obj, writing Decimals as plain JSON numbers (never floats)."""
    try:
        return _FAST.encode(obj)
    except _HasDecimal:
        pass
    out: list[str] = []
    _encode(obj, out)
    return "".join(out)


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as Decimal."""
    return json.loads(text, parse_float=Decimal)
