"""After sign-in, `next` only leads to a page of the panel (no open redirect)."""

from __future__ import annotations

import pytest

from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.security.signin_support import browser_target, post_login

FOREIGN = [
    "////evil.example",
    "///evil.example",
    "//evil.example",
    "//evil.example/sync/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "http://evil.example/x",
    "https:evil.example",
    "HTTPS://evil.example",
    "http:\\\\evil.example",
    "//user@evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "http:/\\evil.example",
]
NOT_A_PANEL_PATH = [
    "evil.example",
    "sync/",
    "",
    "/sync/\r\nSet-Cookie: taken=1",
    "/sync/\rX-Injected: 1",
    "/sync/\nX-Injected: 1",
    "/sync/\x7f",
    "/sync/\x1b[31m",
]
LOCAL = [
    "/sync/",
    "/sync/log?entity=invoices&outcome=failed",
    "/settings/#accounts",
    "/%2F%2Fevil.example",
]


@pytest.mark.parametrize("target", FOREIGN + NOT_A_PANEL_PATH)
def test_foreign_or_broken_next_goes_to_the_dashboard(client, target):
    """Another site as a browser reads it, a relative path, control characters."""
    response = post_login(client, ADMIN_EMAIL, ADMIN_PASSWORD, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", LOCAL)
def test_local_next_is_followed(client, target):
    """A path of this site (percent-encoded slashes stay a path) is followed."""
    response = post_login(client, ADMIN_EMAIL, ADMIN_PASSWORD, target)
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert browser_target(response.headers["Location"]) == ("http", "localhost")


def test_browser_model_reads_the_review_targets_as_foreign():
    """The test's model of a browser sees each foreign target leave the site."""
    for target in FOREIGN:
        assert browser_target(target) != ("http", "localhost"), target


def test_redirect_to_login_keeps_a_local_next(client):
    """The sign-in the panel asks for returns to the page that was asked for."""
    assert client.get("/sync/log?page=2").headers["Location"] == (
        "/login?next=/sync/log?page%3D2"
    )
    response = post_login(client, ADMIN_EMAIL, ADMIN_PASSWORD, "/sync/log?page=2")
    assert response.headers["Location"] == "/sync/log?page=2"
