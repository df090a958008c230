"""A changed XERO_CLIENT_SECRET: the connection "needs reconnecting" and is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from pxflask.extensions import db
from pxflask.models import XeroConnection
from pxflask.queueing import close_queue
from pxflask.web.runtime import xero_gateway
from pxflask.xero import oauth
from tests.fixtures.webapp import AuthActions, make_test_app

NEEDS = "needs reconnecting"


def _app(tmp_path, perfex_url: str, sandbox, key: str | None, **changes) -> Flask:
    """An app on the test's module DB (one encryption key) with these credentials."""
    config = {"XERO_GRANT": "client_credentials", **sandbox.config, **changes}
    if key:
        config["PXFLASK_ENCRYPTION_KEY"] = key
    return make_test_app(tmp_path, perfex_url, **config)


def _rows(app: Flask) -> list[tuple]:
    """The stored connection rows: id, tenant, fingerprint, token (encrypted)."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                XeroConnection.id,
                XeroConnection.tenant_id,
                XeroConnection.client_fingerprint,
                XeroConnection.token_encrypted,
            )
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


@pytest.fixture
def twins(tmp_path, perfex_copy_url, xero_sandbox):
    """make(**changes): apps on one module DB; the first is connected (right secret)."""
    made: list[Flask] = []

    def make(**changes) -> Flask:
        key = made[0].config["PXFLASK_ENCRYPTION_KEY"] if made else None
        made.append(_app(tmp_path, perfex_copy_url, xero_sandbox, key, **changes))
        return made[-1]

    first = make()
    connected = first.test_cli_runner().invoke(args=["xero", "connect"])
    assert connected.exit_code == 0, connected.output
    yield make
    for app in made:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_a_mistyped_secret_keeps_the_connection_and_says_reconnect(twins):
    """status: exit 2 and "needs reconnecting"; the row and its tokens stay."""
    before = _rows(twins())
    assert len(before) == 1 and before[0][1]
    wrong = twins(XERO_CLIENT_SECRET="mistyped-secret")
    for _ in range(2):
        status = wrong.test_cli_runner().invoke(args=["xero", "status"])
        assert status.exit_code == 2, status.output
        assert NEEDS in status.output
        assert "Traceback" not in status.output
    assert _rows(wrong) == before


def test_syncs_refuse_while_the_credentials_differ(twins, xero_sandbox):
    """A sync and a gateway call refuse with the reason, and change nothing."""
    before = _rows(twins())
    wrong = twins(XERO_CLIENT_SECRET="mistyped-secret")
    result = wrong.test_cli_runner().invoke(args=["sync", "accounts"])
    assert result.exit_code == 2, result.output
    assert NEEDS in result.output and "Traceback" not in result.output
    with pytest.raises(Exception, match=NEEDS):
        xero_gateway(wrong).get_organisation()
    assert _rows(wrong) == before


def test_restoring_the_secret_restores_the_connection(twins, xero_sandbox):
    """Back to the right secret: connected again, calls work, no reconnect needed."""
    before = _rows(twins())
    wrong = twins(XERO_CLIENT_SECRET="mistyped-secret")
    assert wrong.test_cli_runner().invoke(args=["xero", "status"]).exit_code == 2
    right = twins()
    status = right.test_cli_runner().invoke(args=["xero", "status"])
    assert status.exit_code == 0, status.output
    assert xero_sandbox.state.tenant().name in status.output
    xero_sandbox.sandbox.expire_access_tokens()  # the kept refresh path works too
    assert xero_gateway(right).get_organisation()
    assert [row[:3] for row in _rows(right)] == [row[:3] for row in before]


def test_a_failed_reconnect_keeps_the_old_connection(twins):
    """Connecting with the wrong secret fails at Xero; the stored connection stays."""
    before = _rows(twins())
    wrong = twins(XERO_CLIENT_SECRET="mistyped-secret")
    runner = wrong.test_cli_runner()
    result = runner.invoke(args=["xero", "connect"])
    assert result.exit_code == 2, result.output
    assert NEEDS in runner.invoke(args=["xero", "status"]).output
    assert _rows(wrong) == before
    assert twins().test_cli_runner().invoke(args=["xero", "status"]).exit_code == 0


def test_only_a_new_successful_connection_replaces_it(twins):
    """A connection made with an older app's credentials is replaced by connecting."""
    app = twins()
    with app.app_context():
        db.session.execute(
            sa.update(XeroConnection).values(
                client_fingerprint=oauth.fingerprint("old-app", "old-secret")
            )
        )
        db.session.commit()
        db.session.remove()
    runner = app.test_cli_runner()
    assert NEEDS in runner.invoke(args=["xero", "status"]).output
    assert runner.invoke(args=["xero", "connect"]).exit_code == 0
    assert runner.invoke(args=["xero", "status"]).exit_code == 0
    rows = _rows(app)
    assert len(rows) == 1 and rows[0][2] == xero_gateway(app).tokens.fingerprint


def test_the_panel_shows_needs_reconnecting(twins):
    """The Xero page and the dashboard say so, with a way to connect again."""
    wrong = twins(XERO_CLIENT_SECRET="mistyped-secret")
    client = wrong.test_client()
    assert AuthActions(client).login().status_code == 302
    page = client.get("/connection/").get_data(as_text=True)
    assert NEEDS in page and "Connect the Custom Connection" in page
    dashboard = client.get("/sync/").get_data(as_text=True)
    assert NEEDS in dashboard
    assert len(_rows(wrong)) == 1
