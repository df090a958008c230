"""Security headers on every response: framing, nosniff, referrers, CSP, HSTS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pxflask.config import ConfigError
from tests.fixtures.webapp import make_test_app
from tests.security.conftest import SECRETS

TEMPLATES = Path(__file__).parents[2] / "pxflask" / "templates"
PAGES = ["/login", "/sync/", "/settings/", "/sync/log", "/reconcile/", "/reset/"]
OTHERS = ["/static/pxflask.css", "/no-such-page", "/healthz"]


def _directives(response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers.get("Content-Security-Policy", "")
    pairs = (part.strip().partition(" ") for part in policy.split(";"))
    return {name: sources for name, _, sources in pairs if name}


def _check_common(response) -> None:
    """The headers every response carries."""
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"
    csp = _directives(response)
    assert csp.get("default-src") == "'self'"
    assert csp.get("script-src") == "'self'"
    assert csp.get("object-src") == "'none'"


def test_every_response_carries_the_headers(admin):
    """Pages, static files, 404s: framing by the panel only, nosniff, referrers, CSP."""
    for path in PAGES + OTHERS:
        with admin.get(path) as response:
            assert response.status_code in (200, 302, 404), path
            _check_common(response)
            assert response.headers.get("X-Frame-Options") == "SAMEORIGIN", path
            assert _directives(response)["frame-ancestors"] == "'self'", path
            assert "Strict-Transport-Security" not in response.headers, path


def test_webhook_answers_carry_them_too(client):
    """Hook and webhook answers (401 here) get the same headers."""
    for path in ("/webhooks/xero", "/hooks/perfex"):
        _check_common(client.post(path, data=b"{}"))


def test_hsts_only_over_https(client):
    """HSTS is sent when the request came over HTTPS, never over plain HTTP."""
    secure = client.get("/login", base_url="https://panel.example.com")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(secure.headers["Strict-Transport-Security"][8:].split(";")[0]) >= 86400
    plain = client.get("/login", base_url="http://panel.example.com")
    assert "Strict-Transport-Security" not in plain.headers


def test_frame_ancestors_setting_lets_perfex_frame_the_panel(tmp_path, perfex_copy_url):
    """PXFLASK_FRAME_ANCESTORS: those origins may frame it; X-Frame-Options dropped."""
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        PXFLASK_FRAME_ANCESTORS="https://crm.example.com https://*.example.org/",
        **SECRETS,
    )
    response = app.test_client().get("/login")
    assert _directives(response)["frame-ancestors"] == (
        "'self' https://crm.example.com https://*.example.org"
    )
    assert "X-Frame-Options" not in response.headers
    _check_common(response)


@pytest.mark.parametrize(
    "wrong", ["crm.example.com", "https://crm.example.com; script-src *", "*", "'none'"]
)
def test_a_malformed_frame_ancestor_is_a_config_error(tmp_path, perfex_copy_url, wrong):
    """Anything but origins is refused at start, with the setting's name."""
    with pytest.raises(ConfigError, match="PXFLASK_FRAME_ANCESTORS"):
        make_test_app(tmp_path, perfex_copy_url, PXFLASK_FRAME_ANCESTORS=wrong)


def test_no_template_has_an_inline_script():
    """script-src 'self' allows no inline code: scripts live in static files."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|javascript:", re.I)
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if inline.search(path.read_text())
    ]
    assert offenders == []
