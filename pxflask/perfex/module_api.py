"""Writes through the pxflask Perfex module, so Perfex's own model runs them.

A payment recorded through the module's API goes through Perfex's payment model:
its hooks, activity log, receipt e-mail and invoice status refresh all happen.
Without the module (or while it cannot be reached) the direct write of
writes.record_payment_once is the fallback; both are idempotent per transaction id.
Documents made in Xero go through Perfex's invoice / credit-note model the same
way (document_writes.create_document is their fallback).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pxflask.perfex import document_writes, writes
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.document_writes import NewDocument
from pxflask.perfex.totals import round_money

log = logging.getLogger(__name__)

TIMEOUT = 10.0


class ModuleUnavailable(RuntimeError):
    """The module did not answer, or answered something unexpected."""


@dataclass(frozen=True)
class PerfexModule:
    """The module's API: its address (…/pxflask/pxflask_api) and bearer token."""

    url: str
    token: str
    timeout: float = TIMEOUT

    def record_payment(
        self,
        invoice_id: int,
        amount: Decimal,
        on: date,
        mode: str | int | None,
        *,
        transaction_id: str,
        note: str | None = None,
    ) -> tuple[int, bool]:
        """Record a payment through Perfex's model; (payment id, created).

        Raises writes.PaymentRefused when Perfex refuses it, ModuleUnavailable
        when the module cannot be asked.
        """
        body = {
            "invoiceid": invoice_id,
            "amount": str(round_money(Decimal(amount))),
            "date": on.isoformat(),
            "paymentmode": "" if mode is None else str(mode),
            "transactionid": transaction_id,
            "note": note or "",
        }
        status, answer = self._post("/payments", body)
        if status in (200, 201) and isinstance(answer.get("id"), int):
            return answer["id"], bool(answer.get("created"))
        if status in (400, 422):
            raise writes.PaymentRefused(str(answer.get("error") or "refused by Perfex"))
        raise ModuleUnavailable(f"the Perfex module answered HTTP {status}")

    def create_document(self, doc: NewDocument, xero_id: str) -> tuple[int, str]:
        """Add an invoice or credit note through Perfex's model; (id, its number).

        Raises ValueError when Perfex refuses it, ModuleUnavailable when the module
        cannot be asked (or is too old to have the call).
        """
        status, answer = self._post("/documents", _document_body(doc, xero_id))
        if status in (200, 201) and isinstance(answer.get("id"), int):
            return answer["id"], str(answer.get("number") or answer["id"])
        if status in (400, 422):
            raise ValueError(str(answer.get("error") or "refused by Perfex"))
        raise ModuleUnavailable(f"the Perfex module answered HTTP {status}")

    def _post(self, path: str, body: dict[str, object]) -> tuple[int, dict]:
        """POST JSON with the bearer token; (status, JSON object answered)."""
        request = urllib.request.Request(  # noqa: S310 - an https/http URL from settings
            self.url.rstrip("/") + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, _json_object(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json_object(exc.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ModuleUnavailable(f"the Perfex module is unreachable: {exc}") from exc


def _json_object(raw: bytes) -> dict:
    """The answer's JSON object, or {} for anything else."""
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def module_from_settings(url: str | None, token: str | None) -> PerfexModule | None:
    """The module when both its URL and the bearer token are set."""
    if not url or not token:
        return None
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError("PERFEX_MODULE_URL must be an http(s) URL")
    return PerfexModule(url, token)


def record_payment(
    db: PerfexDB,
    invoice_id: int,
    amount: Decimal,
    on: date,
    mode: str | int | None,
    *,
    transaction_id: str,
    note: str | None = None,
) -> tuple[int, bool]:
    """Record a payment from Xero: through the module if set and up, else directly."""
    module = db.module
    if module is not None:
        try:
            return module.record_payment(
                invoice_id, amount, on, mode, transaction_id=transaction_id, note=note
            )
        except ModuleUnavailable as exc:
            log.warning("%s; recording the payment directly instead", exc)
    return writes.record_payment_once(
        db, invoice_id, amount, on, mode, transaction_id=transaction_id, note=note
    )


def _document_body(doc: NewDocument, xero_id: str) -> dict[str, object]:
    """The module's documents call: the document as Perfex's form would post it."""
    return {
        "kind": doc.kind,
        "xero_id": xero_id,
        "clientid": doc.clientid,
        "date": doc.on.isoformat(),
        "duedate": doc.duedate.isoformat() if doc.duedate else "",
        "currency": doc.currency_id,
        "subtotal": str(doc.subtotal),
        "total": str(doc.total),
        "adminnote": doc.adminnote or "",
        "reference_no": doc.reference_no or "",
        "items": [line.as_posted() for line in doc.lines],
    }


def create_document(db: PerfexDB, doc: NewDocument, xero_id: str) -> tuple[int, str]:
    """Add a document from Xero: through the module if set and up, else directly.

    The module's endpoint finds a document already carrying the Xero id (in its admin
    note) instead of adding it twice; (id, the number Perfex shows).
    """
    module = db.module
    if isinstance(module, PerfexModule):
        try:
            return module.create_document(doc, xero_id)
        except ModuleUnavailable as exc:
            log.warning("%s; writing the document directly instead", exc)
    return document_writes.create_document(db, doc)
