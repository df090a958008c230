"""The Xero gateway over xero-python: tokens, limits, retries, batching (no Flask)."""

from __future__ import annotations

from pxflask.xero.connection import ConnectionStatus, Tenant
from pxflask.xero.errors import (
    NeedsReconnect,
    NotConnected,
    QuotaExhausted,
    RateLimited,
    RetriesExhausted,
    XeroAuthError,
    XeroConfigError,
    XeroError,
    XeroRequestError,
    XeroUnavailable,
)
from pxflask.xero.gateway import ElementResult, XeroGateway
from pxflask.xero.limiter import Limits
from pxflask.xero.oauth import AuthorizationRequest
from pxflask.xero.retry import RetryPolicy
from pxflask.xero.stats import CallStats

__all__ = [
    "AuthorizationRequest",
    "CallStats",
    "ConnectionStatus",
    "ElementResult",
    "Limits",
    "NeedsReconnect",
    "NotConnected",
    "QuotaExhausted",
    "RateLimited",
    "RetriesExhausted",
    "RetryPolicy",
    "Tenant",
    "XeroAuthError",
    "XeroConfigError",
    "XeroError",
    "XeroGateway",
    "XeroRequestError",
    "XeroUnavailable",
]
