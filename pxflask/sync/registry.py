"""The unit registry: one small unit per synced entity, in dependency order.

The engine, the CLI, the settings page and the dashboard all iterate this registry.
Adding an entity is adding one unit (and its step module), not editing five files.
A step module exposes `run(ctx: StepContext) -> StepReport` (see engine.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

PUSH = "perfex->xero"
PULL = "xero->perfex"
BOTH = "both"
CACHE = "xero->module"
DIRECTIONS = (PUSH, PULL, BOTH, CACHE)


class RegistryError(ValueError):
    """Unknown entity, unknown dependency or a dependency cycle."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One synced entity: name, direction, dependencies and where its step lives."""

    name: str
    label: str
    direction: str
    depends_on: tuple[str, ...] = ()
    step: str | None = None
    built: bool = True
    description: str = ""
    default: bool = True
    """Part of a run that names no entities (False: only when named)."""
    parts: tuple[str, ...] = ()
    """Link entities this unit's step also keeps (retried by a run of the unit)."""

    def load_step(self) -> ModuleType:
        """Import the step module (reads what changed, maps, writes)."""
        if not self.step:
            raise RegistryError(f"entity {self.name!r} is not built yet")
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

    def names(self, *, built_only: bool = True) -> list[str]:
        """Entity names in dependency order."""
        return [u.name for u in self if u.built or not built_only]

    def ordered(
        self, names: Iterable[str] | None = None, *, with_dependencies: bool = False
    ) -> list[Unit]:
        """The selected units (built default ones when None) in dependency order."""
        if names is None:
            return [u for u in self if u.built and u.default]
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


REGISTRY = Registry()
for _unit in (
    Unit(
        "accounts",
        "Chart of accounts",
        CACHE,
        (),
        "pxflask.sync.steps.accounts",
        description="Xero accounts cached in the module, offered in every mapping",
    ),
    Unit(
        "expense-categories",
        "Expense categories",
        PULL,
        ("accounts",),
        "pxflask.sync.steps.expense_categories",
        description="Xero EXPENSE-class accounts -> tblexpenses_categories",
    ),
    Unit(
        "taxes",
        "Taxes",
        BOTH,
        (),
        "pxflask.sync.steps.taxes",
        description="tbltaxes <-> TaxRates; combined line taxes -> one rate",
    ),
    Unit(
        "payment-modes",
        "Payment modes",
        BOTH,
        ("accounts",),
        "pxflask.sync.steps.payment_modes",
        description="tblpayment_modes <-> BANK accounts",
    ),
    Unit(
        "customers",
        "Customers",
        PUSH,
        (),
        "pxflask.sync.steps.customers",
        description="tblclients + primary contact -> Contacts",
    ),
    Unit(
        "items",
        "Items",
        PUSH,
        ("accounts", "taxes"),
        "pxflask.sync.steps.items",
        description="tblitems -> Items",
    ),
    Unit(
        "invoices",
        "Invoices",
        PUSH,
        ("accounts", "taxes", "customers"),
        "pxflask.sync.steps.invoices",
        description="tblinvoices -> ACCREC Invoices, totals equal to the cent",
    ),
    Unit(
        "payments",
        "Payments",
        BOTH,
        ("invoices", "payment-modes"),
        "pxflask.sync.steps.payments",
        description="tblinvoicepaymentrecords <-> Payments (made in Xero: pulled)",
    ),
    Unit(
        "credit-notes",
        "Credit notes",
        PUSH,
        ("customers", "taxes", "invoices"),
        "pxflask.sync.steps.credit_notes",
        description="tblcreditnotes -> ACCRECCREDIT; tblcredits -> allocations",
        default=False,
        parts=("credit-allocations",),
    ),
    Unit(
        "expenses",
        "Expenses",
        PUSH,
        ("expense-categories", "taxes", "payment-modes", "customers"),
        "pxflask.sync.steps.expenses",
        description="tblexpenses -> SPEND bank transactions (spend money)",
        default=False,
    ),
):
    REGISTRY.register(_unit)


def owner_of(link_entity: str) -> str | None:
    """The unit whose step keeps links of ``link_entity`` as a part, if any."""
    return next((u.name for u in REGISTRY if link_entity in u.parts), None)


def entity_names() -> list[str]:
    """The built entity names in dependency order (as the CLI names them)."""
    return REGISTRY.names()
