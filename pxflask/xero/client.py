"""The xero-python client factory: one ApiClient per connection, our retries only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from pxflask.xero import compat

log = logging.getLogger(__name__)
compat.apply()  # the SDK's header methods on urllib3 >= 2.6 (see compat.py)


def point_token_api(settings: dict[str, Any]) -> None:
    """Set the SDK's token endpoints (class attributes) from the settings."""
    TokenApi.refresh_token_url = settings["XERO_TOKEN_URL"]
    TokenApi.client_credentials_token_url = settings["XERO_TOKEN_URL"]
    TokenApi.revoke_token_url = settings["XERO_REVOKE_URL"]


def identity_base_url(connections_url: str) -> str:
    """The IdentityApi base URL: XERO_CONNECTIONS_URL without '/connections'."""
    url = connections_url.rstrip("/")
    if url.lower().endswith("/connections"):
        url = url[: -len("/connections")]
    return url


def build_api_client(
    settings: dict[str, Any], token_getter: Callable[[], dict[str, Any]]
) -> ApiClient:
    """An ApiClient whose token comes from `token_getter` and that never retries."""
    client_id = settings.get("XERO_CLIENT_ID")
    secret = settings.get("XERO_CLIENT_SECRET")
    api_client = ApiClient(
        Configuration(debug=False),
        pool_threads=1,
        oauth2_token_getter=token_getter,
        oauth2_token_saver=_refuse_sdk_refresh,
    )
    # Configuration is a pseudo-singleton: give this client its own OAuth2Token.
    api_client.configuration.oauth2_token = OAuth2Token(
        client_id=client_id, client_secret=secret
    )
    if api_client.configuration.debug:
        api_client.configuration.debug = False  # never log bodies (tokens)
    pool = api_client.rest_client.pool_manager
    pool.connection_pool_kw["retries"] = False  # our RetryPolicy is the only one
    pool.clear()
    point_token_api(settings)
    return api_client


def _refuse_sdk_refresh(token: dict[str, Any]) -> None:
    """The SDK must not refresh on its own; TokenStore is the only refresher."""
    log.warning("xero-python tried to store a token itself; ignored")


def accounting_api(api_client: ApiClient, settings: dict[str, Any]) -> AccountingApi:
    """AccountingApi at XERO_API_URL."""
    return AccountingApi(api_client, base_url=settings["XERO_API_URL"].rstrip("/"))


def identity_api(api_client: ApiClient, settings: dict[str, Any]) -> IdentityApi:
    """IdentityApi next to XERO_CONNECTIONS_URL."""
    return IdentityApi(
        api_client, base_url=identity_base_url(settings["XERO_CONNECTIONS_URL"])
    )
