"""The unit registry: one unit per synced entity, in dependency order.

Each unit carries every per-entity fact: its direction, dependencies and step, the
Perfex tables it watches, how a record is targeted and what it expands to, how its
record is read for the log, its Xero webhook category and write kind, whether a run
that names nothing includes it, and its reconciliation scope. The engine, the CLI,
the settings, the watcher, the dashboard, the webhook job and the reconciliation
derive from it; no other module keeps a list of entities.
A step module exposes `run(ctx: StepContext) -> StepReport` (see engine.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
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


@dataclass(frozen=True, slots=True)
class Record:
    """How a log row's Perfex record is read (a `pxflask.perfex.reads` function)."""

    reader: str
    by_ids: bool = True
    """True: reader(db, [id]); False: reader(db) returns them all."""

    def read(self, perfex: Any, ident: int) -> Any:
        """The record of that id, or None."""
        reads = import_module("pxflask.perfex.reads")
        reader = getattr(reads, self.reader)
        if self.by_ids:
            return next(iter(reader(perfex, [ident])), None)
        return next((r for r in reader(perfex) if r.id == ident), None)


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

    @property
    def built(self) -> bool:
        """Always True (kept until pxflask.jobs stops asking)."""
        return True

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
        record=Record("read_expense_categories", by_ids=False),
    ),
    Unit(
        "taxes",
        "Taxes",
        BOTH,
        (),
        "pxflask.sync.steps.taxes",
        description="tbltaxes <-> TaxRates; combined line taxes -> one rate",
        watches=(Watch("taxes", "id", ("taxrate",), ("name",)),),
        record=Record("read_taxes", by_ids=False),
    ),
    Unit(
        "payment-modes",
        "Payment modes",
        BOTH,
        ("accounts",),
        "pxflask.sync.steps.payment_modes",
        description="tblpayment_modes <-> BANK accounts",
        watches=(Watch("payment_modes", "id", ("active",), ("name",)),),
        record=Record("read_payment_modes", by_ids=False),
    ),
    Unit(
        "customers",
        "Customers",
        PUSH,
        (),
        "pxflask.sync.steps.customers",
        description="tblclients + primary contact -> Contacts",
        watches=(
            Watch(
                "clients",
                "userid",
                ("active", "country"),
                ("company", "vat", "phonenumber", "billing_street", "billing_city"),
            ),
            Watch(
                "contacts",
                "id",
                ("is_primary", "active"),
                ("firstname", "lastname", "email"),
                owner_key="userid",
            ),
        ),
        target=Target("clients", "userid"),
        record=Record("read_customers"),
        webhook_category="CONTACT",
        write_kind="contacts",
    ),
    Unit(
        "items",
        "Items",
        PUSH,
        ("accounts", "taxes"),
        "pxflask.sync.steps.items",
        description="tblitems -> Items",
        watches=(
            Watch(
                "items",
                "id",
                ("rate", "tax", "tax2"),
                ("description", "long_description", "unit"),
            ),
        ),
        target=Target("items"),
        record=Record("read_items"),
        write_kind="items",
    ),
    Unit(
        "invoices",
        "Invoices",
        PUSH,
        ("accounts", "taxes", "customers"),
        "pxflask.sync.steps.invoices",
        description="tblinvoices -> ACCREC Invoices, totals equal to the cent",
        watches=(Watch("invoices", "id", *DOCUMENT_WATCH),),
        target=Target("invoices", parent="customers", parent_column="clientid"),
        record=Record("read_invoices"),
        webhook_category="INVOICE",
        write_kind="invoices",
        reconcile_scope="invoices",
    ),
    Unit(
        "payments",
        "Payments",
        BOTH,
        ("invoices", "payment-modes"),
        "pxflask.sync.steps.payments",
        description="tblinvoicepaymentrecords <-> Payments (made in Xero: pulled)",
        watches=(
            Watch(
                "invoicepaymentrecords",
                "id",
                ("amount", "invoiceid"),
                ("paymentmode", "transactionid", "note"),
            ),
        ),
        target=Target(
            "invoicepaymentrecords",
            parent="invoices",
            parent_column="invoiceid",
            follows_parent=True,
        ),
        record=Record("read_payments"),
        write_kind="payments",
        reconcile_scope="payments",
    ),
    Unit(
        "credit-notes",
        "Credit notes",
        PUSH,
        ("customers", "taxes", "invoices"),
        "pxflask.sync.steps.credit_notes",
        description="tblcreditnotes -> ACCRECCREDIT; tblcredits -> allocations",
        watches=(
            Watch("creditnotes", "id", *DOCUMENT_WATCH),
            Watch(
                "credits",
                "id",
                ("amount", "invoice_id", "credit_id"),
                (),
                owner_key="credit_id",
            ),
        ),
        record=Record("read_credit_notes"),
        write_kind="credit_notes",
        reconcile_scope="credit_notes",
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
        watches=(
            Watch(
                "expenses",
                "id",
                ("category", "currency", "amount", "tax", "tax2", "clientid"),
                ("expense_name", "note", "reference_no", "paymentmode"),
            ),
        ),
        record=Record("read_expenses"),
        write_kind="bank_transactions",
        reconcile_scope="expenses",
        default=False,
    ),
):
    REGISTRY.register(_unit)


def owner_of(link_entity: str) -> str | None:
    """The unit whose step keeps links of ``link_entity`` as a part, if any."""
    return next((u.name for u in REGISTRY if link_entity in u.parts), None)


def entity_names() -> list[str]:
    """The entity names in dependency order (as the CLI names them)."""
    return REGISTRY.names()
