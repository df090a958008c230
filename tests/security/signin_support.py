"""Helpers of the sign-in security tests: staff rows, forms, what a browser reads."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from flask.testing import FlaskClient

from pxflask.perfex.passwords import hash_password
from tests.fixtures.webapp import csrf_token
from tests.test_auth import add_staff, set_staff_flag

TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # base32, as Perfex's Google Authenticator stores it
STAFF_PASSWORD = "second-factor-pass"  # noqa: S105 - a test credential
STEP_MARGIN_SECONDS = 2.0
C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$", re.DOTALL)
SPECIAL_SCHEMES = {"http", "https", "ftp", "ws", "wss", "file"}


def add_two_factor_staff(
    url: str, email: str, mode: int, secret: str | None = TOTP_SECRET
) -> int:
    """An active admin with Perfex's two_factor_auth_enabled = mode; its id."""
    staff_id = add_staff(url, email, hash_password(STAFF_PASSWORD))
    values: dict[str, object] = {"two_factor_auth_enabled": mode}
    if secret is not None:
        values["google_auth_secret"] = secret
    set_staff_flag(url, staff_id, **values)
    return staff_id


def drop_staff_column(url: str, column: str) -> None:
    """Remove a column of tblstaff, as an older Perfex lacks it."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE tblstaff DROP COLUMN {column}")
    engine.dispose()


def post_login(
    client: FlaskClient, email: str, password: str, next_target: str | None = None
):
    """Post the sign-in form, with `next` in the query string when given."""
    token = csrf_token(client, "/login")
    query = {"next": next_target} if next_target is not None else None
    return client.post(
        "/login",
        query_string=query,
        data={"email": email, "password": password, "csrf_token": token},
    )


def post_code(client: FlaskClient, code: str):
    """Post the second sign-in step's form."""
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def browser_target(
    location: str, base_scheme: str = "http", base_host: str = "localhost"
) -> tuple[str, str]:
    """Where a browser goes for a Location header: (scheme, host).

    Follows the WHATWG URL parser for a page on http://localhost: outer C0
    controls and spaces are stripped, tabs and newlines removed, backslashes
    read as slashes, and any run of slashes before an authority skipped.
    """
    cleaned = TAB_OR_NEWLINE.sub("", location.strip(C0_AND_SPACE)).replace("\\", "/")
    match = SCHEME.match(cleaned)
    if match:
        scheme, rest = match[1].lower(), match[2]
        if scheme not in SPECIAL_SCHEMES:
            return scheme, ""
        if scheme != base_scheme or rest.startswith("//"):
            return scheme, _authority(rest)
        return base_scheme, base_host
    if cleaned.startswith("//"):
        return base_scheme, _authority(cleaned)
    return base_scheme, base_host


def _authority(rest: str) -> str:
    """The host after any slashes: up to the path, query or fragment, no userinfo."""
    authority = re.split(r"[/?#]", rest.lstrip("/"), maxsplit=1)[0]
    return authority.rsplit("@", 1)[-1].lower()


def totp_code(secret: str = TOTP_SECRET, steps_from_now: int = 0) -> str:
    """The authenticator app's code now (or some 30-second steps away).

    Near the end of a 30-second step it waits for the next one, so that the
    panel checks the code in the step it was made for.
    """
    from pxflask.panel import totp  # the implementation the RFC 6238 vectors check

    left = totp.STEP_SECONDS - time.time() % totp.STEP_SECONDS
    if left < STEP_MARGIN_SECONDS:
        time.sleep(left + 0.05)
    return totp.code_at(
        totp.decode_secret(secret), totp.current_step() + steps_from_now
    )
