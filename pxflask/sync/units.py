"""What a synced entity is: its unit and the facts it carries, and the registry type.

Each unit carries every per-entity fact: its direction, dependencies and step, the
Perfex tables it watches, how a record is targeted and what it expands to, how its
record is read for the log, its Xero webhook category and write kind, whether a run
that names nothing includes it, and its reconciliation scope; the units are declared
in pxflask/sync/entities/<name>/ and collected by registry.py.
A step module exposes `run(ctx: StepContext) -> StepReport` (see engine.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from importlib import import_module
from types import ModuleType
from typing import Any

PUSH = "perfex->xero"
PULL = "xero->perfex"
BOTH = "both"
CACHE = "xero->module"
DIRECTIONS = (PUSH, PULL, BOTH, CACHE)


class RegistryError(ValueError):
    """Unknown entity, unknown dependency or a dependency cycle."""


@dataclass(frozen=True, slots=True)
class Watch:
    """One Perfex table watched for real-time sync: summed numbers and text lengths."""

    table: str
    key: str
    numbers: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    owner_key: str | None = None
    entity: str = ""
    """Filled in by the registry from the unit that watches the table."""


@dataclass(frozen=True, slots=True)
class Target:
    """How one record is targeted: its Perfex table and key, and its parent's column.

    A targeted record brings its parent (the record named by `parent_column`).
    """

    table: str
    key: str = "id"
    parent: str | None = None
    parent_column: str | None = None
    follows_parent: bool = False
    """A targeted parent brings its records of this entity (when it is asked)."""


ON_WORDS = frozenset({"yes", "on", "true", "1"})
"""What a yes/no setting may say for yes."""


@dataclass(frozen=True, slots=True)
class Switch:
    """A yes/no setting of an entity, and how the settings page offers it."""

    key: str
    label: str
    on: str = "Yes"
    off: str = "No"
    default: bool = False
    hint: str = ""
    try_command: str = ""
    """A command the hint suggests trying first (shown as code)."""

    @property
    def default_value(self) -> str:
        """The stored default: yes or no."""
        return "yes" if self.default else "no"

    def is_on(self, settings: Mapping[str, str]) -> bool:
        """True when the setting (or, unset, its default) says yes."""
        value = (settings.get(self.key) or self.default_value).strip().lower()
        return value in ON_WORDS


@dataclass(frozen=True, slots=True)
class Record:
    """How a log row's Perfex record is read (a `pxflask.perfex.reads` function)."""

    reader: str
    by_ids: bool = True
    """True: reader(db, [id]); False: reader(db) returns them all."""
    number: str | None = None
    """How a dry run names a record without a payload (str.format over its fields)."""

    def read_many(self, perfex: Any, ids: Iterable[int]) -> list[Any]:
        """The records of those ids (in the reader's order)."""
        reader = getattr(import_module("pxflask.perfex.reads"), self.reader)
        if self.by_ids:
            return list(reader(perfex, list(ids)))
        wanted = set(ids)
        return [r for r in reader(perfex) if r.id in wanted]

    def read(self, perfex: Any, ident: int) -> Any:
        """The record of that id, or None."""
        return next(iter(self.read_many(perfex, [ident])), None)

    def numbered(self, record: Any) -> str:
        """The record's name in a dry run (its number, or what stands for one)."""
        return (self.number or "{id}").format_map(
            {f.name: getattr(record, f.name) for f in fields(record)}
        )


@dataclass(frozen=True, slots=True)
class Unit:
    """One synced entity and every fact the rest of the code needs about it."""

    name: str
    label: str
    direction: str
    depends_on: tuple[str, ...] = ()
    step: str | None = None
    description: str = ""
    default: bool = True
    """Part of a run that names no entities (False: only when named)."""
    parts: tuple[str, ...] = ()
    """Link entities this unit's step also keeps (retried by a run of the unit)."""
    watches: tuple[Watch, ...] = ()
    """The Perfex tables whose changes queue a sync of this entity."""
    target: Target | None = None
    """Set when a targeted run syncs this entity record by record."""
    record: Record | None = None
    """How the log's record summary reads one Perfex record."""
    webhook_category: str | None = None
    """Xero's webhook eventCategory for this entity's records."""
    write_kind: str | None = None
    """The gateway kind its records are batch-written (and webhook-read) as."""
    reconcile_scope: str | None = None
    """The reconciliation report's scope comparing this entity, if any."""
    switches: tuple[Switch, ...] = ()
    """Its yes/no settings (pulls from Xero, e-mails), offered on the settings page."""
    order: int = 0
    xero_link: str | None = None
    """Deep-link path into Xero ({id}: the Xero id), or a full URL ({short}: the
    organisation's ShortCode); None: no "View in Xero" (xero_documents.py)."""
    """Where the entity sits in a run (after every one it depends on)."""

    def load_step(self) -> ModuleType:
        """Import the step module (reads what changed, maps, writes)."""
        if not self.step:
            raise RegistryError(f"entity {self.name!r} has no step")
        return import_module(self.step)


class Registry:
    """Units by name, kept in registration order."""

    def __init__(self) -> None:
        """An empty registry."""
        self._units: dict[str, Unit] = {}

    def register(self, unit: Unit) -> Unit:
        """Add a unit; its dependencies must be registered first."""
        if unit.direction not in DIRECTIONS:
            raise RegistryError(f"unknown direction {unit.direction!r}")
        if unit.name in self._units:
            raise RegistryError(f"entity {unit.name!r} is already registered")
        missing = [d for d in unit.depends_on if d not in self._units]
        if missing:
            raise RegistryError(f"{unit.name!r} depends on unknown {missing}")
        self._units[unit.name] = unit
        return unit

    def __iter__(self) -> Iterator[Unit]:
        """Units in dependency (= registration) order."""
        return iter(self._units.values())

    def __contains__(self, name: object) -> bool:
        """True when an entity of that name is registered."""
        return name in self._units

    def get(self, name: str) -> Unit:
        """The unit of an entity name."""
        try:
            return self._units[name]
        except KeyError:
            known = ", ".join(self._units)
            raise RegistryError(f"unknown entity {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """Entity names in dependency order."""
        return [u.name for u in self]

    def default_names(self) -> list[str]:
        """The entities a run that names none includes, in dependency order."""
        return [u.name for u in self if u.default]

    def watches(self) -> tuple[Watch, ...]:
        """Every watched Perfex table, each with its entity, in dependency order."""
        return tuple(replace(w, entity=u.name) for u in self for w in u.watches)

    def targetable(self) -> tuple[str, ...]:
        """Entities a targeted run syncs record by record (the others run whole)."""
        return tuple(u.name for u in self if u.target is not None)

    def step_modules(self) -> dict[str, str]:
        """Entity -> the module of its step (for the run's step services)."""
        return {unit.name: unit.step for unit in self if unit.step}

    def webhook_categories(self) -> dict[str, tuple[str, str]]:
        """Xero webhook category -> (entity of our links, gateway read kind)."""
        return {
            u.webhook_category: (u.name, u.write_kind or "")
            for u in self
            if u.webhook_category
        }

    def write_kinds(self) -> tuple[str, ...]:
        """The gateway kinds the entities batch-write, in dependency order."""
        return tuple(u.write_kind for u in self if u.write_kind)

    def switches(self) -> tuple[Switch, ...]:
        """Every entity's yes/no settings, in dependency order."""
        return tuple(s for u in self for s in u.switches)

    def reconcile_scopes(self) -> tuple[str, ...]:
        """The reconciliation scopes, in dependency order."""
        return tuple(u.reconcile_scope for u in self if u.reconcile_scope)

    def ordered(
        self, names: Iterable[str] | None = None, *, with_dependencies: bool = False
    ) -> list[Unit]:
        """The selected units (the default ones when None) in dependency order."""
        if names is None:
            return [u for u in self if u.default]
        wanted = {self.get(n).name for n in names}
        if with_dependencies:
            stack = list(wanted)
            while stack:
                for dep in self.get(stack.pop()).depends_on:
                    if dep not in wanted:
                        wanted.add(dep)
                        stack.append(dep)
        return [u for u in self if u.name in wanted]

    def dependents(self, name: str) -> list[str]:
        """Entities that depend on `name`, directly or not."""
        out: list[str] = []
        for unit in self:
            if name in unit.depends_on or any(d in out for d in unit.depends_on):
                out.append(unit.name)
        return out


DOCUMENT_WATCH = (
    ("status", "total", "subtotal", "total_tax", "clientid", "currency"),
    ("clientnote", "terms"),
)
"""What is summed on a Perfex sales document's table (invoices, credit notes)."""
