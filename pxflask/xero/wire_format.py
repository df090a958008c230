"""Request bodies in the SDK's wire form, without its per-value dispatch."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from xero_python.accounting import models
from xero_python.api_client.serializer import serialize as sdk_serialize
from xero_python.models import BaseModel

from pxflask.xero.entity_specs import EntitySpec


def wire_json(model: BaseModel) -> str:
    """The canonical JSON the SDK will send for a model (for sizes and keys)."""
    return wire(model)[1]


def wire(model: BaseModel) -> tuple[dict[str, Any], str]:
    """What the SDK sends for a model, and its canonical JSON (sorted keys)."""
    body = serialize(model)
    return body, json.dumps(body, sort_keys=True, separators=(",", ":"))


def collection(spec: EntitySpec, elements: list[BaseModel]) -> BaseModel:
    """Wrap models in the SDK's collection model (Invoices(invoices=[...]))."""
    return getattr(models, spec.collection)(**{spec.attr: elements})


# -- requests: the SDK's serialisation, without its per-value dispatch ---------

_PASS_THROUGH = frozenset({"str", "bool", "int", "bytes"})
_FIELDS: dict[type, tuple[tuple[str, str, str], ...]] = {}


def model_fields(cls: type[Any]) -> tuple[tuple[str, str, str], ...]:
    """(attribute, JSON key, type) of a model class, in the SDK's order (cached)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = tuple(
            (attr, cls.attribute_map[attr], kind)
            for attr, kind in cls.openapi_types.items()
        )
        _FIELDS[cls] = fields
    return fields


def serialize(model: BaseModel) -> dict[str, Any]:
    """Exactly xero-python's serialize(model), several times faster."""
    out: dict[str, Any] = {}
    for attr, key, kind in model_fields(type(model)):
        value = getattr(model, attr)
        if value is not None:
            out[key] = _serialize_value(value, kind)
    return out


def _serialize_value(value: Any, kind: str) -> Any:
    """One attribute as the SDK serialises it (rare types go to the SDK itself)."""
    if kind in _PASS_THROUGH:
        return value
    if kind == "float":
        return float(value)
    if kind.startswith("list[") and kind.endswith("]"):
        inner = kind[5:-1]
        return [_serialize_value(item, inner) for item in value]
    name = type(value).__name__
    if name == kind and isinstance(value, BaseModel):
        return serialize(value)
    if name == kind and isinstance(value, Enum):
        return value.value
    return sdk_serialize(value, kind)


class SerializedBody(dict):  # type: ignore[type-arg]
    """A request body already in the SDK's wire form (the SDK passes it through)."""


def _pass_serialized(value: SerializedBody, explicit_type: Any = None) -> Any:
    """The SDK serialiser's handler for SerializedBody: nothing left to do."""
    return value


sdk_serialize.register(SerializedBody.__name__, _pass_serialized)


def serialized_collection(
    spec: EntitySpec, elements: list[dict[str, Any]]
) -> SerializedBody:
    """The body serialize(collection(spec, models)) would give, from serialize()d."""
    key = getattr(models, spec.collection).attribute_map[spec.attr]
    return SerializedBody({key: elements})
