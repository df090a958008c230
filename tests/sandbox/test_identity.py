"""OAuth2 flows of the sandbox through HTTP and the real xero-python SDK."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest
from xero_python.exceptions import HTTPStatusException

from .conftest import HTTP

REDIRECT = "http://localhost:5000/xero/callback"


def _code_from(location: str) -> dict[str, str]:
    """Query parameters of a redirect Location."""
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def _token(sandbox, fields: dict[str, str], basic: bool = True):
    """POST the token endpoint."""
    headers = {}
    if basic:
        raw = f"{sandbox.client_id}:{sandbox.client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    return HTTP.request_encode_body(
        "POST",
        sandbox.token_url,
        fields=fields,
        headers=headers,
        encode_multipart=False,
    )


def test_authorize_page_then_code_flow(xero_sandbox):
    """The consent page lists tenants; POST approves; the code buys tokens."""
    page = HTTP.request(
        "GET", xero_sandbox.authorize_url(REDIRECT, state="s1", auto_approve=False)
    )
    assert page.status == 200
    html = page.data.decode()
    assert "Allow access" in html
    assert "Second Sandbox Ltd" in html
    form = {
        "response_type": "code",
        "client_id": xero_sandbox.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid offline_access accounting.transactions",
        "state": "s1",
        "tenant_id": xero_sandbox.tenant_ids[1],
        "decision": "allow",
    }
    approved = HTTP.request_encode_body(
        "POST",
        xero_sandbox.login_url,
        fields=form,
        encode_multipart=False,
        redirect=False,
    )
    assert approved.status == 302
    query = _code_from(approved.headers["Location"])
    assert query["state"] == "s1"
    resp = _token(
        xero_sandbox,
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT,
        },
    )
    assert resp.status == 200
    token = resp.json()
    assert token["expires_in"] == 1800
    assert {"access_token", "refresh_token", "id_token"} <= set(token)
    # the code is single-use
    again = _token(
        xero_sandbox,
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT,
        },
    )
    assert again.status == 400 and again.json() == {"error": "invalid_grant"}
    conns = HTTP.request(
        "GET",
        xero_sandbox.connections_url,
        headers={"Authorization": "Bearer " + token["access_token"]},
    )
    assert [c["tenantId"] for c in conns.json()] == [xero_sandbox.tenant_ids[1]]


def test_auto_approve_and_deny(xero_sandbox):
    """auto_approve=1 redirects straight back; Cancel returns access_denied."""
    resp = HTTP.request(
        "GET", xero_sandbox.authorize_url(REDIRECT, state="abc"), redirect=False
    )
    assert resp.status == 302
    assert set(_code_from(resp.headers["Location"])) >= {"code", "state"}
    denied = HTTP.request_encode_body(
        "POST",
        xero_sandbox.login_url,
        fields={
            "response_type": "code",
            "client_id": xero_sandbox.client_id,
            "redirect_uri": REDIRECT,
            "state": "z",
            "decision": "deny",
        },
        encode_multipart=False,
        redirect=False,
    )
    assert _code_from(denied.headers["Location"])["error"] == "access_denied"


def test_refresh_rotation_and_grace(xero_sandbox):
    """Each refresh rotates; the old token works once within 30 minutes."""
    first = xero_sandbox.issue_token()
    fields = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = _token(xero_sandbox, fields).json()
    assert second["refresh_token"] != first["refresh_token"]
    grace = _token(xero_sandbox, fields)
    assert grace.status == 200
    assert _token(xero_sandbox, fields).json() == {"error": "invalid_grant"}
    # the grace window closes after 30 minutes
    third = _token(
        xero_sandbox,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
    ).json()
    xero_sandbox.advance_time(1801)
    late = _token(
        xero_sandbox,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
    )
    assert late.json() == {"error": "invalid_grant"}
    ok = _token(
        xero_sandbox,
        {"grant_type": "refresh_token", "refresh_token": third["refresh_token"]},
    )
    assert ok.status == 200
    assert xero_sandbox.counters.token_requests["refresh_token"] == 6


def test_form_credentials_and_bad_client(xero_sandbox):
    """client_id/secret in the form work; a wrong secret is invalid_client."""
    token = xero_sandbox.issue_token()
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": xero_sandbox.client_id,
        "client_secret": "nope",
    }
    assert _token(xero_sandbox, fields, basic=False).json() == {
        "error": "invalid_client"
    }
    fields["client_secret"] = xero_sandbox.client_secret
    assert _token(xero_sandbox, fields, basic=False).status == 200


def test_sdk_refreshes_expired_token_exactly_once(xero_sandbox):
    """The SDK refreshes a token near expiry; the sandbox sees one refresh."""
    token = xero_sandbox.issue_token()
    token["expires_at"] = 0  # the SDK thinks it expired
    client = xero_sandbox.api_client(token)
    api = xero_sandbox.accounting_api(client)
    api.get_organisations(xero_sandbox.tenant_id)
    api.get_organisations(xero_sandbox.tenant_id)
    assert xero_sandbox.counters.token_requests["refresh_token"] == 1
    assert client.token_store["token"]["refresh_token"] != token["refresh_token"]


def test_expired_access_token_is_401(xero_sandbox, api, tenant):
    """A token expired on the server side gives 401 until refreshed."""
    api.get_organisations(tenant)
    assert xero_sandbox.expire_access_tokens() == 1
    with pytest.raises(HTTPStatusException) as err:
        api.get_organisations(tenant)
    assert err.value.status == 401
    api.api_client.refresh_oauth2_token()
    assert api.get_organisations(tenant).organisations


def test_access_ttl_option(xero_sandbox):
    """access_ttl_s is configurable and enforced by the sandbox clock."""
    xero_sandbox.reset(access_ttl_s=60)
    token = xero_sandbox.issue_token()
    assert token["expires_in"] == 60
    api = xero_sandbox.accounting_api(
        xero_sandbox.api_client({**token, "expires_at": None})
    )
    api.get_organisations(xero_sandbox.tenant_id)
    xero_sandbox.advance_time(61)
    with pytest.raises(HTTPStatusException) as err:
        api.get_organisations(xero_sandbox.tenant_id)
    assert err.value.status == 401


def test_wrong_tenant_is_403(xero_sandbox, api):
    """An unknown or unconnected tenant id → 403 AuthenticationUnsuccessful."""
    with pytest.raises(HTTPStatusException) as err:
        api.get_organisations("00000000-0000-0000-0000-000000000001")
    assert err.value.status == 403
    assert b"AuthenticationUnsuccessful" in err.value.body
    with pytest.raises(HTTPStatusException):
        api.get_organisations(xero_sandbox.tenant_ids[1])  # not consented


def test_connections_disconnect_and_revoke(xero_sandbox):
    """/Connections via IdentityApi; DELETE disconnects; revocation kills all."""
    token = xero_sandbox.issue_token(tenant_ids=xero_sandbox.tenant_ids)
    client = xero_sandbox.api_client(token)
    identity = xero_sandbox.identity_api(client)
    api = xero_sandbox.accounting_api(client)
    conns = identity.get_connections()
    assert {c.tenant_id for c in conns} == set(xero_sandbox.tenant_ids)
    second = next(c for c in conns if c.tenant_id == xero_sandbox.tenant_ids[1])
    identity.delete_connection(second.id)
    assert len(identity.get_connections()) == 1
    with pytest.raises(HTTPStatusException) as err:
        api.get_organisations(xero_sandbox.tenant_ids[1])
    assert err.value.status == 403
    client.revoke_oauth2_token()
    assert xero_sandbox.sandbox.connections() == []
    with pytest.raises(HTTPStatusException) as err:
        api.get_organisations(xero_sandbox.tenant_id)
    assert err.value.status == 401


def test_client_credentials(xero_sandbox):
    """client_credentials gives a token for the first tenant, no refresh token."""
    client = xero_sandbox.api_client({"access_token": "x", "expires_at": None})
    token = client.get_client_credentials_token()
    assert "refresh_token" not in token or not token.get("refresh_token")
    assert xero_sandbox.counters.token_requests["client_credentials"] == 1
    org = xero_sandbox.accounting_api(client).get_organisations(xero_sandbox.tenant_id)
    assert org.organisations[0].name == xero_sandbox.state.tenant().name
