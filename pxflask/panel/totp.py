"""Time-based one-time passwords (RFC 6238) as Google Authenticator makes them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
CODE = re.compile(r"^\d{6}$")


class BadSecret(ValueError):
    """The stored secret is not base32."""


def decode_secret(text: str) -> bytes:
    """The key bytes of a base32 secret (blanks, case and padding ignored)."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper().rstrip("=")
    if not cleaned:
        raise BadSecret("the two-factor secret is empty")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as exc:
        raise BadSecret("the two-factor secret is not base32") from exc


def code_at(key: bytes, step: int) -> str:
    """The HOTP value (RFC 4226, HMAC-SHA1) for a time step, as 6 digits."""
    mac = hmac.new(key, step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def current_step(now: float | None = None) -> int:
    """The 30-second step of a Unix time (default: now)."""
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(key: bytes, code: str, now: float | None = None) -> int | None:
    """The step within one step of now whose code this is, or None."""
    code = re.sub(r"\s", "", code or "")
    if not CODE.match(code):
        return None
    here = current_step(now)
    found = None
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(key, step), code) and found is None:
            found = step
    return found
