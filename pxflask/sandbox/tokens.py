"""OAuth2 logic of the identity service: codes, tokens, rotation, connections."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from .serialize import iso_utc
from .state import AccessToken, AuthCode, Grant, RefreshToken

if TYPE_CHECKING:
    from .core import Sandbox


class OAuthError(Exception):
    """An OAuth2 error answered as 400 {"error": code}."""

    def __init__(self, code: str, description: str = "") -> None:
        """Remember the RFC 6749 error code."""
        super().__init__(code)
        self.code = code
        self.description = description


def _b64(data: bytes) -> str:
    """Unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _id_token(sb: Sandbox, client_id: str) -> str:
    """A JWT-shaped (unsigned) id_token for the sandbox user."""
    now = int(sb.clock.time())
    header = {"alg": "none", "typ": "JWT"}
    payload = {
        "iss": "https://identity.xero.com",
        "aud": client_id,
        "sub": "sandbox-user",
        "email": "sandbox.user@example.com",
        "given_name": "Sandbox",
        "family_name": "User",
        "iat": now,
        "exp": now + 300,
    }
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), ""]
    )


def issue(sb: Sandbox, grant: Grant, with_refresh: bool = True) -> dict[str, Any]:
    """Mint an access (and refresh) token for a grant; the token response."""
    ident = sb.state.identity
    now = sb.clock.time()
    access = "sbx_at_" + secrets.token_urlsafe(32)
    ident.access[access] = AccessToken(
        access, grant.grant_id, now + sb.options.access_ttl_s
    )
    response: dict[str, Any] = {
        "access_token": access,
        "expires_in": sb.options.access_ttl_s,
        "token_type": "Bearer",
        "scope": " ".join(grant.scope),
    }
    if "openid" in grant.scope:
        response["id_token"] = _id_token(sb, grant.client_id)
    if with_refresh and "offline_access" in grant.scope:
        refresh = "sbx_rt_" + secrets.token_urlsafe(32)
        ident.refresh[refresh] = RefreshToken(
            refresh, grant.grant_id, grant.scope, now + sb.options.refresh_ttl_s
        )
        response["refresh_token"] = refresh
    return response


def connect(sb: Sandbox, client_id: str, tenant_ids: list[str], event: str) -> None:
    """Create or refresh the user's connections to these tenants."""
    ident = sb.state.identity
    stamp = iso_utc(sb.clock.stamp())
    for tenant_id in tenant_ids:
        tenant = sb.state.tenants[tenant_id]
        existing = next(
            (
                c
                for c in ident.connections.values()
                if c["tenantId"] == tenant_id and c["_client"] == client_id
            ),
            None,
        )
        if existing:
            existing.update(updatedDateUtc=stamp, authEventId=event)
            continue
        conn_id = str(uuid.uuid4())
        ident.connections[conn_id] = {
            "id": conn_id,
            "authEventId": event,
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": tenant.name,
            "createdDateUtc": stamp,
            "updatedDateUtc": stamp,
            "_client": client_id,
        }


def new_grant(
    sb: Sandbox, client_id: str, scope: list[str], tenant_ids: list[str]
) -> Grant:
    """Record a user's consent and connect the chosen tenants."""
    grant = Grant(str(uuid.uuid4()), client_id, scope, str(uuid.uuid4()))
    sb.state.identity.grants[grant.grant_id] = grant
    connect(sb, client_id, tenant_ids, grant.auth_event_id)
    return grant


def create_code(
    sb: Sandbox,
    client_id: str,
    redirect_uri: str,
    scope: list[str],
    tenant_ids: list[str],
    code_challenge: str | None = None,
) -> str:
    """A single-use authorization code after the user clicked Allow."""
    code = secrets.token_urlsafe(24)
    sb.state.identity.codes[code] = AuthCode(
        code,
        client_id,
        redirect_uri,
        scope,
        tenant_ids,
        sb.clock.time() + sb.options.code_ttl_s,
        code_challenge,
    )
    return code


def check_client(sb: Sandbox, client_id: str | None, secret: str | None) -> None:
    """Raise invalid_client unless the credentials are the sandbox app's."""
    if client_id != sb.options.client_id:
        raise OAuthError("invalid_client")
    if secret is not None and not secrets.compare_digest(
        secret, sb.options.client_secret
    ):
        raise OAuthError("invalid_client")


def exchange_code(
    sb: Sandbox,
    client_id: str,
    secret: str | None,
    code: str,
    redirect_uri: str,
    verifier: str | None,
) -> dict[str, Any]:
    """authorization_code grant."""
    ident = sb.state.identity
    auth = ident.codes.get(code)
    if auth is None or auth.used or auth.expires_at < sb.clock.time():
        raise OAuthError("invalid_grant")
    if auth.client_id != client_id or auth.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant")
    if auth.code_challenge:
        digest = _b64(hashlib.sha256((verifier or "").encode()).digest())
        if digest != auth.code_challenge:
            raise OAuthError("invalid_grant")
    else:
        check_client(sb, client_id, secret or "")
    auth.used = True
    grant = new_grant(sb, client_id, auth.scope, auth.tenant_ids)
    return issue(sb, grant)


def refresh(sb: Sandbox, client_id: str, secret: str, token: str) -> dict[str, Any]:
    """refresh_token grant with rotation and a one-time grace for the old token."""
    check_client(sb, client_id, secret)
    ident = sb.state.identity
    now = sb.clock.time()
    record = ident.refresh.get(token)
    if record is None or record.revoked or record.expires_at < now:
        raise OAuthError("invalid_grant")
    grant = ident.grants.get(record.grant_id)
    if grant is None or grant.revoked or grant.client_id != client_id:
        raise OAuthError("invalid_grant")
    if record.rotated_at is not None:
        expired = now - record.rotated_at > sb.options.refresh_grace_s
        if expired or record.grace_used:
            raise OAuthError("invalid_grant")
        record.grace_used = True
    else:
        record.rotated_at = now
    return issue(sb, grant)


def client_credentials(sb: Sandbox, client_id: str, secret: str) -> dict[str, Any]:
    """client_credentials grant (custom connection to the first tenant)."""
    check_client(sb, client_id, secret)
    tenant_id = next(iter(sb.state.tenants))
    grant = Grant(
        str(uuid.uuid4()),
        client_id,
        ["accounting.transactions", "accounting.contacts", "accounting.settings"],
        str(uuid.uuid4()),
        custom_tenant=tenant_id,
    )
    sb.state.identity.grants[grant.grant_id] = grant
    return issue(sb, grant, with_refresh=False)


def revoke(sb: Sandbox, client_id: str, secret: str, token: str) -> None:
    """Revoke a refresh token: its grant, tokens and the user's connections."""
    check_client(sb, client_id, secret)
    ident = sb.state.identity
    record = ident.refresh.get(token)
    if record is None:
        return
    grant = ident.grants.get(record.grant_id)
    if grant is None:
        return
    grant.revoked = True
    for item in list(ident.refresh.values()) + list(ident.access.values()):
        if item.grant_id == grant.grant_id:
            item.revoked = True
    for conn_id, conn in list(ident.connections.items()):
        if conn["_client"] == grant.client_id:
            del ident.connections[conn_id]


def resolve_access(sb: Sandbox, header: str | None) -> tuple[Grant | None, str]:
    """Check a bearer header: (grant, "") or (None, reason for the 401)."""
    if not header or not header.lower().startswith("bearer "):
        return None, "AuthenticationUnsuccessful"
    ident = sb.state.identity
    record = ident.access.get(header[7:].strip())
    if record is None or record.revoked:
        return None, "AuthenticationUnsuccessful"
    if record.expires_at <= sb.clock.time():
        return None, "TokenExpired: token expired"
    grant = ident.grants.get(record.grant_id)
    if grant is None or grant.revoked:
        return None, "AuthenticationUnsuccessful"
    return grant, ""


def tenant_allowed(sb: Sandbox, grant: Grant, tenant_id: str | None) -> bool:
    """Whether the grant's user is connected to the tenant."""
    if not tenant_id or tenant_id not in sb.state.tenants:
        return False
    if grant.custom_tenant:
        return tenant_id == grant.custom_tenant
    return any(
        c["tenantId"] == tenant_id and c["_client"] == grant.client_id
        for c in sb.state.identity.connections.values()
    )


def connections_for(sb: Sandbox, grant: Grant) -> list[dict[str, Any]]:
    """The connections visible to a token (public fields only)."""
    if grant.custom_tenant:
        tenant = sb.state.tenants[grant.custom_tenant]
        return [
            {
                "id": grant.grant_id,
                "authEventId": grant.auth_event_id,
                "tenantId": tenant.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": tenant.name,
                "createdDateUtc": iso_utc(sb.clock.now()),
                "updatedDateUtc": iso_utc(sb.clock.now()),
            }
        ]
    return [
        {k: v for k, v in c.items() if not k.startswith("_")}
        for c in sb.state.identity.connections.values()
        if c["_client"] == grant.client_id
    ]


def expire_access_tokens(sb: Sandbox) -> int:
    """Fault: treat every access token issued so far as expired."""
    now = sb.clock.time()
    count = 0
    for record in sb.state.identity.access.values():
        if record.expires_at > now:
            record.expires_at = now - 1
            count += 1
    return count
