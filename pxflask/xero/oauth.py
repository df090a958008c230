"""Low-level OAuth2 requests to Xero's identity service, through Authlib."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from pxflask.xero.errors import XeroAuthError, XeroConfigError, XeroUnavailable

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the admin, and what to remember until the callback."""

    url: str
    state: str
    code_verifier: str | None = None


def client_credentials_of(settings: dict[str, Any]) -> tuple[str, str]:
    """The configured client id and secret, or a clear error."""
    client_id = settings.get("XERO_CLIENT_ID")
    secret = settings.get("XERO_CLIENT_SECRET")
    if not client_id or not secret:
        raise XeroConfigError(
            "XERO_CLIENT_ID and XERO_CLIENT_SECRET must be set to connect Xero"
        )
    return str(client_id), str(secret)


def fingerprint(client_id: str, client_secret: str) -> str:
    """SHA-256 of the app credentials: a changed id or secret drops the connection."""
    return hashlib.sha256(f"{client_id}\x00{client_secret}".encode()).hexdigest()


def _session(settings: dict[str, Any], **kwargs: Any) -> OAuth2Session:
    """An Authlib session for the configured app (HTTP Basic client auth)."""
    client_id, secret = client_credentials_of(settings)
    return OAuth2Session(
        client_id,
        secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106
        **kwargs,
    )


def authorization_url(
    settings: dict[str, Any], redirect_uri: str, scopes: list[str], pkce: bool
) -> AuthorizationRequest:
    """Build the authorize URL with a fresh random state (and PKCE S256)."""
    verifier = generate_token(64) if pkce else None
    kwargs: dict[str, Any] = {"code_challenge_method": "S256"} if pkce else {}
    with _session(
        settings, redirect_uri=redirect_uri, scope=" ".join(scopes), **kwargs
    ) as session:
        url, state = session.create_authorization_url(
            settings["XERO_LOGIN_URL"],
            state=generate_token(32),
            code_verifier=verifier,
        )
    return AuthorizationRequest(url, state, verifier)


def exchange_code(
    settings: dict[str, Any], code: str, redirect_uri: str, code_verifier: str | None
) -> dict[str, Any]:
    """Trade an authorization code for a token set."""
    extra = {"code_verifier": code_verifier} if code_verifier else {}

    def fetch() -> dict[str, Any]:
        with _session(settings, redirect_uri=redirect_uri) as session:
            return session.fetch_token(
                settings["XERO_TOKEN_URL"],
                grant_type="authorization_code",
                code=code,
                timeout=TIMEOUT_S,
                **extra,
            )

    return normalise(_token_call(fetch, "exchange the authorization code"))


def refresh(settings: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    """Trade a refresh token for a new token set (rotating the refresh token)."""

    def fetch() -> dict[str, Any]:
        with _session(settings) as session:
            return session.refresh_token(
                settings["XERO_TOKEN_URL"],
                refresh_token=refresh_token,
                timeout=TIMEOUT_S,
            )

    return normalise(_token_call(fetch, "refresh the access token"))


def client_credentials(settings: dict[str, Any]) -> dict[str, Any]:
    """A token for a Xero Custom Connection (client_credentials grant)."""

    def fetch() -> dict[str, Any]:
        with _session(settings) as session:
            return session.fetch_token(
                settings["XERO_TOKEN_URL"],
                grant_type="client_credentials",
                timeout=TIMEOUT_S,
            )

    return normalise(_token_call(fetch, "get a client_credentials token"))


def revoke(settings: dict[str, Any], refresh_token: str) -> None:
    """Revoke a refresh token (Xero removes that user's connections)."""

    def call() -> dict[str, Any]:
        with _session(settings) as session:
            response = session.revoke_token(
                settings["XERO_REVOKE_URL"],
                refresh_token,
                token_type_hint="refresh_token",  # noqa: S106
                timeout=TIMEOUT_S,
            )
        if response.status_code >= 500:
            response.raise_for_status()
        if response.status_code != 200:
            raise XeroAuthError(
                f"Xero refused to revoke the token (HTTP {response.status_code})"
            )
        return {}

    _token_call(call, "revoke the token")


def _token_call(
    call: Callable[[], dict[str, Any]], what: str, attempts: int = 3
) -> dict[str, Any]:
    """Run a token-endpoint request; retry 5xx/network errors a little."""
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            problem = f"HTTP {status}"
        except requests.RequestException as exc:
            problem = type(exc).__name__
        except OAuthError as exc:
            raise XeroAuthError(_auth_message(what, str(exc.error))) from exc
        except ValueError as exc:  # a token answer that is not JSON
            raise XeroAuthError(f"could not {what}: {exc}") from exc
        if attempt < attempts:
            time.sleep(delay)
            delay *= 2
    raise XeroUnavailable(f"could not {what}: Xero identity service {problem}")


def _auth_message(what: str, error: str) -> str:
    """One sentence for an OAuth error code."""
    if error == "invalid_grant":
        return (
            f"could not {what}: Xero says the grant is invalid or expired "
            "(invalid_grant); reconnect Xero"
        )
    if error in ("invalid_client", "unauthorized_client"):
        return (
            f"could not {what}: Xero rejected the app credentials ({error}); "
            "check XERO_CLIENT_ID and XERO_CLIENT_SECRET"
        )
    if error == "invalid_scope":
        return (
            f"could not {what}: Xero rejected the requested scopes (invalid_scope); "
            "apps created before March 2026 need the legacy scopes"
        )
    return f"could not {what}: Xero answered {error}"


def normalise(token: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Keep the fields the SDK knows; scope as a LIST; absolute expires_at."""
    now = time.time() if now is None else now
    scope = token.get("scope") or []
    if isinstance(scope, str):
        scope = scope.split()
    expires_in = token.get("expires_in")
    expires_at = token.get("expires_at")
    if expires_in is not None:
        expires_at = now + float(expires_in)
    return {
        "access_token": token.get("access_token"),
        "refresh_token": token.get("refresh_token"),
        "id_token": token.get("id_token"),
        "token_type": token.get("token_type") or "Bearer",
        "expires_in": expires_in,
        "expires_at": expires_at,
        "scope": list(scope),
    }
