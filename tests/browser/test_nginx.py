"""The admin's journey through a real nginx terminating TLS at the /xero/ prefix.

Chromium -> nginx (HTTPS, self-signed certificate made at test time) -> gunicorn
(wsgi:app, PXFLASK_TRUSTED_PROXIES=1) with a `pxflask worker` on Redis: sign in,
connect Xero through the sandbox's OAuth consent page (the redirect URI derived
behind the proxy), fetch the chart of accounts (run by the worker), the settings
and dashboard pages, a Perfex hook and a Xero webhook at the URLs the panel lists,
sign out. Every URL keeps the prefix, the session cookie is
Secure and scoped to /xero, and the throttle counts the browser's address taken
from nginx's X-Forwarded-For, not the spoofed one the browser sends. nginx reaches
gunicorn from 127.0.0.3, outside gunicorn's forwarded_allow_ips, so the HTTPS scheme,
the host, the prefix and the client address all come from pxflask's ProxyFix.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect, sync_playwright

from pxflask.extensions import db
from pxflask.models import LoginFailure, SyncRun
from pxflask.queueing import close_queue
from tests.browser.test_panel import CHROMIUM, CHROMIUM_ARGS, SHOTS_ENV
from tests.fixtures.deployment import Deployment, deployment
from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD, make_test_app
from tests.jobs.conftest import REDIS_URL

SPOOFED = "203.0.113.66"
HOOK_TOKEN = "nginx-test-hook-token-0123456789"
WAIT_MS = 60_000  # generous: the CI machine has 2 cores
RUNS_MS = 240_000  # a sync run by the worker, on a loaded machine


@pytest.fixture
def stack(
    tmp_path, perfex_copy_url, xero_sandbox
) -> Iterator[tuple[Deployment, Flask]]:
    """The deployment on fresh databases and a unique queue prefix; cleaned up after."""
    prefix = f"pxfn{uuid.uuid4().hex[:8]}-"
    app = make_test_app(  # creates the module's tables; the test reads them through it
        tmp_path,
        perfex_copy_url,
        REDIS_URL=REDIS_URL,
        PXFLASK_QUEUE_PREFIX=prefix,
        **xero_sandbox.config,
    )
    config = app.config
    env = {
        key: str(config[key])
        for key in (
            "PXFLASK_DATABASE_URL",
            "PERFEX_DATABASE_URL",
            "PXFLASK_SECRET_KEY",
            "PXFLASK_ENCRYPTION_KEY",
            "REDIS_URL",
            "PXFLASK_QUEUE_PREFIX",
        )
    }
    env.update(xero_sandbox.config)
    env.update(
        PXFLASK_INSTANCE_PATH=app.instance_path,
        PXFLASK_TRUSTED_PROXIES="1",
        PXFLASK_HOOK_TOKEN=HOOK_TOKEN,
        XERO_WEBHOOK_KEY="nginx-test-webhook-key",
    )
    served = tmp_path / "stack"
    served.mkdir()
    try:
        with deployment(served, env) as running:
            yield running, app
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{prefix}*", count=1000):
            client.delete(key)
        client.close()


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """A headless Chromium page that accepts the test's self-signed certificate."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"],
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, ignore_https_errors=True
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        yield page
        context.close()
        browser.close()


def address_keys(app: Flask) -> set[str]:
    """The client addresses the sign-in throttle has counted."""
    with app.app_context():
        keys = db.session.scalars(sa.select(LoginFailure.key)).all()
    return {key for key in keys if key.startswith("address:")}


def assert_links_keep_prefix(page: Page) -> None:
    """Every link, form and stylesheet of the page points under /xero/."""
    paths = page.eval_on_selector_all(
        "a[href], form[action], link[href]",
        "els => els.map(e => e.getAttribute('href') || e.getAttribute('action'))",
    )
    local = [path for path in paths if path.startswith("/")]
    assert local, "no links on the page"
    assert [path for path in local if not path.startswith("/xero/")] == []


def follow_runs(page: Page, base: str) -> None:
    """The dashboard's script polls each run's JSON under /xero/, then reloads."""
    page.goto(f"{base}/sync/")
    expect(page.locator(".run-progress")).to_have_count(0, timeout=RUNS_MS)


def call_machine_endpoints(page: Page, base: str) -> int:
    """POST the Perfex hook and a Xero webhook through nginx; the hook's run id."""
    hook = page.request.post(
        f"{base}/hooks/perfex",
        data={"entity": "customers", "id": 1},
        headers={"Authorization": f"Bearer {HOOK_TOKEN}"},
    )
    assert hook.status == 202, hook.text()
    forged = page.request.post(
        f"{base}/webhooks/xero", data="{}", headers={"x-xero-signature": "forged"}
    )
    assert (forged.status, forged.body()) == (401, b"")
    return int(hook.json()["run_id"])


def test_admin_journey_through_nginx_tls_and_prefix(
    browser_page, stack, xero_sandbox, tmp_path
):
    """Sign in, connect, a worker's run, settings, sign out: under /xero/, HTTPS."""
    running, app = stack
    page, base = browser_page, running.base
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)

    page.goto(f"{base}/settings/")  # signed out: to the sign-in page, next kept
    expect(page).to_have_url(f"{base}/login?next=/xero/settings/")
    expect(page.locator("#plain-http")).to_have_count(0)  # HTTPS, seen through nginx
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0
    assert_links_keep_prefix(page)

    page.set_extra_http_headers({"X-Forwarded-For": SPOOFED})
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Invalid email or password")
    page.set_extra_http_headers({})
    assert address_keys(app) == {"address:127.0.0.1"}  # the browser, per nginx

    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/settings/")
    expect(page.locator("h1").first).to_contain_text("Settings")
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["secure"] is True
    assert cookie["httpOnly"] is True
    assert cookie["path"] == "/xero"

    page.click("nav.nav >> text=Xero")
    expect(page).to_have_url(f"{base}/connection/")
    page.click("#addresses summary")
    callback = f"{base}/connection/callback"
    expect(page.locator("#address-redirect code")).to_have_text(callback)
    expect(page.locator("#address-webhooks code")).to_have_text(f"{base}/webhooks/xero")
    page.locator("#addresses").screenshot(path=str(shots / "addresses.png"))
    page.click("text=Connect to Xero")
    expect(page.locator("h1")).to_have_text("Allow access")  # the sandbox's page
    page.click("button[value=allow]")
    expect(page).to_have_url(re.compile(re.escape(f"{base}/connection/")))
    expect(page.locator("h2").first).to_contain_text(
        f"Connected to {xero_sandbox.state.tenant().name}"
    )

    page.click("nav.nav >> text=Settings")
    page.click("text=Fetch the chart of accounts")
    expect(page).to_have_url(f"{base}/settings/")
    expect(page.locator(".flash")).to_contain_text("queued (accounts)")
    follow_runs(page, base)
    expect(page).to_have_url(f"{base}/sync/")
    mapped = page.locator(".steps li", has_text="Map a sales account")
    expect(mapped).to_have_class(re.compile(r"\bdone\b"))  # the worker fetched it
    assert_links_keep_prefix(page)

    hook_run = call_machine_endpoints(page, base)  # the URLs the Xero page lists
    follow_runs(page, base)
    with app.app_context():
        assert db.session.get(SyncRun, hook_run).status not in ("queued", "running")

    page.click("form.signout button")
    expect(page).to_have_url(f"{base}/login")
    expect(page.locator(".flash")).to_contain_text("Signed out.")
    page.goto(f"{base}/sync/")
    expect(page).to_have_url(f"{base}/login?next=/xero/sync/")
