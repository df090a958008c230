"""Xero-shaped dicts <-> xero-python models, and the table of entity kinds.

The names live in entity_specs, model_dicts, wire_format and fast_answers; this
module gathers them for the gateway and the tests (``payloads.to_model`` etc.).
"""

from __future__ import annotations

from pxflask.xero.entity_specs import ENTITIES, EntitySpec, entity
from pxflask.xero.fast_answers import answers_from_json, plain_from_json
from pxflask.xero.model_dicts import PayloadError, from_model, to_model
from pxflask.xero.wire_format import (
    SerializedBody,
    collection,
    serialize,
    serialized_collection,
    wire,
    wire_json,
)

__all__ = [
    "ENTITIES",
    "EntitySpec",
    "PayloadError",
    "SerializedBody",
    "answers_from_json",
    "collection",
    "entity",
    "from_model",
    "plain_from_json",
    "serialize",
    "serialized_collection",
    "to_model",
    "wire",
    "wire_json",
]
