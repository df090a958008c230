"""Perfex (phpass) password hashes."""

from __future__ import annotations

import bcrypt
import pytest

from pxflask.perfex.passwords import (
    ITOA64,
    UnknownHashFormat,
    hash_password,
    portable_hash,
    verify_password,
)


def test_hash_password_makes_perfex_style_bcrypt():
    """hash_password gives '$2a$08$' + 53 chars, and it verifies."""
    stored = hash_password("s3cret-Pässword")
    assert stored.startswith("$2a$08$") and len(stored) == 60
    assert verify_password("s3cret-Pässword", stored)
    assert not verify_password("s3cret-Password", stored)


def test_verify_php_password_hash_2y():
    """A PHP password_hash() '$2y$10$' hash verifies (same algorithm)."""
    made = bcrypt.hashpw(b"hunter2", bcrypt.gensalt(rounds=10, prefix=b"2b"))
    stored = "$2y$" + made.decode()[4:]
    assert stored.startswith("$2y$10$")
    assert verify_password("hunter2", stored)
    assert not verify_password("hunter3", stored)


def test_verify_2b():
    """A '$2b$' hash verifies too."""
    stored = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    assert stored.startswith("$2b$")
    assert verify_password("pw", stored)


def test_bcrypt_uses_only_the_first_72_bytes():
    """Like PHP's crypt(), bytes after the 72nd do not matter (and do not raise)."""
    stored = hash_password("x" * 72)
    assert verify_password("x" * 72 + "anything else", stored)
    assert not verify_password("x" * 71, stored)


def test_verify_portable_phpass_hash():
    """A '$P$' portable hash verifies; the wrong password does not."""
    stored = portable_hash("open sesame", "$P$B" + "abcdefgh")
    assert stored is not None and len(stored) == 34
    assert verify_password("open sesame", stored)
    assert not verify_password("open sesamE", stored)


def test_portable_hash_matches_the_phpass_reference_vector():
    """The reference vector from phpass's own test: test12345."""
    assert verify_password("test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0")
    assert not verify_password("test12346", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0")


def test_h_prefix_is_the_same_scheme():
    """'$H$' (phpBB) uses the same portable scheme."""
    stored = portable_hash("pw", "$H$" + ITOA64[8] + "saltsalt")
    assert stored is not None and stored.startswith("$H$")
    assert verify_password("pw", stored)


def test_portable_hash_rejects_bad_iteration_counts():
    """log2 counts outside 7..30 are refused (phpass returns '*0')."""
    assert portable_hash("pw", "$P$" + ITOA64[6] + "saltsalt") is None
    assert portable_hash("pw", "$P$" + ITOA64[31] + "saltsalt") is None
    assert not verify_password("pw", "$P$" + ITOA64[6] + "saltsalt" + "x" * 22)


def test_malformed_known_formats_do_not_verify():
    """Truncated bcrypt or portable hashes simply fail."""
    assert not verify_password("pw", "$2a$08$short")
    assert not verify_password("pw", "$P$Bshort")


@pytest.mark.parametrize(
    "stored",
    ["", "5f4dcc3b5aa765d61d8327deb882cf99", "_J9..rasm", "$1$abc$def", "$argon2id$"],
)
def test_unknown_formats_raise(stored):
    """MD5 hex, ext-DES, md5-crypt, argon2, empty: UnknownHashFormat."""
    with pytest.raises(UnknownHashFormat):
        verify_password("pw", stored)
