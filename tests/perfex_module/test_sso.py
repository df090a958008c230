"""Cross-language: a token the PHP module signs signs its admin in at /sso."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from pxflask.extensions import db
from pxflask.models import SsoNonce, utcnow
from pxflask.panel.throttling import MAX_PER_ADDRESS
from pxflask.perfex.passwords import hash_password
from tests.fixtures.webapp import make_test_app
from tests.perfex_module.php import php_sign
from tests.test_auth import add_staff, set_staff_flag

SECRET = "sso-secret-for-tests-0123456789abcdef"  # noqa: S105 - a test secret
ADMIN_ID = 1


@pytest.fixture
def app(tmp_path, perfex_copy_url):
    """The app with the shared secret set."""
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_SSO_SECRET=SECRET)
    yield app
    with app.app_context():
        db.engine.dispose()


def _open(client, token: str):
    """Follow the module's redirect to /sso."""
    return client.get("/sso", query_string={"token": token})


def test_a_token_signed_in_php_signs_the_admin_in(client):
    """The PHP token is accepted: a session starts and the dashboard opens."""
    assert client.get("/settings/").status_code == 302  # not signed in yet
    response = _open(client, php_sign(SECRET, ADMIN_ID))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/", follow_redirects=True).status_code == 200
    assert client.get("/settings/").status_code == 200


def test_a_replayed_token_is_refused(app, client, perfex_copy_url):
    """The same token twice: the second is refused (the nonce is kept until expiry)."""
    token = php_sign(SECRET, ADMIN_ID)
    assert _open(client, token).status_code == 302
    other = app.test_client()
    again = _open(other, token)
    assert again.status_code == 403
    assert "already used" in again.get_data(as_text=True)
    assert other.get("/settings/").status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(SsoNonce)).all()) == 1


def test_expired_tampered_and_foreign_tokens_are_refused(client):
    """Expired, altered payload or signature, another secret, garbage: a clear 403."""
    old = php_sign(SECRET, ADMIN_ID, int(time.time()) - 61)
    good = php_sign(SECRET, ADMIN_ID)
    body, _, mac = good.partition(".")
    other_staff = php_sign(SECRET, 2).partition(".")[0]
    cases = {
        old: "has expired",
        f"{other_staff}.{mac}": "not valid",
        f"{body}.{mac[:-2]}AA": "not valid",
        php_sign("another-secret", ADMIN_ID): "not valid",
        "": "not valid",
        "abc": "not valid",
        "x" * 5000: "not valid",
        f"{body}.": "not valid",
    }
    for token, reason in cases.items():
        response = _open(client, token)
        text = response.get_data(as_text=True)
        assert response.status_code == 403, token
        assert reason in text, token
        assert "Traceback" not in text
        assert "Location" not in response.headers
    assert client.get("/settings/").status_code == 302


def test_far_future_expiry_is_refused(client):
    """A token valid for more than five minutes is not one the module makes."""
    token = php_sign(SECRET, ADMIN_ID, int(time.time()) + 3600)
    assert _open(client, token).status_code == 403


def test_non_admin_and_inactive_staff_are_refused(client, perfex_copy_url):
    """A well-signed token of a non-admin, an inactive admin or nobody: refused."""
    clerk = add_staff(perfex_copy_url, "clerk@example.com", hash_password("x"), admin=0)
    gone = add_staff(perfex_copy_url, "gone@example.com", hash_password("x"), active=0)
    for staff_id in (clerk, gone):
        response = _open(client, php_sign(SECRET, staff_id))
        assert response.status_code == 403
        assert "not an active admin" in response.get_data(as_text=True)
    assert _open(client, php_sign(SECRET, 99999)).status_code == 403
    set_staff_flag(perfex_copy_url, clerk, admin=1)
    assert _open(client, php_sign(SECRET, clerk)).status_code == 302


def test_without_a_secret_sso_is_off(tmp_path, perfex_copy_url):
    """PXFLASK_SSO_SECRET unset: every token refused, the page says what to set."""
    bare = make_test_app(tmp_path, perfex_copy_url)
    response = bare.test_client().get(
        "/sso", query_string={"token": php_sign("", ADMIN_ID)}
    )
    assert response.status_code == 404
    assert "PXFLASK_SSO_SECRET" in response.get_data(as_text=True)


def test_failures_are_throttled_per_address(client):
    """Bad tokens count like bad passwords: the address is locked after the limit."""
    for _ in range(MAX_PER_ADDRESS):
        assert _open(client, "bad.token").status_code == 403
    locked = _open(client, php_sign(SECRET, ADMIN_ID))
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)


def test_used_nonces_are_pruned_after_expiry(app, client):
    """A nonce older than its expiry is deleted at the next sign-in."""
    with app.app_context():
        db.session.add(SsoNonce(nonce="a" * 32, expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    assert _open(client, php_sign(SECRET, ADMIN_ID)).status_code == 302
    with app.app_context():
        kept = db.session.scalars(select(SsoNonce.nonce)).all()
    assert "a" * 32 not in kept and len(kept) == 1


def test_the_module_s_form_post_signs_in_without_a_csrf_token(client):
    """The token in a POSTed body (out of access logs) is its own authentication."""
    response = client.post("/sso", data={"token": php_sign(SECRET, ADMIN_ID)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/settings/").status_code == 200
    refused = client.post("/sso", data={"token": "forged.token"})
    assert refused.status_code == 403
    assert "not valid" in refused.get_data(as_text=True)


def test_next_goes_through_safe_next_under_the_prefix(tmp_path, perfex_copy_url):
    """Behind a proxy at /xero: a next under the prefix is kept, any other dropped."""
    app = make_test_app(
        tmp_path, perfex_copy_url, PXFLASK_SSO_SECRET=SECRET, PXFLASK_TRUSTED_PROXIES=1
    )
    proxied = {"X-Forwarded-Prefix": "/xero", "X-Forwarded-Proto": "https"}
    cases = {
        "/xero/sync/": "/xero/sync/",
        "/sync/": "/xero/",
        "//evil.test/": "/xero/",
        "https://evil.test/": "/xero/",
        "": "/xero/",
    }
    for given, landed in cases.items():
        token = php_sign(SECRET, ADMIN_ID)
        client = app.test_client()
        posted = client.post(
            "/sso", data={"token": token, "next": given}, headers=proxied
        )
        assert (given, posted.headers.get("Location")) == (given, landed)
        token = php_sign(SECRET, ADMIN_ID)
        linked = client.get(
            "/sso", query_string={"token": token, "next": given}, headers=proxied
        )
        assert (given, linked.headers.get("Location")) == (given, landed)
    with app.app_context():
        db.engine.dispose()
