"""The module's hooks post to a running panel; a panel that is down costs ≤ 2 s."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from pxflask.extensions import db
from pxflask.models import SyncRun
from tests.fixtures.webapp import make_test_app
from tests.perfex_module.php import free_port, php_hook, served

HOOK_TOKEN = "module-hook-token-0123456789"  # noqa: S105 - a test token
TIMEOUT = 2.0
"""The module's connect and total timeout (PXFLASK_HOOK_TIMEOUT)."""


@pytest.fixture
def panel(tmp_path, perfex_copy_url) -> Iterator[tuple[str, object]]:
    """The panel served on a loopback port, with the hook token set."""
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_HOOK_TOKEN=HOOK_TOKEN)
    with served(app) as base:
        yield base, app


def _runs(app) -> list[tuple[str, str]]:
    """(scope, trigger) of every sync run the panel has."""
    with app.app_context():
        rows = db.session.execute(select(SyncRun.scope, SyncRun.trigger)).all()
    return [(scope, trigger) for scope, trigger in rows]


@pytest.mark.parametrize(
    ("hook", "arg", "scope"),
    [
        ("after_invoice_added", 3, "invoices#invoices:3"),
        ("invoice_updated", {"id": "4", "data": {}}, "invoices#invoices:4"),
        (
            "invoice_status_changed",
            {"invoice_id": 5, "status": 2},
            "invoices#invoices:5",
        ),
        (
            "after_payment_deleted",
            {"paymentid": 8, "invoiceid": 3},
            "payments#payments:8",
        ),
        ("contact_updated", 21, "customers#customers:5"),
        ("after_item_updated", {"id": 6}, "items#items:6"),
    ],
)
def test_a_hook_reaches_the_panel_and_queues_a_sync(panel, hook, arg, scope):
    """The PHP handler's post is accepted: a targeted run of that record, by hook."""
    base, app = panel
    result = php_hook(base, HOOK_TOKEN, hook, arg)
    assert result["log"] == []
    assert (scope, "hook") in _runs(app)


def test_a_wrong_token_is_logged_not_thrown(panel):
    """The panel refuses the token: Perfex's log says so, the page goes on."""
    base, app = panel
    result = php_hook(base, "wrong-token", "after_invoice_added", 3)
    assert result["log"] == ["error: pxflask: invoices 3 not sent (HTTP 401)"]
    assert _runs(app) == []


def test_a_panel_that_is_down_costs_no_more_than_the_timeout():
    """Nothing listening, or a silent listener: back within ~2 s, no error."""
    closed = f"http://127.0.0.1:{free_port()}"
    result = php_hook(closed, HOOK_TOKEN, "after_invoice_added", 3)
    assert result["seconds"] < 1.0
    assert "not sent (HTTP 0)" in result["log"][0]
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result = php_hook(f"http://127.0.0.1:{port}", HOOK_TOKEN, "item_created", 7)
    assert TIMEOUT - 0.2 < result["seconds"] < TIMEOUT + 1.0
    assert "items 7 not sent (HTTP 0)" in result["log"][0]
