"""Xero-shaped dicts <-> xero-python models (to_model checks keys, enums, dates)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from xero_python.accounting import models
from xero_python.models import BaseModel


class PayloadError(ValueError):
    """A payload dict does not fit the Xero model (a mapper bug)."""


def to_model(model_name: str, data: Mapping[str, Any]) -> BaseModel:
    """Build an SDK model from a dict in Xero's JSON shape (PascalCase keys)."""
    return _to_model(getattr(models, model_name), data, model_name)


def _to_model(cls: type[Any], data: Any, path: str) -> BaseModel:
    """Recursive part of to_model()."""
    if isinstance(data, BaseModel):
        return data
    if not isinstance(data, Mapping):
        raise PayloadError(f"{path}: expected an object, got {type(data).__name__}")
    reverse = _reverse_map(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        attr = reverse.get(key)
        if attr is None:
            raise PayloadError(f"{path}: {cls.__name__} has no field {key!r}")
        kwargs[attr] = _convert(cls.openapi_types[attr], value, f"{path}.{key}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{path}: {exc}") from exc


_REVERSE: dict[type, dict[str, str]] = {}


def _reverse_map(cls: type[Any]) -> dict[str, str]:
    """JSON key -> attribute name of a model class (cached)."""
    reverse = _REVERSE.get(cls)
    if reverse is None:
        reverse = {key: attr for attr, key in cls.attribute_map.items()}
        _REVERSE[cls] = reverse
    return reverse


def _convert(type_name: str, value: Any, path: str) -> Any:
    """Convert one JSON-shaped value to what the model attribute expects."""
    if value is None:
        return None
    if type_name.startswith("list["):
        if not isinstance(value, list | tuple):
            raise PayloadError(f"{path}: expected a list")
        inner = type_name[5:-1]
        return [_convert(inner, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if type_name in ("date[ms-format]", "date"):
        return _to_date(value, path)
    if type_name in ("datetime[ms-format]", "datetime"):
        return _to_datetime(value, path)
    if type_name == "float":
        return _to_decimal(value, path)
    if type_name == "int":
        return int(value)
    if type_name == "bool":
        if not isinstance(value, bool):
            raise PayloadError(f"{path}: expected true/false")
        return value
    if type_name == "str":
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        raise PayloadError(f"{path}: expected text")
    cls = getattr(models, type_name, None)
    if isinstance(cls, type) and issubclass(cls, Enum):
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise PayloadError(
                f"{path}: {value!r} is not a valid {type_name}"
            ) from None
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return _to_model(cls, value, path)
    return value


def _to_date(value: Any, path: str) -> date:
    """A date from a date or 'YYYY-MM-DD'."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise PayloadError(f"{path}: expected a date or 'YYYY-MM-DD', got {value!r}")


def _to_datetime(value: Any, path: str) -> datetime:
    """A datetime from a datetime or an ISO-8601 string."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise PayloadError(f"{path}: expected an ISO datetime, got {value!r}")


def _to_decimal(value: Any, path: str) -> Decimal:
    """A Decimal from a Decimal, int or numeric text (never via float maths)."""
    if isinstance(value, bool):
        raise PayloadError(f"{path}: expected a number")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"{path}: expected a number, got {value!r}") from None


def from_model(model: Any) -> Any:
    """An SDK model (or list of them) as plain data in Xero's JSON shape."""
    if isinstance(model, BaseModel):
        out: dict[str, Any] = {}
        for attr, key in model.attribute_map.items():
            value = getattr(model, attr, None)
            if value is None or value == []:
                continue
            out[key] = from_model(value)
        return out
    if isinstance(model, list | tuple):
        return [from_model(item) for item in model]
    if isinstance(model, Enum):
        return model.value
    return model
