"""Behind a reverse proxy: trusted forwarded headers, the /xero/ prefix, plain HTTP.

The test client plays the proxy: it sends X-Forwarded-* headers as nginx would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pxflask.config import ConfigError
from pxflask.extensions import db
from pxflask.models import LoginFailure
from pxflask.queueing import close_queue
from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD, CSRF_INPUT, make_test_app
from tests.web.conftest import SECRETS

PROXY = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "crm.example.com",
    "X-Forwarded-Prefix": "/xero",
    "Referer": "https://crm.example.com/xero/login",  # CSRF's check over HTTPS
}


def build(tmp_path, perfex_url: str, **overrides) -> Iterator[Flask]:
    """The app with the hook secrets and these settings; closed down after."""
    app = make_test_app(tmp_path, perfex_url, **SECRETS, **overrides)
    yield app
    close_queue(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def direct_app(tmp_path, perfex_copy_url) -> Iterator[Flask]:
    """No proxy trusted (the default), Secure cookies as in a real deployment."""
    yield from build(tmp_path, perfex_copy_url, SESSION_COOKIE_SECURE=True)


@pytest.fixture
def proxied_app(tmp_path, perfex_copy_url) -> Iterator[Flask]:
    """One trusted proxy, Secure cookies as in a real deployment."""
    yield from build(
        tmp_path,
        perfex_copy_url,
        PXFLASK_TRUSTED_PROXIES="1",
        SESSION_COOKIE_SECURE=True,
    )


def throttle_keys(app: Flask) -> set[str]:
    """The address keys the sign-in throttle has counted."""
    with app.app_context():
        keys = db.session.scalars(sa.select(LoginFailure.key)).all()
    return {key for key in keys if key.startswith("address:")}


def post_login(
    client: FlaskClient, password: str, path: str = "/login", **headers: str
):
    """GET the sign-in form, then post it, both with these headers."""
    form = client.get(path, headers=headers)
    token = CSRF_INPUT.search(form.get_data(as_text=True))
    assert token, form.get_data(as_text=True)
    cookie = client.get_cookie("session", path="/xero")
    if cookie is not None:  # the client sees no prefix: hand the cookie over at /
        client.set_cookie("session", cookie.value)
    data = {"email": ADMIN_EMAIL, "password": password, "csrf_token": token.group(1)}
    return client.post(path, data=data, headers=headers)


def test_untrusted_forwarded_for_does_not_change_the_throttle_key(direct_app):
    """With 0 trusted proxies a spoofed X-Forwarded-For is ignored: the peer counts."""
    client = direct_app.test_client()
    for spoof in ("203.0.113.1", "203.0.113.2"):
        headers = {"X-Forwarded-For": spoof, "X-Forwarded-Proto": "https"}
        assert post_login(client, "wrong", **headers).status_code == 401
    assert throttle_keys(direct_app) == {"address:127.0.0.1"}


def test_trusted_proxy_gives_the_client_address_to_the_throttle(proxied_app):
    """One trusted proxy: the last X-Forwarded-For value is the client."""
    client = proxied_app.test_client()
    assert post_login(client, "wrong", **PROXY).status_code == 401
    assert throttle_keys(proxied_app) == {"address:203.0.113.9"}


def test_prefix_scheme_and_host_shape_urls_redirects_and_cookie(proxied_app):
    """Under /xero/ over HTTPS: links, redirects, next and the Secure cookie."""
    client = proxied_app.test_client()
    first = client.get("/sync/", headers=PROXY)
    assert first.status_code == 302
    assert first.headers["Location"] == "/xero/login?next=/xero/sync/"
    page = client.get("/login", headers=PROXY).get_data(as_text=True)
    assert 'href="/xero/static/pxflask.css"' in page
    assert "plain HTTP" not in page
    signed_in = post_login(client, ADMIN_PASSWORD, "/login?next=/xero/sync/", **PROXY)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/xero/sync/"
    cookie = signed_in.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "Path=/xero" in cookie
    assert "HttpOnly" in cookie
    assert signed_in.headers["Strict-Transport-Security"]


@pytest.mark.parametrize(
    "target", ["/sync/", "/xerox/", "//evil.example/xero/", "https://evil.example/"]
)
def test_next_outside_the_prefix_goes_to_the_dashboard(proxied_app, target):
    """A next target that is not under /xero/ is replaced by the dashboard."""
    client = proxied_app.test_client()
    answer = post_login(client, ADMIN_PASSWORD, f"/login?next={target}", **PROXY)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/xero/"


def test_connection_page_shows_the_https_prefixed_addresses(tmp_path, perfex_copy_url):
    """The OAuth redirect URI and hook URLs carry the forwarded scheme, host, prefix."""
    for app in build(
        tmp_path, perfex_copy_url, PXFLASK_TRUSTED_PROXIES=1, SESSION_COOKIE_PATH="/"
    ):
        client = app.test_client()
        assert post_login(client, ADMIN_PASSWORD, **PROXY).status_code == 302
        page = client.get("/connection/", headers=PROXY).get_data(as_text=True)
        base = "https://crm.example.com/xero"
        for path in ("/connection/callback", "/webhooks/xero", "/hooks/perfex"):
            assert f"<code>{base}{path}</code>" in page
        started = client.post(
            "/connection/connect",
            data={"csrf_token": CSRF_INPUT.search(page).group(1)},
            headers=PROXY,
        )
        assert started.status_code == 302
        quoted = "https%3A%2F%2Fcrm.example.com%2Fxero%2Fconnection%2Fcallback"
        assert f"redirect_uri={quoted}" in started.headers["Location"]


def test_plain_http_sign_in_names_the_settings(direct_app):
    """Plain HTTP with Secure cookies: the sign-in page explains and names settings."""
    page = direct_app.test_client().get("/login").get_data(as_text=True)
    assert 'id="plain-http"' in page
    assert "PXFLASK_INSECURE_COOKIES" in page
    assert "PXFLASK_TRUSTED_PROXIES" in page
    https = direct_app.test_client().get("/login", base_url="https://localhost")
    assert 'id="plain-http"' not in https.get_data(as_text=True)


def test_untrusted_proxy_is_named_on_the_page_and_in_the_log(direct_app, caplog):
    """Forwarded headers with 0 trusted proxies: the page and one log line say so."""
    client = direct_app.test_client()
    assert 'id="untrusted-proxy"' not in client.get("/login").get_data(as_text=True)
    with caplog.at_level("WARNING", logger="pxflask.web.proxying"):
        for _ in range(2):
            page = client.get("/login", headers=PROXY).get_data(as_text=True)
            assert 'id="untrusted-proxy"' in page
    warnings = [
        r for r in caplog.records if "PXFLASK_TRUSTED_PROXIES is 0" in r.message
    ]
    assert len(warnings) == 1


def test_insecure_cookies_setting_drops_secure_and_the_warning(
    tmp_path, perfex_copy_url
):
    """PXFLASK_INSECURE_COOKIES=true (trusted LAN): no Secure flag, no warning."""
    from pxflask import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "PXFLASK_SECRET_KEY": "k",
            "PXFLASK_ENCRYPTION_KEY": "k",
            "PERFEX_DATABASE_URL": perfex_copy_url,
            "PXFLASK_INSECURE_COOKIES": "true",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is False
    with app.test_request_context("/login"):
        from pxflask.web.proxying import cookie_needs_https

        assert cookie_needs_https() is False


def test_csrf_failure_explains_instead_of_a_bare_400(direct_app):
    """A form posted without the session cookie: a page saying what happened."""
    client = direct_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)
    client.delete_cookie("session")  # the browser dropped the Secure cookie
    answer = client.post(
        "/login", data={"email": ADMIN_EMAIL, "password": "x", "csrf_token": token}
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "The form expired" in text
    assert "session cookie" in text
    assert "Go back, reload the page" in text
    assert "PXFLASK_INSECURE_COOKIES" in text  # plain HTTP: the cause, named


def test_trusted_proxies_must_be_a_small_number(tmp_path):
    """A wrong PXFLASK_TRUSTED_PROXIES is refused with the setting's name."""
    from pxflask import create_app

    for wrong in ("yes", "-1", "99"):
        with pytest.raises(ConfigError, match="PXFLASK_TRUSTED_PROXIES"):
            create_app(
                {"INSTANCE_PATH": str(tmp_path), "PXFLASK_TRUSTED_PROXIES": wrong}
            )
