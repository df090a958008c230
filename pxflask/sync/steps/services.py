"""What the steps of a run share, as one typed service (no step imports a sibling).

`services(ctx)` gives the run's `StepServices`: the latest known state of Xero
invoices (filled by reads and writes of any step), the invoices whose payments
were deleted (voided once free), the tax resolver, the payment account choice
and the void of invoices released by deleted payments. Steps reach each other's
work through it; the invoice and tax steps that implement part of it are found
through the registry, never imported by another step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from typing import Any, Protocol

from pxflask.sync.context import StepContext, StepReport
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.mappers.tax_match import SALES
from pxflask.sync.mappers.taxes import TaxKey

__all__ = ["InvoiceStates", "StepServices", "TaxResolver", "services"]

SHARED = "services"
"""ctx.shared key of the run's services."""
INVOICE_FIELDS = (
    "InvoiceID",
    "InvoiceNumber",
    "Status",
    "Total",
    "AmountDue",
    "AmountPaid",
    "AmountCredited",
    "Contact",
    "Date",
    "UpdatedDateUTC",
)
"""What is kept of a Xero invoice for later steps."""


class TaxResolver(Protocol):
    """The run's tax resolver (entities/taxes/step.py): Perfex taxes -> TaxTypes."""

    @property
    def rates(self) -> dict[str, Decimal]:
        """TaxType -> effective rate."""

    problems: dict[str, str]
    """Placeholder TaxType -> why it has no Xero rate yet."""

    def __call__(self, key: TaxKey) -> str:
        """The TaxType of a key on sales lines."""

    def for_expenses(self, key: TaxKey) -> str:
        """The TaxType of a key on expense lines."""

    def no_tax_type(self, use: str = SALES) -> str:
        """The TaxType of lines without tax."""

    def checked(self, m: Mapped) -> Mapped:
        """The mapped record, or its failure when a line has no usable TaxType."""

    def flush(self) -> None:
        """Store the keys' links and write the log rows."""


@dataclass
class InvoiceStates:
    """Xero invoices as this run last saw them (status, amounts), by InvoiceID."""

    ctx: StepContext
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    freed: set[str] = field(default_factory=set)
    """Invoices whose payments this run deleted: voided when Perfex deleted them."""

    def remember(self, records: Iterable[dict[str, Any]]) -> None:
        """Keep what Xero said about invoices for later steps."""
        for r in records:
            if r.get("InvoiceID"):
                self.known[str(r["InvoiceID"])] = {k: r.get(k) for k in INVOICE_FIELDS}

    def current(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Xero invoices by id: from this run's states, else one read per 50 ids."""
        wanted = sorted({i for i in ids if i})
        missing = [i for i in wanted if i not in self.known]
        if missing and not self.ctx.dry_run:
            self.remember(
                self.ctx.gateway.read_all("invoices", ids=missing, summary_only=True)
            )
        return {i: self.known[i] for i in wanted if i in self.known}

    def forget(self, invoice_id: str, *, freed: bool = False) -> None:
        """Drop an invoice's state (changed in Xero); `freed`: a payment was deleted."""
        self.known.pop(invoice_id, None)
        if freed:
            self.freed.add(invoice_id)


@dataclass
class StepServices:
    """The run's shared step services."""

    ctx: StepContext
    invoices: InvoiceStates

    def taxes(self) -> TaxResolver:
        """The run's tax resolver (Perfex taxes -> Xero TaxTypes), made once."""
        return _step(self.ctx, "taxes").resolver(self.ctx)

    def accounts(self) -> list[dict[str, Any]]:
        """The Xero chart of accounts, read once a run (the accounts step's cache)."""
        return list(_step(self.ctx, "accounts").read_accounts(self.ctx))

    def accounts_changed(self, cursor: str) -> tuple[list[dict[str, Any]], bool]:
        """Accounts changed since `cursor` was consumed; True: all of them."""
        return _step(self.ctx, "accounts").changed_for(self.ctx, cursor)

    def accounts_consumed(self, cursor: str) -> None:
        """Mark the accounts read so far as seen by `cursor`'s owner."""
        _step(self.ctx, "accounts").consumed(self.ctx, cursor)

    def content_hash(self, entity: str, perfex_id: int) -> str | None:
        """The content hash the push step of `entity` compares for one record."""
        found: str | None = _step(self.ctx, entity).content_hash(self.ctx, perfex_id)
        return found

    def void_released(self) -> StepReport | None:
        """Void the freed invoices Perfex deleted (None when none was freed)."""
        freed, self.invoices.freed = self.invoices.freed, set()
        if not freed or self.ctx.dry_run:
            return None
        return _step(self.ctx, "invoices").void_released(self.ctx, freed)


def _step(ctx: StepContext, entity: str) -> Any:
    """The step module of an entity, as the registry names it (ctx.step_modules)."""
    return import_module(ctx.step_modules[entity])


def services(ctx: StepContext) -> StepServices:
    """The run's step services (made on first use)."""
    found = ctx.shared.get(SHARED)
    if not isinstance(found, StepServices):
        found = StepServices(ctx, InvoiceStates(ctx))
        ctx.shared[SHARED] = found
    return found
