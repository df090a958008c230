"""Xero-shaped dicts <-> xero-python models, and the table of entity kinds."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from xero_python.accounting import models
from xero_python.api_client import ModelFinder
from xero_python.api_client import deserializer as sdk_deserializer
from xero_python.api_client.deserializer import deserialize as sdk_deserialize
from xero_python.api_client.serializer import serialize as sdk_serialize
from xero_python.models import BaseModel


class PayloadError(ValueError):
    """A payload dict does not fit the Xero model (a mapper bug)."""


@dataclass(frozen=True)
class EntitySpec:
    """How one Xero collection is written and read through the SDK."""

    kind: str
    model: str
    collection: str
    attr: str
    id_field: str
    number_field: str | None = None
    status_field: str | None = "Status"
    create: str | None = None
    upsert: str | None = None
    get: str | None = None
    paged: bool = False
    ids: bool = False
    summary_only: bool = False
    unitdp: bool = False
    statuses: bool = False
    modified_since: bool = True


ENTITIES: dict[str, EntitySpec] = {
    spec.kind: spec
    for spec in (
        EntitySpec(
            "contacts",
            "Contact",
            "Contacts",
            "contacts",
            "ContactID",
            "ContactNumber",
            "ContactStatus",
            "create_contacts",
            "update_or_create_contacts",
            "get_contacts",
            paged=True,
            ids=True,
            summary_only=True,
        ),
        EntitySpec(
            "items",
            "Item",
            "Items",
            "items",
            "ItemID",
            "Code",
            None,
            "create_items",
            "update_or_create_items",
            "get_items",
            unitdp=True,
        ),
        EntitySpec(
            "invoices",
            "Invoice",
            "Invoices",
            "invoices",
            "InvoiceID",
            "InvoiceNumber",
            "Status",
            "create_invoices",
            "update_or_create_invoices",
            "get_invoices",
            paged=True,
            ids=True,
            summary_only=True,
            unitdp=True,
            statuses=True,
        ),
        EntitySpec(
            "payments",
            "Payment",
            "Payments",
            "payments",
            "PaymentID",
            None,
            "Status",
            "create_payments",
            None,
            "get_payments",
            paged=True,
        ),
        EntitySpec(
            "credit_notes",
            "CreditNote",
            "CreditNotes",
            "credit_notes",
            "CreditNoteID",
            "CreditNoteNumber",
            "Status",
            "create_credit_notes",
            "update_or_create_credit_notes",
            "get_credit_notes",
            paged=True,
            unitdp=True,
        ),
        EntitySpec(
            "bank_transactions",
            "BankTransaction",
            "BankTransactions",
            "bank_transactions",
            "BankTransactionID",
            None,
            "Status",
            "create_bank_transactions",
            "update_or_create_bank_transactions",
            "get_bank_transactions",
            paged=True,
            unitdp=True,
        ),
        EntitySpec(
            "accounts",
            "Account",
            "Accounts",
            "accounts",
            "AccountID",
            "Code",
            "Status",
            "create_account",
            None,
            "get_accounts",
        ),
        EntitySpec(
            "tax_rates",
            "TaxRate",
            "TaxRates",
            "tax_rates",
            "TaxType",
            "TaxType",
            "Status",
            "create_tax_rates",
            None,
            "get_tax_rates",
            modified_since=False,
        ),
        EntitySpec(
            "allocations",
            "Allocation",
            "Allocations",
            "allocations",
            "AllocationID",
            None,
            None,
            "create_credit_note_allocation",
        ),
        EntitySpec(
            "currencies",
            "Currency",
            "Currencies",
            "currencies",
            "Code",
            "Code",
            None,
            None,
            None,
            "get_currencies",
            modified_since=False,
        ),
    )
}


def entity(kind: str) -> EntitySpec:
    """The spec of a kind, with a clear error for an unknown one."""
    try:
        return ENTITIES[kind]
    except KeyError:
        raise ValueError(
            f"unknown Xero entity kind {kind!r}; one of {', '.join(ENTITIES)}"
        ) from None


def to_model(model_name: str, data: Mapping[str, Any]) -> BaseModel:
    """Build an SDK model from a dict in Xero's JSON shape (PascalCase keys)."""
    return _to_model(getattr(models, model_name), data, model_name)


def _to_model(cls: type, data: Any, path: str) -> BaseModel:
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


def _reverse_map(cls: type) -> dict[str, str]:
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


def _fields(cls: type) -> tuple[tuple[str, str, str], ...]:
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
    for attr, key, kind in _fields(type(model)):
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


# -- responses: JSON -> from_model(deserialize(...)) without building models --


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


def _plain_model(cls: type, data: Any) -> dict[str, Any]:
    """One model's JSON object in from_model's shape."""
    if not isinstance(data, dict):
        raise _Irregular
    out: dict[str, Any] = {}
    defaults = _defaults(cls)
    for attr, key, kind in _fields(cls):
        if key in data:
            value = _plain_value(kind, data[key])
            if value != []:
                out[key] = value
        elif attr in defaults:
            out[key] = defaults[attr]
    return out


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(cls: type) -> dict[str, Any]:
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
