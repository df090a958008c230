"""The web OAuth2 flow through the sandbox, the tenant picker and the CLI."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fixtures.webapp import csrf_token, make_test_app

CALLBACK = "http://localhost/connection/callback"


@pytest.fixture
def xero_app(tmp_path, perfex_copy_url, xero_sandbox):
    """The app pointed at the sandbox, with the test redirect URI."""
    return make_test_app(
        tmp_path, perfex_copy_url, XERO_REDIRECT_URI=CALLBACK, **xero_sandbox.config
    )


@pytest.fixture
def signed_in(xero_app):
    """A test client signed in as the demo admin."""
    from tests.fixtures.webapp import AuthActions

    client = xero_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def start_connect(client) -> str:
    """POST the connect form; return the authorize URL the app redirected to."""
    token = csrf_token(client, "/connection/")
    response = client.post("/connection/connect", data={"csrf_token": token})
    assert response.status_code == 302
    return response.headers["Location"]


def approve(authorize_url: str, tenant_ids: list[str]) -> dict[str, str]:
    """Approve at the consent page like a person; return the callback query."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and "Allow access" in page.text
    form = dict(query, decision="allow")
    answer = requests.post(
        authorize_url.split("?")[0],
        data=[*form.items(), *(("tenant_id", t) for t in tenant_ids)],
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303)
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_connect_one_tenant(signed_in, xero_sandbox):
    """Connect, approve one organisation, come back connected to it."""
    url = start_connect(signed_in)
    assert url.startswith(xero_sandbox.login_url)
    params = parse_qs(urlsplit(url).query)
    assert params["redirect_uri"] == [CALLBACK]
    assert "offline_access" in params["scope"][0].split()
    query = approve(url, [xero_sandbox.tenant_id])
    back = signed_in.get("/connection/callback", query_string=query)
    assert back.status_code == 302
    page = signed_in.get("/connection/").get_data(as_text=True)
    assert f"Connected to {xero_sandbox.state.tenant().name}" in page
    assert "read by the next sync that sends dated documents" in page  # no lock yet
    assert xero_sandbox.counters.token_requests.get("authorization_code") == 1


def test_several_tenants_show_a_picker(signed_in, xero_sandbox):
    """Two approved organisations: the admin picks one."""
    query = approve(start_connect(signed_in), xero_sandbox.tenant_ids)
    signed_in.get("/connection/callback", query_string=query)
    page = signed_in.get("/connection/").get_data(as_text=True)
    assert "Choose the organisation" in page
    assert "Second Sandbox Ltd" in page
    token = csrf_token(signed_in, "/connection/")
    chosen = signed_in.post(
        "/connection/tenant",
        data={"csrf_token": token, "tenant_id": xero_sandbox.tenant_ids[1]},
    )
    assert chosen.status_code == 302
    page = signed_in.get("/connection/").get_data(as_text=True)
    assert "Connected to Second Sandbox Ltd" in page


def test_callback_with_wrong_state_is_refused(signed_in, xero_sandbox):
    """A callback whose state is not the one we sent stores nothing."""
    query = approve(start_connect(signed_in), [xero_sandbox.tenant_id])
    query["state"] = "forged-" + query["state"]
    back = signed_in.get("/connection/callback", query_string=query)
    assert back.status_code == 400
    assert xero_sandbox.counters.token_requests.get("authorization_code", 0) == 0
    page = signed_in.get("/connection/").get_data(as_text=True)
    assert "Connect Xero first" in page


def test_callback_replayed_without_session_state_is_refused(
    xero_app, signed_in, xero_sandbox
):
    """A callback arriving in another browser session (no state kept) is refused."""
    query = approve(start_connect(signed_in), [xero_sandbox.tenant_id])
    from tests.fixtures.webapp import AuthActions

    other = xero_app.test_client()
    AuthActions(other).login()
    assert other.get("/connection/callback", query_string=query).status_code == 400


def test_disconnect_revokes_at_xero(signed_in, xero_sandbox):
    """Disconnect revokes the token at the sandbox and forgets the connection."""
    query = approve(start_connect(signed_in), [xero_sandbox.tenant_id])
    signed_in.get("/connection/callback", query_string=query)
    token = csrf_token(signed_in, "/connection/")
    response = signed_in.post("/connection/disconnect", data={"csrf_token": token})
    assert response.status_code == 302
    page = signed_in.get("/connection/").get_data(as_text=True)
    assert "Connect Xero first" in page
    grants = list(xero_sandbox.state.identity.grants.values())
    assert grants and all(grant.revoked for grant in grants)
    assert not xero_sandbox.state.identity.connections


def test_connection_pages_need_sign_in(xero_app):
    """The connection pages are admin-only, and the connect form needs CSRF."""
    client = xero_app.test_client()
    assert client.get("/connection/").status_code == 302
    assert client.post("/connection/connect").status_code == 400
    token = csrf_token(client, "/login")
    response = client.post("/connection/connect", data={"csrf_token": token})
    assert response.status_code == 401


def test_cli_client_credentials_connect_and_status(
    tmp_path, perfex_copy_url, xero_sandbox
):
    """`pxflask xero connect` and `status` with a Custom Connection."""
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        XERO_GRANT="client_credentials",
        **xero_sandbox.config,
    )
    runner = app.test_cli_runner()
    before = runner.invoke(args=["xero", "status"])
    assert before.exit_code == 2
    connected = runner.invoke(args=["xero", "connect"])
    assert connected.exit_code == 0, connected.output
    assert f"connected: {xero_sandbox.state.tenant().name}" in connected.output
    status = runner.invoke(args=["xero", "status"])
    assert status.exit_code == 0, status.output
    assert xero_sandbox.state.tenant().name in status.output
    assert "calls left today" in status.output
    with app.app_context():  # a sync read the lock date: status shows it
        from pxflask.extensions import db
        from pxflask.sync.lockdates import remember_lock

        remember_lock(db.session, date(2026, 6, 30))
        db.session.commit()
    locked = runner.invoke(args=["xero", "status"])
    assert "period lock date" in locked.output and "2026-06-30, read" in locked.output


def test_cli_connect_refuses_the_web_grant(runner):
    """`pxflask xero connect` explains itself under the authorization-code grant."""
    result = runner.invoke(args=["xero", "connect"])
    assert result.exit_code == 2
    assert "XERO_GRANT=client_credentials" in result.output
