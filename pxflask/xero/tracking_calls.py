"""The gateway's tracking calls: read the categories, add a category, add options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from xero_python.accounting import models as sdk

from pxflask.xero import payloads
from pxflask.xero.batching import idempotency_key
from pxflask.xero.errors import XeroRequestError


class TrackingAnswer:
    """What Xero answered a tracking write: the records made, or why not."""

    def __init__(
        self, records: list[dict[str, Any]], errors: list[str] | None = None
    ) -> None:
        """Records (plain dicts) and errors (empty when Xero accepted it)."""
        self.records = records
        self.errors = errors or []

    @property
    def ok(self) -> bool:
        """True when Xero accepted the write."""
        return not self.errors


class GatewayTracking:
    """XeroGateway's tracking calls (mixed in; they go through its `call`)."""

    call: Callable[..., Any]

    def read_tracking_categories(self) -> list[dict[str, Any]]:
        """Every tracking category, archived ones and options included (one call)."""
        data = self.call("get_tracking_categories", include_archived=True)
        found = getattr(data, "tracking_categories", None) or []
        return [payloads.from_model(c) for c in found]

    def create_tracking_category(self, name: str, *, run_key: str) -> TrackingAnswer:
        """Add one tracking category (Xero takes one per call)."""
        model = sdk.TrackingCategory(name=name)
        key = idempotency_key(run_key, "tracking:category", name)
        try:
            data = self.call("create_tracking_category", model, idempotency_key=key)
        except XeroRequestError as exc:
            return TrackingAnswer([], _errors(exc))
        found = getattr(data, "tracking_categories", None) or []
        return TrackingAnswer([payloads.from_model(c) for c in found])

    def create_tracking_options(
        self, category_id: str, names: Sequence[str], *, run_key: str
    ) -> TrackingAnswer:
        """Add options to a category in one call ({"Options": [...]})."""
        body = sdk.TrackingOptions(options=[sdk.TrackingOption(name=n) for n in names])
        wire = f"{category_id}:{payloads.wire_json(body)}"
        key = idempotency_key(run_key, "tracking:options", wire)
        try:
            data = self.call(
                "create_tracking_options", category_id, body, idempotency_key=key
            )
        except XeroRequestError as exc:
            return TrackingAnswer([], _errors(exc))
        found = getattr(data, "options", None) or []
        return TrackingAnswer([payloads.from_model(o) for o in found])


def _errors(exc: XeroRequestError) -> list[str]:
    """Xero's validation messages of a refused write (else its message)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    messages = [
        str(v.get("Message"))
        for element in body.get("Elements") or []
        if isinstance(element, dict)
        for v in element.get("ValidationErrors") or []
        if isinstance(v, dict) and v.get("Message")
    ]
    return messages or [exc.message]
