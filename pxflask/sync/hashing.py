"""A canonical, stable payload hash: sorted keys, Decimals normalised, ISO dates."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any


def _decimal_text(value: Decimal) -> str:
    """1.50, 1.5 and 1.500 all give '1.5'; -0 gives '0'; never an exponent."""
    if value.is_nan() or value.is_infinite():
        raise ValueError(f"not a finite amount: {value}")
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _default(value: Any) -> Any:
    """JSON form of the types json does not know."""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"cannot hash a {type(value).__name__}")


def canonical_json(payload: Any) -> str:
    """The canonical text of a payload (sorted keys, compact, Unicode kept)."""
    return json.dumps(
        payload,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_default,
        allow_nan=False,
    )


def payload_hash(payload: Any) -> str:
    """SHA-256 hex digest (64 chars) of the canonical form of a payload."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
