"""The gateway's writes: batches on worker threads, one-element calls, answers."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from dataclasses import dataclass, field
from typing import Any

from xero_python.accounting import models as sdk

from pxflask.xero import payloads
from pxflask.xero.batching import Batcher, idempotency_key
from pxflask.xero.entity_specs import ENTITIES
from pxflask.xero.errors import RetriesExhausted, XeroError, XeroRequestError
from pxflask.xero.limiter import RateLimiter
from pxflask.xero.stats import CallStats

ZERO_ID = "00000000-0000-0000-0000-000000000000"
WRITE_KINDS = tuple(kind for kind, spec in ENTITIES.items() if spec.batched)
"""The kinds the gateway batch-writes (each entity spec says so)."""


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


class GatewayWrites:
    """XeroGateway's writes (mixed in; `call`, `call_raw`, `limiter`, `stats`)."""

    limiter: RateLimiter
    stats: CallStats
    call: Callable[..., Any]
    call_raw: Callable[..., RawAnswer]

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
        errors = [element_message(v) for v in raw.get("ValidationErrors") or []]
        warnings = [element_message(v) for v in raw.get("Warnings") or []]
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
        allocations: Iterable[tuple[Hashable, dict[str, Any]]],
        *,
        run_key: str,
    ) -> list[ElementResult]:
        """Allocate a credit note to invoices in one call: a result per element.

        summarizeErrors=false, so Xero answers each element (a refused one with
        its ValidationErrors); the Idempotency-Key covers the whole body. An
        element Xero did not answer comes back failed and `uncertain`.
        """
        spec = payloads.entity("allocations")
        results: dict[int, ElementResult] = {}
        sent: list[tuple[int, Hashable]] = []
        models, wires = [], []
        for index, (ref, allocation) in enumerate(allocations):
            try:
                model = payloads.to_model("Allocation", allocation)
                wires.append(payloads.wire_json(model))
            except (payloads.PayloadError, TypeError, ValueError) as exc:
                results[index] = ElementResult(
                    ref, False, errors=[f"invalid payload: {exc}"]
                )
                continue
            models.append(model)
            sent.append((index, ref))
        if sent:
            wire = f"{credit_note_id}:[{','.join(wires)}]"
            key = idempotency_key(run_key, "allocations:allocate", wire)
            body = sdk.Allocations(allocations=models)
            for (index, _), result in zip(
                sent, self._allocate(spec, credit_note_id, body, key, sent), strict=True
            ):
                results[index] = result
        return [results[i] for i in sorted(results)]

    def _allocate(
        self,
        spec: payloads.EntitySpec,
        credit_note_id: str,
        body: Any,
        key: str,
        sent: list[tuple[int, Hashable]],
    ) -> list[ElementResult]:
        """The call of allocate_credit_note, mapped back element by element."""
        failure: str | None = None
        uncertain = False
        try:
            data = self.call(
                "create_credit_note_allocation",
                credit_note_id,
                body,
                summarize_errors=False,
                idempotency_key=key,
            )
            answers = [payloads.from_model(x) for x in getattr(data, spec.attr) or []]
        except XeroRequestError as exc:
            answers, failure = _elements_of(exc.body, spec.collection), exc.message
            answers = answers if len(answers) == len(sent) else []
        except RetriesExhausted as exc:
            answers, failure, uncertain = [], str(exc), True
        out = []
        for position, (_, ref) in enumerate(sent):
            if position >= len(answers):
                error = failure or "Xero returned no answer for it"
                unsure = uncertain or failure is None
                out.append(ElementResult(ref, False, errors=[error], uncertain=unsure))
                continue
            result = self._element_result(spec, ref, answers[position])
            if failure is not None:
                result.ok, result.xero_id, result.uncertain = False, None, uncertain
                result.errors = result.errors or [failure]
            out.append(result)
        self.stats.count("elements_written", sum(1 for r in out if r.ok))
        return out

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


def _elements_of(body: Any, collection: str) -> list[dict[str, Any]]:
    """Per-element answers inside an error body (Elements or the collection)."""
    if not isinstance(body, dict):
        return []
    items = body.get("Elements") or body.get(collection) or []
    return [item for item in items if isinstance(item, dict)]


def element_message(value: Any) -> str:
    """The text of a ValidationError / Warning (dict or plain)."""
    if isinstance(value, dict):
        return str(value.get("Message") or value)
    return str(value)
