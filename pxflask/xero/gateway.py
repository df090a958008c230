"""XeroGateway: every call to Xero goes through here (limits, retries, tokens)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import urllib3
from sqlalchemy.orm import Session, sessionmaker
from xero_python.exceptions import ApiException

from pxflask.xero.client import accounting_api, build_api_client, identity_api
from pxflask.xero.connection import ConnectionManager, ConnectionStatus, Tenant
from pxflask.xero.crypto import load_cipher
from pxflask.xero.errors import (
    QuotaExhausted,
    RateLimited,
    XeroAuthError,
    XeroRequestError,
    XeroUnavailable,
)
from pxflask.xero.invoice_links import GatewayInvoiceLinks
from pxflask.xero.limiter import Limits, RateLimiter, make_limiter
from pxflask.xero.oauth import AuthorizationRequest
from pxflask.xero.reads import GatewayReads
from pxflask.xero.retry import (
    RETRY_STATUSES,
    RetryPolicy,
    duration,
    gave_up_message,
    header,
    int_header,
    next_utc_midnight,
    retry_after_seconds,
)
from pxflask.xero.stats import CallStats
from pxflask.xero.tokens import StoredConnection, TokenStore
from pxflask.xero.tracking_calls import GatewayTracking
from pxflask.xero.writes import (
    WRITE_KINDS,
    ElementResult,
    GatewayWrites,
    RawAnswer,
    element_message,
)

__all__ = ["WRITE_KINDS", "ElementResult", "RawAnswer", "XeroGateway"]

log = logging.getLogger(__name__)

QUOTA_PERSIST_EVERY_S = 2.0


class XeroGateway(GatewayWrites, GatewayReads, GatewayTracking, GatewayInvoiceLinks):
    """The Xero gateway: tokens, tenant, limiter, retries, batching, paging, stats."""

    def __init__(
        self,
        settings: dict[str, Any],
        session_factory: sessionmaker[Session] | Callable[[], Session],
        redis: Any = None,
        *,
        instance_path: str | Path | None = None,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        sleep: Callable[[float], None] = time.sleep,
        redis_prefix: str = "pxflask:xero",
    ) -> None:
        self.settings = dict(settings)
        self.stats = CallStats()
        self.retry = retry or RetryPolicy()
        self.limiter: RateLimiter = make_limiter(limits, redis, redis_prefix)
        self.tokens = TokenStore(
            self.settings,
            session_factory,
            load_cipher(self.settings, instance_path),
            self.stats,
            redis,
            redis_prefix,
        )
        self._timeout = timeout
        self._sleep = sleep
        self._tls = threading.local()
        self._quota_lock = threading.Lock()
        self._quota_persisted_at = 0.0
        self.api_client = build_api_client(self.settings, self._sdk_token)
        self.accounting = accounting_api(self.api_client, self.settings)
        self.identity = identity_api(self.api_client, self.settings)
        self.connection = ConnectionManager(self)

    @classmethod
    def from_settings(
        cls,
        settings: dict[str, Any],
        session_factory: sessionmaker[Session] | Callable[[], Session],
        *,
        instance_path: str | Path | None = None,
        **kwargs: Any,
    ) -> XeroGateway:
        """Build a gateway; Redis (shared limiter and lock) when REDIS_URL is set."""
        redis_client = None
        if settings.get("REDIS_URL"):
            import redis as redis_lib

            redis_client = redis_lib.Redis.from_url(settings["REDIS_URL"])
        if "limits" not in kwargs and settings.get("XERO_DAY_LIMIT"):
            kwargs["limits"] = Limits(day_budget=int(settings["XERO_DAY_LIMIT"]))
        if "redis_prefix" not in kwargs:  # installs sharing a Redis stay apart
            own = settings.get("PXFLASK_QUEUE_PREFIX") or ""
            kwargs["redis_prefix"] = f"{own}pxflask:xero"
        return cls(
            settings,
            session_factory,
            redis_client,
            instance_path=instance_path,
            **kwargs,
        )

    # -- connection one-liners (see connection.py) ----------------------------

    def start_authorization(
        self,
        redirect_uri: str | None = None,
        *,
        pkce: bool = False,
        legacy_scopes: bool = False,
    ) -> AuthorizationRequest:
        """The authorize URL and a fresh state (see ConnectionManager)."""
        return self.connection.start_authorization(
            redirect_uri, pkce=pkce, legacy_scopes=legacy_scopes
        )

    def complete_authorization(
        self,
        code: str | None,
        state: str | None,
        expected_state: str | None,
        *,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        error: str | None = None,
    ) -> list[Tenant]:
        """Check state, exchange the code; the tenants (see ConnectionManager)."""
        return self.connection.complete_authorization(
            code,
            state,
            expected_state,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            error=error,
        )

    def choose_tenant(self, tenant_id: str) -> Tenant:
        """Pick the organisation to sync with."""
        return self.connection.choose_tenant(tenant_id)

    def connect_client_credentials(self) -> Tenant:
        """Connect a Xero Custom Connection."""
        return self.connection.connect_client_credentials()

    def disconnect(self) -> None:
        """Revoke, delete the connection in Xero and forget it locally."""
        self.connection.disconnect()

    def connection_status(self) -> ConnectionStatus:
        """Tenant, token expiry, scopes and quota left."""
        return self.connection.connection_status()

    def tenants(self) -> list[Tenant]:
        """The organisations the stored token reaches."""
        return self.connection.tenants()

    # -- the one call path ----------------------------------------------------

    def _sdk_token(self) -> dict[str, Any]:
        """Token for the SDK: this thread's, with no expiry so it never refreshes."""
        token = getattr(self._tls, "token", None) or {}
        return {
            "access_token": token.get("access_token"),
            "refresh_token": token.get("refresh_token"),
            "id_token": token.get("id_token"),
            "token_type": token.get("token_type") or "Bearer",
            "scope": list(token.get("scope") or []),
            "expires_in": token.get("expires_in"),
            "expires_at": None,
        }

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call one AccountingApi method for the tenant (limits, retries, 401)."""
        return self._call(self.accounting, method, args, kwargs, tenant=True)

    def call_identity(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call one IdentityApi method (retries and 401 handling, no tenant)."""
        return self._call(self.identity, method, args, kwargs, tenant=False)

    def call_raw(self, method: str, *args: Any, **kwargs: Any) -> RawAnswer:
        """Like call(), but the 2xx body is returned unparsed (no SDK models)."""
        return self._call(self.accounting, method, args, kwargs, tenant=True, raw=True)

    def _call(
        self,
        api: Any,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tenant: bool,
        raw: bool = False,
    ) -> Any:
        """Run one SDK call through the token store, limiter and retry policy."""
        attempt, refreshed = 0, False
        started = time.monotonic()
        while True:
            attempt += 1
            conn = self.tokens.fresh(require_tenant=tenant)
            self._tls.token = conn.token
            try:
                data, _status, headers = self._invoke(
                    api, method, conn, args, kwargs, raw
                )
            except ApiException as exc:
                status = int(exc.status or 0)
                headers = _safe_headers(exc)
                self._learn(conn, headers)
                if status == 401 and not refreshed:
                    refreshed = True
                    attempt -= 1
                    self.tokens.refresh(conn.version)
                    continue
                elapsed = time.monotonic() - started
                wait = self._plan_retry(conn, method, status, headers, attempt, elapsed)
                if wait is None:
                    raise _as_request_error(exc, status) from exc
            except urllib3.exceptions.HTTPError as exc:
                elapsed = time.monotonic() - started
                wait = self.retry.next_wait(attempt, elapsed, None)
                if wait is None:
                    self.stats.count("errors")
                    raise XeroUnavailable(
                        f"Xero did not answer {method} after {attempt} attempts "
                        f"in {duration(elapsed)} ({type(exc).__name__}); "
                        "the next run retries it"
                    ) from exc
            else:
                self._learn(conn, headers)
                return data
            finally:
                self._tls.token = None
            self.stats.count("retries")
            log.info("retrying Xero %s in %.2fs (attempt %d)", method, wait, attempt)
            self._sleep(wait)

    def _invoke(
        self,
        api: Any,
        method: str,
        conn: StoredConnection,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        raw: bool = False,
    ) -> tuple[Any, int, Any]:
        """The HTTP request itself, inside a limiter slot when it hits a tenant."""
        func = getattr(api, method)
        options: dict[str, Any] = {"_request_timeout": self._timeout}
        if raw:  # the SDK returns the urllib3 response (it still raises non-2xx)
            options.update(_return_http_data_only=True, _preload_content=False)
        else:
            options["_return_http_data_only"] = False
        self.stats.count_call(method)
        if api is self.identity:
            return self._timed(func, args, kwargs, options, raw)
        tenant_id = str(conn.tenant_id)
        with self.limiter.slot(tenant_id) as ticket:
            try:
                answer = self._timed(func, (tenant_id, *args), kwargs, options, raw)
            except ApiException as exc:
                _note_minute(ticket, _safe_headers(exc))
                self._pause_on_429(tenant_id, exc)
                raise
            _note_minute(ticket, answer[2])
            return answer

    def _pause_on_429(self, tenant_id: str, exc: ApiException) -> None:
        """A minute-limit 429: hold every caller of the tenant for its Retry-After.

        Done while this call still holds its slot, so no caller waiting for the
        slot gets it (and calls Xero) before the pause is in place.
        """
        if int(exc.status or 0) != 429:
            return
        headers = _safe_headers(exc)
        problem = (header(headers, "X-Rate-Limit-Problem") or "").strip().lower()
        retry_after = retry_after_seconds(headers)
        if problem != "day" and retry_after is not None:
            self.limiter.pause(tenant_id, retry_after)

    def _timed(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: dict[str, Any],
        raw: bool = False,
    ) -> Any:
        """Run the SDK method (reading a raw body too), adding its duration."""
        started = time.perf_counter()
        try:
            result = func(*args, **kwargs, **options)
            if not raw:
                return result
            try:
                answer = RawAnswer(result.data, result.status, result.headers)
            finally:
                result.release_conn()
            return answer, answer.status, answer.headers
        finally:
            self.stats.timed(time.perf_counter() - started)

    def _plan_retry(
        self,
        conn: StoredConnection,
        method: str,
        status: int,
        headers: Any,
        attempt: int,
        waited: float,
    ) -> float | None:
        """Seconds to wait before retrying, None to give up; raises quota errors."""
        if status == 401:
            raise XeroAuthError(
                "Xero refused the access token even after a refresh; reconnect Xero"
            )
        if status == 403:
            raise XeroAuthError(
                "Xero refused access (403): the organisation is disconnected or the "
                "app lacks a scope; reconnect Xero"
            )
        if status not in RETRY_STATUSES and status != 0:
            return None
        retry_after = retry_after_seconds(headers)
        if status == 429:
            self.stats.count("rate_limited")
            problem = (header(headers, "X-Rate-Limit-Problem") or "").strip().lower()
            if problem == "day":
                raise self._day_spent(conn, retry_after)
        wait = self.retry.next_wait(attempt, waited, retry_after)
        if wait is None:
            self.stats.count("errors")
            message = gave_up_message(status, method, waited)
            if status == 429:
                raise RateLimited(message, status)
            raise XeroUnavailable(message, status)
        return wait

    def _day_spent(
        self, conn: StoredConnection, retry_after: float | None
    ) -> QuotaExhausted:
        """Mark the day budget spent for every worker; the exception to raise."""
        now = datetime.now(UTC).replace(tzinfo=None)
        if retry_after is not None:
            resume_at = now + timedelta(seconds=retry_after)
        else:
            resume_at = next_utc_midnight()
        if conn.tenant_id:
            self.limiter.exhaust_day(conn.tenant_id, resume_at)
        return QuotaExhausted(resume_at)

    def _learn(self, conn: StoredConnection, headers: Any) -> None:
        """Record quota headers: stats, limiter, and (throttled) the database."""
        minute = int_header(headers, "X-MinLimit-Remaining")
        day = int_header(headers, "X-DayLimit-Remaining")
        if minute is None and day is None:
            return
        self.stats.quota(minute, day, datetime.now(UTC).replace(tzinfo=None))
        if conn.tenant_id:
            self.limiter.observe(conn.tenant_id, minute, day)
        now = time.monotonic()
        with self._quota_lock:
            due = now - self._quota_persisted_at >= QUOTA_PERSIST_EVERY_S
            if due or (day is not None and day <= 0):
                self._quota_persisted_at = now
            else:
                return
        self.tokens.record_quota(minute, day)


def _note_minute(ticket: Any, headers: Any) -> None:
    """Tell the limiter's ticket (when it keeps one) the minute quota left."""
    if ticket is not None and hasattr(ticket, "minute_remaining"):
        ticket.minute_remaining = int_header(headers, "X-MinLimit-Remaining")


def _safe_headers(exc: ApiException) -> Any:
    """The headers of an SDK error (None when it has no HTTP response)."""
    try:
        return exc.headers
    except (AttributeError, TypeError):
        return None


def _parse_body(exc: ApiException) -> Any:
    """The JSON body of an SDK error, or None."""
    body = getattr(exc, "body", None)
    if not body:
        return None
    try:
        return json.loads(body, parse_float=Decimal)
    except (TypeError, ValueError):
        return None


def _as_request_error(exc: ApiException, status: int) -> XeroRequestError:
    """A non-retryable SDK error as XeroRequestError with Xero's message."""
    body = _parse_body(exc)
    message = None
    if isinstance(body, dict):
        for element in body.get("Elements") or []:
            errors = element.get("ValidationErrors") or []
            if errors:
                message = "; ".join(element_message(e) for e in errors)
                break
        message = message or body.get("Message") or body.get("Detail")
        message = message or body.get("Title")
    return XeroRequestError(status, str(message or exc.reason or "error"), body)
