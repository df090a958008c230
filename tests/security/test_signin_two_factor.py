"""Perfex's two-factor sign-in: TOTP asked on a second page, e-mail codes refused."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token
from tests.security.signin_support import (
    STAFF_PASSWORD,
    TOTP_SECRET,
    add_two_factor_staff,
    drop_staff_column,
    post_code,
    post_login,
    totp_code,
)

TOTP_EMAIL = "totp@example.com"
PENDING_KEY = "pxf_pending_2fa"


@pytest.fixture
def totp_staff(perfex_copy_url) -> int:
    """An active admin with Google Authenticator (two_factor_auth_enabled = 2)."""
    return add_two_factor_staff(perfex_copy_url, TOTP_EMAIL, 2)


def signed_in(client) -> bool:
    """True when the client's session opens a page behind sign-in."""
    return client.get("/sync/").status_code == 200


def test_rfc_6238_vectors():
    """SHA-1 test vectors of RFC 6238 (8 digits there, the last 6 here)."""
    from pxflask.panel import totp

    secret = b"12345678901234567890"
    for seconds, expected in [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ]:
        assert totp.code_at(secret, seconds // 30) == expected[-6:]
    assert totp.decode_secret("jbsw y3dp ehpk 3pxp") == b"Hello!\xde\xad\xbe\xef"


def test_password_alone_does_not_sign_in_a_totp_admin(client, totp_staff):
    """The right password leads to the code page, not into the panel."""
    response = post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/code"
    assert not signed_in(client)
    page = client.get("/login/code").get_data(as_text=True)
    assert "authenticator" in page.lower()


def test_code_completes_the_sign_in_and_keeps_next(client, totp_staff):
    """The current code signs in and returns to the page asked for."""
    post_login(client, TOTP_EMAIL, STAFF_PASSWORD, "/sync/log?entity=invoices")
    response = post_code(client, totp_code())
    assert response.status_code == 302
    assert response.headers["Location"] == "/sync/log?entity=invoices"
    assert signed_in(client)


@pytest.mark.parametrize(
    "steps,accepted", [(-1, True), (1, True), (-2, False), (2, False)]
)
def test_one_step_of_clock_drift_is_accepted(client, totp_staff, steps, accepted):
    """Codes of the previous and next 30-second step pass; older or newer do not."""
    post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    response = post_code(client, totp_code(steps_from_now=steps))
    assert (response.status_code == 302) is accepted
    assert signed_in(client) is accepted


def test_a_code_cannot_be_used_twice(app, totp_staff):
    """A code that signed in once is refused for the rest of its window."""
    first, second = app.test_client(), app.test_client()
    code = totp_code()
    post_login(first, TOTP_EMAIL, STAFF_PASSWORD)
    assert post_code(first, code).status_code == 302
    post_login(second, TOTP_EMAIL, STAFF_PASSWORD)
    response = post_code(second, code)
    assert response.status_code == 401
    assert "code is not valid" in response.get_data(as_text=True)
    assert not signed_in(second)


def test_wrong_codes_are_throttled_like_passwords(client, totp_staff):
    """Five wrong codes lock the account; the right code is then refused too."""
    post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    good = totp_code()
    wrong = f"{(int(good) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        assert post_code(client, wrong).status_code == 401
    response = post_code(client, good)
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert not signed_in(client)
    again = post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    assert "Too many failed sign-ins" in again.get_data(as_text=True)


def test_the_code_step_expires(client, totp_staff):
    """After a few minutes the password step has to be done again."""
    post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    token = csrf_token(client, "/login/code")
    with client.session_transaction() as session:
        pending = session[PENDING_KEY]
        pending["until"] = time.time() - 1
        session[PENDING_KEY] = pending
    response = client.post(
        "/login/code", data={"code": totp_code(), "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_code_page_needs_the_password_step(client, totp_staff):
    """Opening the code page directly leads back to the sign-in form."""
    response = client.get("/login/code")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_email_codes_refuse_the_password_sign_in(client, perfex_copy_url):
    """Perfex's e-mailed codes: the panel refuses and points to Perfex's menu."""
    add_two_factor_staff(perfex_copy_url, "mailed@example.com", 1, secret=None)
    response = post_login(client, "mailed@example.com", STAFF_PASSWORD)
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "open pxflask from Perfex&#39;s admin menu" in text
    assert not signed_in(client)


def test_email_code_message_needs_the_right_password(client, perfex_copy_url):
    """A wrong password gets the generic message: 2FA settings are not revealed."""
    add_two_factor_staff(perfex_copy_url, "mailed@example.com", 1, secret=None)
    text = post_login(client, "mailed@example.com", "wrong").get_data(as_text=True)
    assert "Invalid email or password" in text
    assert "admin menu" not in text


def test_perfex_without_google_auth_secret_column(client, perfex_copy_url):
    """An older Perfex lacks the column: TOTP staff are refused, others sign in."""
    add_two_factor_staff(perfex_copy_url, TOTP_EMAIL, 2, secret=None)
    drop_staff_column(perfex_copy_url, "google_auth_secret")
    response = post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    assert response.status_code == 401
    assert "Perfex&#39;s admin menu" in response.get_data(as_text=True)
    assert not signed_in(client)
    assert post_login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 302


def test_demo_admin_needs_no_code(client):
    """Staff without two-factor sign-in (the seed's admin) sign in with the password."""
    assert post_login(client, ADMIN_EMAIL, ADMIN_PASSWORD).headers["Location"] == "/"
    assert signed_in(client)


def test_secret_is_the_one_perfex_stores(client, perfex_copy_url):
    """The code is checked against google_auth_secret of that staff row."""
    add_two_factor_staff(perfex_copy_url, TOTP_EMAIL, 2, secret="GEZDGNBVGY3TQOJQ")
    post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    assert post_code(client, totp_code(TOTP_SECRET)).status_code == 401
    assert post_code(client, totp_code("GEZDGNBVGY3TQOJQ")).status_code == 302


def test_the_right_password_does_not_reset_code_failures(client, totp_staff):
    """Password, wrong code, password, ...: still five wrong codes at most."""
    wrong = f"{(int(totp_code()) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        assert post_login(client, TOTP_EMAIL, STAFF_PASSWORD).status_code == 302
        assert post_code(client, wrong).status_code == 401
    response = post_login(client, TOTP_EMAIL, STAFF_PASSWORD)
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
