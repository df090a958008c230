"""XeroGateway: every call to Xero goes through here (limits, retries, tokens)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import urllib3
from sqlalchemy.orm import Session, sessionmaker
from xero_python.accounting import models as sdk
from xero_python.exceptions import ApiException

from pxflask.xero import payloads
from pxflask.xero.batching import Batcher, idempotency_key
from pxflask.xero.client import accounting_api, build_api_client, identity_api
from pxflask.xero.connection import ConnectionManager, ConnectionStatus, Tenant
from pxflask.xero.crypto import load_cipher
from pxflask.xero.errors import (
    QuotaExhausted,
    RateLimited,
    RetriesExhausted,
    XeroAuthError,
    XeroError,
    XeroRequestError,
    XeroUnavailable,
)
from pxflask.xero.limiter import Limits, RateLimiter, make_limiter
from pxflask.xero.oauth import AuthorizationRequest
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

log = logging.getLogger(__name__)

ZERO_ID = "00000000-0000-0000-0000-000000000000"
IDS_PER_REQUEST = 50
MAX_PAGE_SIZE = 1000
QUOTA_PERSIST_EVERY_S = 2.0
WRITE_KINDS = (
    "contacts",
    "items",
    "invoices",
    "payments",
    "credit_notes",
    "bank_transactions",
)


@dataclass
class RawAnswer:
    """A 2xx answer left unparsed: body bytes, status and headers."""

    body: bytes
    status: int
    headers: Any


@dataclass
class _Prepared:
    """One batch ready to send: indices, wire body and idempotency key."""

    indices: list[int]
    body: payloads.SerializedBody
    key: str


@dataclass
class ElementResult:
    """What Xero did with one element the caller sent (mapped back by `ref`)."""

    ref: Hashable
    ok: bool
    xero_id: str | None = None
    number: str | None = None
    status: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    uncertain: bool = False
    """True when the call never got an answer: Xero may have applied it."""


class XeroGateway:
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

    # -- writes ---------------------------------------------------------------

    def write(
        self,
        kind: str,
        elements: Iterable[tuple[Hashable, dict[str, Any]]],
        *,
        run_key: str,
        mode: str = "create",
        unitdp: int | None = None,
        concurrency: int | None = None,
    ) -> list[ElementResult]:
        """Write elements in batches; one ElementResult per element, input order."""
        ordered: dict[int, ElementResult] = {}
        try:
            for batch in self._write_indexed(
                kind, elements, run_key, mode, unitdp, concurrency
            ):
                ordered.update(batch)
        except XeroError as exc:
            exc.partial_results = [ordered[i] for i in sorted(ordered)]
            raise
        return [ordered[i] for i in sorted(ordered)]

    def iter_write(
        self,
        kind: str,
        elements: Iterable[tuple[Hashable, dict[str, Any]]],
        *,
        run_key: str,
        mode: str = "create",
        unitdp: int | None = None,
        concurrency: int | None = None,
    ) -> Iterator[list[ElementResult]]:
        """Like write(), yielding the results of each call as it completes."""
        for batch in self._write_indexed(
            kind, elements, run_key, mode, unitdp, concurrency
        ):
            yield [batch[i] for i in sorted(batch)]

    def _write_indexed(
        self,
        kind: str,
        elements: Iterable[tuple[Hashable, dict[str, Any]]],
        run_key: str,
        mode: str,
        unitdp: int | None,
        concurrency: int | None,
    ) -> Iterator[dict[int, ElementResult]]:
        """Convert, batch, send; yield {input index: result} per batch."""
        if kind not in WRITE_KINDS:
            raise ValueError(f"cannot batch-write {kind!r}; one of {WRITE_KINDS}")
        spec = payloads.entity(kind)
        method = {"create": spec.create, "upsert": spec.upsert}.get(mode)
        if method is None:
            raise ValueError(f"mode {mode!r} is not available for {kind}")
        options: dict[str, Any] = {"summarize_errors": False}
        if unitdp is not None and spec.unitdp:
            options["unitdp"] = unitdp
        operation = f"{kind}:{mode}:{unitdp}"
        refs: list[Hashable] = []

        def post(batch: _Prepared) -> tuple[_Prepared, Any]:
            """The HTTP part of one batch (runs on a worker thread)."""
            return batch, self._post_batch(method, batch, options)

        def finish(posted: tuple[_Prepared, Any]) -> dict[int, ElementResult]:
            """Parse one posted batch into results by input index."""
            return self._map_batch(spec, posted[0], posted[1], refs)

        def batches() -> Iterator[_Prepared | dict[int, ElementResult]]:
            """Convert lazily: ready batches and rejected elements (dicts)."""
            batcher = Batcher()
            for index, (ref, payload) in enumerate(elements):
                refs.append(ref)
                try:
                    model = payloads.to_model(spec.model, payload)
                    body, wire = payloads.wire(model)
                except (payloads.PayloadError, TypeError, ValueError) as exc:
                    error = f"invalid payload: {exc}"
                    yield {index: ElementResult(ref, False, errors=[error])}
                    continue
                full = batcher.add((index, body, wire), len(wire))
                if full:
                    yield prepare(full)
            last = batcher.flush()
            if last:
                yield prepare(last)

        def prepare(chosen: list[tuple[int, dict[str, Any], str]]) -> _Prepared:
            """Wire body and idempotency key of one batch."""
            text = "[" + ",".join(wire for _, _, wire in chosen) + "]"
            body = payloads.serialized_collection(spec, [b for _, b, _ in chosen])
            key = idempotency_key(run_key, operation, text)
            return _Prepared([index for index, _, _ in chosen], body, key)

        workers = max(1, min(concurrency or self.limiter.limits.concurrent, 16))
        if workers == 1:
            for item in batches():
                yield item if isinstance(item, dict) else finish(post(item))
            return
        yield from self._pipeline(batches(), post, finish, workers)

    def _pipeline(
        self,
        source: Iterator[_Prepared | dict[int, ElementResult]],
        post: Callable[[_Prepared], Any],
        finish: Callable[[Any], dict[int, ElementResult]],
        workers: int,
    ) -> Iterator[dict[int, ElementResult]]:
        """Post batches on `workers` threads; yield each batch's results as it ends.

        At most two calls per worker are in flight (the limiter paces them); the
        next batch is converted while they run. After a failed call no more batches
        are sent (the rest are still converted, so rejected elements are reported)
        and the first failure is raised at the end.
        """
        pending: set[Future[Any]] = set()
        errors: list[BaseException] = []
        pool = ThreadPoolExecutor(workers, thread_name_prefix="xero-write")
        try:
            for item in source:
                if isinstance(item, dict):  # elements rejected before sending
                    yield item
                    continue
                if errors:
                    continue
                pending.add(pool.submit(post, item))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from _finished(done, finish, errors)
            yield from _finished(as_completed(pending), finish, errors)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if errors:
            raise errors[0]

    def _post_batch(
        self, method: str, batch: _Prepared, options: dict[str, Any]
    ) -> RawAnswer | XeroRequestError | RetriesExhausted:
        """One write call: Xero's unparsed answer, or why the batch failed.

        A call that kept failing for the whole retry budget fails the elements
        of this batch only (the other batches go on; the next run retries it).
        """
        try:
            return self.call_raw(
                method, batch.body, idempotency_key=batch.key, **options
            )
        except (XeroRequestError, RetriesExhausted) as exc:
            return exc

    def _map_batch(
        self,
        spec: payloads.EntitySpec,
        batch: _Prepared,
        outcome: RawAnswer | XeroRequestError | RetriesExhausted,
        refs: list[Hashable],
    ) -> dict[int, ElementResult]:
        """Map Xero's answers to one write call back to the input indices."""
        if isinstance(outcome, RetriesExhausted):
            answers: list[dict[str, Any]] = []
            failure: str | None = str(outcome)
        elif isinstance(outcome, XeroRequestError):
            answers = _elements_of(outcome.body, spec.collection)
            failure = outcome.message
        else:
            answers = payloads.answers_from_json(spec, outcome.body)
            failure = None
        results: dict[int, ElementResult] = {}
        for position, index in enumerate(batch.indices):
            ref = refs[index]
            if position < len(answers):
                result = self._element_result(spec, ref, answers[position])
                if failure and result.ok:
                    result.ok, result.xero_id = False, None
                    result.errors.append(failure)
            else:
                result = ElementResult(
                    ref,
                    False,
                    errors=[failure or "Xero returned no answer for it"],
                    uncertain=isinstance(outcome, RetriesExhausted),
                )
            results[index] = result
        self.stats.count("elements_written", sum(1 for r in results.values() if r.ok))
        return results

    @staticmethod
    def _element_result(
        spec: payloads.EntitySpec, ref: Hashable, raw: dict[str, Any]
    ) -> ElementResult:
        """Read ids, number, status, errors and warnings off one answered element."""
        errors = [_message(v) for v in raw.get("ValidationErrors") or []]
        warnings = [_message(v) for v in raw.get("Warnings") or []]
        flagged = bool(raw.get("HasErrors") or raw.get("HasValidationErrors"))
        if raw.get("StatusAttributeString") == "ERROR" or flagged:
            errors = errors or ["Xero flagged the element as failed"]
        ok = not errors
        xero_id = raw.get(spec.id_field)
        if not ok or xero_id == ZERO_ID:
            xero_id = None
        number = raw.get(spec.number_field) if spec.number_field else None
        if spec.status_field:
            status = raw.get(spec.status_field) or raw.get("StatusAttributeString")
        else:
            status = raw.get("StatusAttributeString")
        return ElementResult(
            ref,
            ok,
            None if xero_id is None else str(xero_id),
            None if number is None else str(number),
            status,
            errors,
            warnings,
            raw,
        )

    def _single(
        self,
        kind: str,
        method: str,
        ref: Hashable,
        run_key: str,
        build: Callable[[], tuple[tuple[Any, ...], str]],
    ) -> ElementResult:
        """One-element write: payload errors and 400s become a failed result."""
        spec = payloads.entity(kind)
        try:
            args, wire = build()
        except (payloads.PayloadError, TypeError, ValueError) as exc:
            return ElementResult(ref, False, errors=[f"invalid payload: {exc}"])
        key = idempotency_key(run_key, f"{kind}:{method}", wire)
        try:
            data = self.call(method, *args, idempotency_key=key)
        except XeroRequestError as exc:
            answers = _elements_of(exc.body, spec.collection)
            if answers:
                result = self._element_result(spec, ref, answers[0])
                result.ok, result.xero_id = False, None
                result.errors = result.errors or [exc.message]
                return result
            return ElementResult(ref, False, errors=[exc.message])
        answers = [payloads.from_model(x) for x in getattr(data, spec.attr) or []]
        if not answers:
            return ElementResult(ref, False, errors=["Xero returned no answer for it"])
        result = self._element_result(spec, ref, answers[0])
        if result.ok:
            self.stats.count("elements_written")
        return result

    def create_account(
        self, account: dict[str, Any], *, run_key: str, ref: Hashable = None
    ) -> ElementResult:
        """Create one account (Xero takes one per call)."""

        def build() -> tuple[tuple[Any, ...], str]:
            model = payloads.to_model("Account", account)
            return (model,), payloads.wire_json(model)

        return self._single("accounts", "create_account", ref, run_key, build)

    def create_tax_rate(
        self, tax_rate: dict[str, Any], *, run_key: str, ref: Hashable = None
    ) -> ElementResult:
        """Create one tax rate (one per call)."""

        def build() -> tuple[tuple[Any, ...], str]:
            model = payloads.to_model("TaxRate", tax_rate)
            wrapper = sdk.TaxRates(tax_rates=[model])
            return (wrapper,), payloads.wire_json(model)

        return self._single("tax_rates", "create_tax_rates", ref, run_key, build)

    def delete_payment(
        self, payment_id: str, *, run_key: str, ref: Hashable = None
    ) -> ElementResult:
        """Delete (set DELETED) one payment."""

        def build() -> tuple[tuple[Any, ...], str]:
            return (payment_id, sdk.PaymentDelete(status="DELETED")), payment_id

        return self._single("payments", "delete_payment", ref, run_key, build)

    def update_invoice_status(
        self, invoice_id: str, status: str, *, run_key: str, ref: Hashable = None
    ) -> ElementResult:
        """Move one invoice to AUTHORISED, SUBMITTED, DELETED or VOIDED."""

        def build() -> tuple[tuple[Any, ...], str]:
            model = payloads.to_model(
                "Invoice", {"InvoiceID": invoice_id, "Status": status}
            )
            return (
                invoice_id,
                sdk.Invoices(invoices=[model]),
            ), f"{invoice_id}:{status}"

        return self._single("invoices", "update_invoice", ref, run_key, build)

    def allocate_credit_note(
        self,
        credit_note_id: str,
        allocation: dict[str, Any],
        *,
        run_key: str,
        ref: Hashable = None,
    ) -> ElementResult:
        """Allocate part of one credit note to an invoice (Invoice, Amount, Date)."""

        def build() -> tuple[tuple[Any, ...], str]:
            model = payloads.to_model("Allocation", allocation)
            wire = f"{credit_note_id}:{payloads.wire_json(model)}"
            return (credit_note_id, sdk.Allocations(allocations=[model])), wire

        return self._single(
            "allocations", "create_credit_note_allocation", ref, run_key, build
        )

    def delete_credit_note_allocation(
        self, credit_note_id: str, allocation_id: str, *, ref: Hashable = None
    ) -> ElementResult:
        """Delete one allocation of a credit note; status "404" when already gone."""
        try:
            data = self.call(
                "delete_credit_note_allocations", credit_note_id, allocation_id
            )
        except XeroRequestError as exc:
            return ElementResult(
                ref, False, allocation_id, status=str(exc.status), errors=[exc.message]
            )
        raw = payloads.from_model(data) if data is not None else {}
        return ElementResult(ref, True, allocation_id, status="DELETED", raw=raw)

    # -- reads ----------------------------------------------------------------

    def iter_pages(
        self,
        kind: str,
        *,
        modified_since: datetime | date | None = None,
        where: str | None = None,
        order: str | None = None,
        ids: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        summary_only: bool = False,
        page_size: int = MAX_PAGE_SIZE,
        unitdp: int | None = None,
        include_archived: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the elements of a collection page by page (plain dicts)."""
        spec = payloads.entity(kind)
        if spec.get is None:
            raise ValueError(f"{kind} cannot be read")
        query: dict[str, Any] = {}
        if modified_since is not None and spec.modified_since:
            query["if_modified_since"] = _modified_since(modified_since)
        if where:
            query["where"] = where
        if order:
            query["order"] = order
        if statuses and spec.statuses:
            query["statuses"] = list(statuses)
        if summary_only and spec.summary_only:
            query["summary_only"] = True
        if unitdp is not None and spec.unitdp:
            query["unitdp"] = unitdp
        if include_archived and kind in ("contacts", "invoices"):
            query["include_archived"] = True
        if ids is not None:
            if not spec.ids:
                raise ValueError(f"{kind} cannot be filtered by ids")
            id_list = list(ids)
            for start in range(0, len(id_list), IDS_PER_REQUEST):
                chunk = {"i_ds": id_list[start : start + IDS_PER_REQUEST]}
                yield from self._pages(spec, {**query, **chunk}, page_size)
            return
        yield from self._pages(spec, query, page_size)

    def _pages(
        self, spec: payloads.EntitySpec, query: dict[str, Any], page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Page through one query."""
        if not spec.paged:
            data = self.call(spec.get, **query)
            items = [payloads.from_model(x) for x in getattr(data, spec.attr) or []]
            if items:
                yield items
            return
        page_size = max(1, min(MAX_PAGE_SIZE, page_size))
        page = 1
        while True:
            data = self.call(spec.get, page=page, page_size=page_size, **query)
            raw = getattr(data, spec.attr) or []
            if raw:
                yield [payloads.from_model(x) for x in raw]
            pagination = getattr(data, "pagination", None)
            page_count = getattr(pagination, "page_count", None)
            if len(raw) < page_size or (page_count is not None and page >= page_count):
                return
            page += 1

    def read_all(self, kind: str, **query: Any) -> list[dict[str, Any]]:
        """Every element of iter_pages() in one list."""
        return [item for page in self.iter_pages(kind, **query) for item in page]

    def get_organisation(self) -> dict[str, Any]:
        """The connected organisation (name, base currency, country, ...)."""
        data = self.call("get_organisations")
        orgs = getattr(data, "organisations", None) or []
        return payloads.from_model(orgs[0]) if orgs else {}


def _finished(
    futures: Iterable[Future[Any]],
    finish: Callable[[Any], dict[int, ElementResult]],
    errors: list[BaseException],
) -> Iterator[dict[int, ElementResult]]:
    """Results of finished calls; failures (of the call or its parsing) go to errors."""
    for future in futures:
        try:
            results = finish(future.result())
        except Exception as exc:  # raised by the pipeline once the calls end
            errors.append(exc)
            continue
        yield results


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
                message = "; ".join(_message(e) for e in errors)
                break
        message = message or body.get("Message") or body.get("Detail")
        message = message or body.get("Title")
    return XeroRequestError(status, str(message or exc.reason or "error"), body)


def _elements_of(body: Any, collection: str) -> list[dict[str, Any]]:
    """Per-element answers inside an error body (Elements or the collection)."""
    if not isinstance(body, dict):
        return []
    items = body.get("Elements") or body.get(collection) or []
    return [item for item in items if isinstance(item, dict)]


def _message(value: Any) -> str:
    """The text of a ValidationError / Warning (dict or plain)."""
    if isinstance(value, dict):
        return str(value.get("Message") or value)
    return str(value)


def _modified_since(value: datetime | date) -> str:
    """If-Modified-Since as RFC 3339 UTC, floored to the second (never misses)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"
