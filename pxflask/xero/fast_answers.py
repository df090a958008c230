"""Response JSON -> from_model(deserialize(...)) dicts without building models."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal
from enum import Enum
from typing import Any

from xero_python.accounting import models
from xero_python.api_client import ModelFinder
from xero_python.api_client import deserializer as sdk_deserializer
from xero_python.api_client.deserializer import deserialize as sdk_deserialize
from xero_python.models import BaseModel

from pxflask.xero.entity_specs import EntitySpec
from pxflask.xero.model_dicts import from_model
from pxflask.xero.wire_format import model_fields


class _Irregular(Exception):
    """A value the fast path leaves to the SDK (None, odd shapes, rare types)."""


_DATES = {
    "date": sdk_deserializer.deserialize_date,
    "date[ms-format]": sdk_deserializer.deserialize_date_ms,
    "datetime": sdk_deserializer.deserialize_datetime,
    "datetime[ms-format]": sdk_deserializer.deserialize_datetime_ms,
}


def answers_from_json(spec: EntitySpec, body: bytes | str) -> list[dict[str, Any]]:
    """The collection in a response body, as from_model() of the SDK's models."""
    if isinstance(body, bytes):
        body = body.decode("utf8")
    data = json.loads(body, parse_float=Decimal)
    key = getattr(models, spec.collection).attribute_map[spec.attr]
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(items, list):
        wrapper = sdk_deserialize(spec.collection, data, ModelFinder(models))
        return [from_model(x) for x in getattr(wrapper, spec.attr) or []]
    return [plain_from_json(spec.model, item) for item in items]


def plain_from_json(model_name: str, data: Any) -> Any:
    """from_model(deserialize(model_name, data)) of the SDK, computed directly."""
    try:
        return _plain_model(getattr(models, model_name), data)
    except (_Irregular, ArithmeticError, TypeError, ValueError):
        return from_model(sdk_deserialize(model_name, data, ModelFinder(models)))


def _plain_model(cls: type[Any], data: Any) -> dict[str, Any]:
    """One model's JSON object in from_model's shape."""
    if not isinstance(data, dict):
        raise _Irregular
    out: dict[str, Any] = {}
    defaults = _defaults(cls)
    for attr, key, kind in model_fields(cls):
        if key in data:
            value = _plain_value(kind, data[key])
            if value != []:
                out[key] = value
        elif attr in defaults:
            out[key] = defaults[attr]
    return out


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(cls: type[Any]) -> dict[str, Any]:
    """The non-None defaults of a model's constructor (e.g. HasErrors=False)."""
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = {
            name: param.default
            for name, param in inspect.signature(cls.__init__).parameters.items()
            if param.default is not inspect.Parameter.empty
            and param.default is not None
            and name in cls.openapi_types
        }
        _DEFAULTS[cls] = defaults
    return defaults


def _plain_value(kind: str, value: Any) -> Any:
    """One JSON value as the SDK deserialises it, then as from_model gives it."""
    if value is None:
        raise _Irregular
    if kind == "str":
        return str(value)
    if kind == "float":
        return value if isinstance(value, Decimal) else Decimal(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Irregular
        return value
    if kind == "int":
        return int(value)
    if kind.startswith("list[") and kind.endswith("]"):
        if not isinstance(value, list):
            raise _Irregular
        inner = kind[5:-1]
        return [_plain_value(inner, item) for item in value]
    dates = _DATES.get(kind)
    if dates is not None:
        return dates(kind, value, None)
    cls = getattr(models, kind, None)
    if isinstance(cls, type) and issubclass(cls, Enum):
        return cls(value).value
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return _plain_model(cls, value)
    raise _Irregular
