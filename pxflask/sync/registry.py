"""The unit registry: one unit per synced entity, found in pxflask/sync/entities/.

Each entity is one folder, `pxflask/sync/entities/<name>/`: its `__init__.py` holds
its unit (every fact about the entity: direction, dependencies, step, watched Perfex
tables, targeting, the log's record reader, webhook category, write kind, default
on/off, reconciliation scope), `step.py` its step and `mapper.py` its pure mapper.
The registry imports every folder and registers the units by their `order` (each
after its dependencies); the engine, the CLI, the settings, the watcher, the
dashboard, the webhook job and the reconciliation derive from it.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module

from pxflask.sync import entities
from pxflask.sync.units import (
    BOTH,
    CACHE,
    DIRECTIONS,
    PULL,
    PUSH,
    Record,
    Registry,
    RegistryError,
    Target,
    Unit,
    Watch,
)

__all__ = [
    "BOTH",
    "CACHE",
    "DIRECTIONS",
    "PULL",
    "PUSH",
    "REGISTRY",
    "Record",
    "Registry",
    "RegistryError",
    "Target",
    "Unit",
    "Watch",
    "entity_names",
    "owner_of",
]


def discover() -> Registry:
    """A registry of the units of every entity folder, in their order."""
    found: list[Unit] = []
    for info in pkgutil.iter_modules(entities.__path__):
        if info.ispkg:
            found.append(import_module(f"{entities.__name__}.{info.name}").UNIT)
    registry = Registry()
    for unit in sorted(found, key=lambda u: u.order):
        registry.register(unit)
    return registry


REGISTRY = discover()


def owner_of(link_entity: str) -> str | None:
    """The unit whose step keeps links of ``link_entity`` as a part, if any."""
    return next((u.name for u in REGISTRY if link_entity in u.parts), None)


def entity_names() -> list[str]:
    """The entity names in dependency order (as the CLI names them)."""
    return REGISTRY.names()
