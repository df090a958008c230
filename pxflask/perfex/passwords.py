"""Perfex staff password hashes (phpass): bcrypt and the portable MD5 scheme."""

from __future__ import annotations

import hashlib
import hmac

import bcrypt

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
PORTABLE_PREFIXES = ("$P$", "$H$")
ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BCRYPT_MAX_BYTES = 72
PERFEX_COST = 8  # PHPASS_HASH_STRENGTH


class UnknownHashFormat(ValueError):
    """The stored hash is neither bcrypt nor phpass portable."""


def _encode64(data: bytes, count: int) -> str:
    """phpass's base-64 variant: 6 bits at a time, least significant first."""
    out = []
    i = 0
    while i < count:
        value = data[i]
        i += 1
        out.append(ITOA64[value & 0x3F])
        if i < count:
            value |= data[i] << 8
        out.append(ITOA64[(value >> 6) & 0x3F])
        if i >= count:
            break
        i += 1
        if i < count:
            value |= data[i] << 16
        out.append(ITOA64[(value >> 12) & 0x3F])
        if i >= count:
            break
        i += 1
        out.append(ITOA64[(value >> 18) & 0x3F])
    return "".join(out)


def portable_hash(password: str, setting: str) -> str | None:
    """The phpass portable hash of a password for a '$P$'/'$H$' setting, or None.

    setting = 3-char id, one itoa64 char giving log2 of the iteration count (7..30),
    then an 8-char salt. hash = md5(salt + password), then count times
    hash = md5(hash + password); the result is setting[:12] + encode64(hash).
    """
    if len(setting) < 12 or setting[:3] not in PORTABLE_PREFIXES:
        return None
    count_log2 = ITOA64.find(setting[3])
    if count_log2 < 7 or count_log2 > 30:
        return None
    salt = setting[4:12]
    secret = password.encode("utf-8")
    digest = hashlib.md5(
        salt.encode("latin-1") + secret, usedforsecurity=False
    ).digest()
    for _ in range(1 << count_log2):
        digest = hashlib.md5(digest + secret, usedforsecurity=False).digest()
    return setting[:12] + _encode64(digest, 16)


def _bcrypt_secret(password: str) -> bytes:
    """The bytes crypt() hashes: UTF-8, cut at 72 bytes like PHP's crypt()."""
    return password.encode("utf-8")[:BCRYPT_MAX_BYTES]


def verify_password(password: str, stored_hash: str) -> bool:
    """True when the password matches a Perfex (phpass) stored hash."""
    stored = (stored_hash or "").strip()
    if stored.startswith(BCRYPT_PREFIXES):
        if len(stored) != 60:
            return False
        secret = _bcrypt_secret(password)
        if b"\x00" in secret:
            return False
        # $2y$ (PHP) and $2a$ are the same algorithm as $2b$ for valid UTF-8 input.
        normalised = "$2b$" + stored[4:]
        try:
            return bcrypt.checkpw(secret, normalised.encode("ascii"))
        except ValueError:
            return False
    if stored.startswith(PORTABLE_PREFIXES):
        if len(stored) != 34:
            return False
        computed = portable_hash(password, stored)
        return computed is not None and hmac.compare_digest(
            computed.encode("ascii"), stored.encode("ascii", "replace")
        )
    raise UnknownHashFormat(
        "unsupported password hash format "
        f"{stored[:4]!r}... (expected $2a$/$2y$/$2b$ bcrypt or $P$/$H$ phpass)"
    )


def hash_password(password: str, rounds: int = PERFEX_COST) -> str:
    """Hash a password the way Perfex does: bcrypt '$2a$08$...' (60 chars)."""
    salt = bcrypt.gensalt(rounds=rounds, prefix=b"2a")
    return bcrypt.hashpw(_bcrypt_secret(password), salt).decode("ascii")
