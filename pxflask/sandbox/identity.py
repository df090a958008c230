"""Identity service routes: authorize page, token, revocation, connections."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from . import tokens
from .http import current_sandbox, json_response

bp = Blueprint("xero_identity", __name__)

AUTHORIZE_PAGE = """<!doctype html>
<html><head><title>Xero Sandbox - Allow access</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<h1>Allow access</h1>
<p><strong>{{ client_id }}</strong> wants to access your Xero organisation with:
<code>{{ scope }}</code></p>
<form method="post" action="{{ action }}">
{% for name, value in hidden %}
<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<fieldset><legend>Organisation</legend>
{% for tenant in tenants %}
<label><input type="checkbox" name="tenant_id" value="{{ tenant.tenant_id }}"
{% if loop.first %}checked{% endif %}> {{ tenant.name }}</label><br>
{% endfor %}</fieldset>
<p><button type="submit" name="decision" value="allow">Allow access</button>
<button type="submit" name="decision" value="deny">Cancel</button></p>
</form></body></html>"""

AUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _error_redirect(redirect_uri: str, error: str, state: str | None) -> BaseResponse:
    """Redirect back to the app with an OAuth error."""
    query = {"error": error}
    if state:
        query["state"] = state
    return redirect(_join(redirect_uri, query))


def _join(uri: str, query: dict[str, str]) -> str:
    """Append query parameters to a redirect URI."""
    return uri + ("&" if "?" in uri else "?") + urlencode(query)


@bp.route("/identity/connect/authorize", methods=["GET", "POST"])
def authorize() -> BaseResponse | str:
    """Show the consent page (GET) or approve/deny it (POST)."""
    sb = current_sandbox()
    values = request.values
    client_id = values.get("client_id", "")
    redirect_uri = values.get("redirect_uri", "")
    if client_id != sb.options.client_id or not redirect_uri:
        return json_response({"error": "unauthorized_client"}, 400)
    if values.get("response_type") != "code":
        return _error_redirect(
            redirect_uri, "unsupported_response_type", values.get("state")
        )
    scope = values.get("scope", "").split()
    auto = sb.options.auto_approve or values.get("auto_approve") in ("1", "true")
    if request.method == "GET" and not auto:
        hidden = [(k, values[k]) for k in AUTH_PARAMS if values.get(k)]
        return render_template_string(
            AUTHORIZE_PAGE,
            client_id=client_id,
            scope=" ".join(scope),
            hidden=hidden,
            tenants=list(sb.state.tenants.values()),
            action=request.path,
        )
    if request.method == "POST" and values.get("decision") == "deny":
        return _error_redirect(redirect_uri, "access_denied", values.get("state"))
    with sb.lock:
        chosen = [t for t in values.getlist("tenant_id") if t in sb.state.tenants]
        if not chosen:
            chosen = [next(iter(sb.state.tenants))]
        code = tokens.create_code(
            sb,
            client_id,
            redirect_uri,
            scope,
            chosen,
            values.get("code_challenge"),
        )
    query = {"code": code, "scope": " ".join(scope)}
    if values.get("state"):
        query["state"] = values["state"]
    return redirect(_join(redirect_uri, query))


def _client_credentials() -> tuple[str | None, str | None]:
    """client_id/secret from HTTP Basic or the form."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = raw.partition(":")
        return client_id, secret
    return request.form.get("client_id"), request.form.get("client_secret")


@bp.post("/identity/connect/token")
def token() -> Response:
    """The token endpoint: authorization_code, refresh_token, client_credentials."""
    sb = current_sandbox()
    grant_type = request.form.get("grant_type", "")
    sb.counters.record_token(grant_type or "missing")
    failure = sb.faults.take_failure("identity", request.path)
    if failure:
        return json_response({"error": "temporarily_unavailable"}, failure)
    client_id, secret = _client_credentials()
    form = request.form
    try:
        with sb.lock:
            if grant_type == "authorization_code":
                body = tokens.exchange_code(
                    sb,
                    client_id or "",
                    secret,
                    form.get("code", ""),
                    form.get("redirect_uri", ""),
                    form.get("code_verifier"),
                )
            elif grant_type == "refresh_token":
                body = tokens.refresh(
                    sb, client_id or "", secret or "", form.get("refresh_token", "")
                )
            elif grant_type == "client_credentials":
                body = tokens.client_credentials(sb, client_id or "", secret or "")
            else:
                raise tokens.OAuthError("unsupported_grant_type")
    except tokens.OAuthError as exc:
        return json_response({"error": exc.code}, 400)
    response = json_response(body, 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/identity/connect/revocation")
def revocation() -> Response:
    """Revoke a refresh token (and with it the user's connections)."""
    sb = current_sandbox()
    sb.counters.record_token("revocation")
    client_id, secret = _client_credentials()
    try:
        with sb.lock:
            tokens.revoke(
                sb, client_id or "", secret or "", request.form.get("token", "")
            )
    except tokens.OAuthError as exc:
        return json_response({"error": exc.code}, 400)
    return Response(status=200)


def _problem(status: int, title: str, detail: str) -> Response:
    """A Xero-style problem+json response."""
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail}
    return json_response(body, status, "application/problem+json")


@bp.get("/connections")
@bp.get("/Connections")
def list_connections() -> Response:
    """The connections of the token's user."""
    sb = current_sandbox()
    sb.counters.record_call("GET", "/connections", None)
    with sb.lock:
        grant, reason = tokens.resolve_access(sb, request.headers.get("Authorization"))
        if grant is None:
            return _problem(401, "Unauthorized", reason)
        conns = tokens.connections_for(sb, grant)
    event = request.args.get("authEventId")
    if event:
        conns = [c for c in conns if c["authEventId"] == event]
    return json_response(conns, 200)


@bp.delete("/connections/<conn_id>")
@bp.delete("/Connections/<conn_id>")
def delete_connection(conn_id: str) -> Response:
    """Disconnect one tenant."""
    sb = current_sandbox()
    sb.counters.record_call("DELETE", "/connections/{id}", None)
    with sb.lock:
        grant, reason = tokens.resolve_access(sb, request.headers.get("Authorization"))
        if grant is None:
            return _problem(401, "Unauthorized", reason)
        conn = sb.state.identity.connections.get(conn_id)
        if conn is None or conn["_client"] != grant.client_id:
            return Response(status=404)
        del sb.state.identity.connections[conn_id]
    return Response(status=204)
