"""Helpers shared by the mappers: rounding, text clean-up, the mapping result."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

_BR = re.compile(
    r"<\s*br\s*/?\s*>[ \t]*(?:\r\n|\r|\n)?|<\s*/?\s*(p|div|li|tr|h[1-6])\b[^>]*>",
    re.IGNORECASE,
)
"""A line break: `<br />` with the newline nl2br() keeps after it is one break."""
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_NOT_PLAIN = re.compile(r"[<&\xa0\n\t\r\f\v]|  ")
"""Text without any of these is already clean: only its ends need stripping."""


def round2(value: Decimal) -> Decimal:
    """Round half away from zero to cents, as Xero does."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_to(value: Decimal, places: int) -> Decimal:
    """Round half away from zero to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    """A Decimal from a Decimal, int or numeric string (never a float)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(str(value)) if value is not None else ZERO


def decimals_needed(value: Decimal) -> int:
    """Number of decimals a value needs once trailing zeros are dropped."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent)) if isinstance(exponent, int) else 0


def strip_html(text: str | None) -> str:
    """Plain text from Perfex's nl2br'd HTML: tags removed, entities decoded.

    Perfex stores text through nl2br(), "one<br />\\r\\ntwo": the `<br />` and its
    newline are one line break (single-spaced); an empty line typed in Perfex
    stays one empty line.
    """
    if not text:
        return ""
    if not _NOT_PLAIN.search(text):
        return text.strip()
    text = _BR.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clip(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, marking the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Mapped:
    """A mapper's answer: a Xero payload, a reason to skip, or a reason it failed."""

    key: str
    payload: dict[str, Any] | None
    skip: str | None = None
    unitdp4: bool = False
    notes: tuple[str, ...] = field(default=())
    error: str | None = None
    """Set when the record cannot be sent until something is fixed (it fails)."""

    @property
    def skipped(self) -> bool:
        """True when the record must not be sent (see `skip`)."""
        return self.payload is None


def skipped(key: str, reason: str) -> Mapped:
    """A Mapped that says: do not send this record, because `reason`."""
    return Mapped(key=key, payload=None, skip=reason)


def failed(key: str, reason: str) -> Mapped:
    """A Mapped that says: this record fails (counted, logged, retried next run)."""
    return Mapped(key=key, payload=None, skip=reason, error=reason)
