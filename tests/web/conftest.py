"""Fixtures of the panel tests: the app with hook secrets, signed in or not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from pxflask.extensions import db
from pxflask.queueing import close_queue
from tests.fixtures.webapp import make_test_app

HOOK_TOKEN = "hook-token-for-tests-0123456789"
WEBHOOK_KEY = "webhook-key-for-tests/ABCDEFGHIJKLMNOPQRSTUVWXYZ=="
SECRETS = {
    "XERO_CLIENT_ID": "web-tests-client",
    "XERO_CLIENT_SECRET": "web-tests-secret",
    "PXFLASK_HOOK_TOKEN": HOOK_TOKEN,
    "XERO_WEBHOOK_KEY": WEBHOOK_KEY,
}


@pytest.fixture
def app(tmp_path, perfex_copy_url) -> Iterator[Flask]:
    """The app with hook token and webhook key set; its queue stopped after."""
    app = make_test_app(tmp_path, perfex_copy_url, **SECRETS)
    yield app
    close_queue(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def admin(client, auth):
    """A client signed in as the seeded admin."""
    assert auth.login().status_code == 302
    return client
