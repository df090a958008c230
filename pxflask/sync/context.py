"""What the engine hands its steps and they hand back: context, settings, reports."""

from __future__ import annotations

from collections.abc import (
    Callable,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.xero.tracking_calls import TrackingAnswer
from pxflask.xero.writes import ElementResult

Progress = Callable[[str, int, int], None]
"""progress(entity, done, total) after each batch of a step."""


class Gateway(Protocol):
    """What the engine uses of pxflask.xero.XeroGateway (its signatures)."""

    def iter_write(  # noqa: D102
        self,
        kind: str,
        elements: Iterable[tuple[Hashable, dict[str, Any]]],
        *,
        run_key: str,
        mode: str = "create",
        unitdp: int | None = None,
        concurrency: int | None = None,
    ) -> Iterator[list[ElementResult]]: ...
    def iter_pages(  # noqa: D102
        self,
        kind: str,
        *,
        modified_since: datetime | date | None = None,
        where: str | None = None,
        order: str | None = None,
        ids: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        summary_only: bool = False,
        page_size: int = ...,
        unitdp: int | None = None,
        include_archived: bool = False,
    ) -> Iterator[list[dict[str, Any]]]: ...
    def read_all(self, kind: str, **query: Any) -> list[dict[str, Any]]: ...  # noqa: D102
    def get_organisation(self) -> dict[str, Any]: ...  # noqa: D102
    def create_tax_rate(  # noqa: D102
        self, tax_rate: dict[str, Any], *, run_key: str, ref: Hashable = None
    ) -> ElementResult: ...
    def create_account(  # noqa: D102
        self, account: dict[str, Any], *, run_key: str, ref: Hashable = None
    ) -> ElementResult: ...
    def update_invoice_status(  # noqa: D102
        self, invoice_id: str, status: str, *, run_key: str, ref: Hashable = None
    ) -> ElementResult: ...
    def delete_payment(  # noqa: D102
        self, payment_id: str, *, run_key: str, ref: Hashable = None
    ) -> ElementResult: ...
    def allocate_credit_note(  # noqa: D102
        self,
        credit_note_id: str,
        allocations: Iterable[tuple[Hashable, dict[str, Any]]],
        *,
        run_key: str,
    ) -> list[ElementResult]: ...
    def delete_credit_note_allocation(  # noqa: D102
        self, credit_note_id: str, allocation_id: str, *, ref: Hashable = None
    ) -> ElementResult: ...
    def read_tracking_categories(self) -> list[dict[str, Any]]: ...  # noqa: D102
    def create_tracking_category(  # noqa: D102
        self, name: str, *, run_key: str
    ) -> TrackingAnswer: ...
    def create_tracking_options(  # noqa: D102
        self, category_id: str, names: Sequence[str], *, run_key: str
    ) -> TrackingAnswer: ...
    def get_online_invoice(self, invoice_id: str) -> str | None: ...  # noqa: D102
    def email_invoice(self, invoice_id: str) -> None: ...  # noqa: D102
    def day_calls_left(self) -> int | None: ...  # noqa: D102
    def day_budget(self) -> int: ...  # noqa: D102


@dataclass(frozen=True)
class SyncSettings:
    """The settings a sync reads (module settings keys), parsed once."""

    sales_account: str = "200"
    rounding_account: str = "860"
    discount_account: str | None = None
    no_tax_type: str = ""
    """Lines without tax: empty means the organisation's own (steps/taxes.py)."""
    drafts: str = "skip"
    sync_from: date | None = None
    entities: tuple[str, ...] | None = None
    import_xero_taxes: bool = False
    raw: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> SyncSettings:
        """Parse the key/value settings (pxflask.sync.settings.load_settings)."""
        since = (values.get("sync_from") or "").strip()
        entities = [e.strip() for e in (values.get("entities") or "").split(",")]
        return cls(
            sales_account=values.get("sales_account") or "200",
            rounding_account=values.get("rounding_account") or "860",
            discount_account=values.get("discount_account") or None,
            no_tax_type=values.get("no_tax_type") or "",
            drafts=values.get("drafts") or "skip",
            sync_from=date.fromisoformat(since) if since else None,
            entities=tuple(e for e in entities if e) or None,
            import_xero_taxes=(values.get("import_xero_taxes") or "") in ("1", "yes"),
            raw=dict(values),
        )

    def tax_type_for(self, perfex_tax_id: int) -> str | None:
        """The TaxType set for a Perfex tax id (`tax_rate.<id>`), if any."""
        return (self.raw.get(f"tax_rate.{perfex_tax_id}") or "").strip() or None


@dataclass
class PlannedAction:
    """One record's action in a run (all of them in a dry run)."""

    entity: str
    key: str
    action: str
    payload: dict[str, Any] | None = None
    reason: str | None = None


@dataclass
class StepReport:
    """What one entity step did."""

    entity: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0
    pulled: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    planned: list[PlannedAction] = field(default_factory=list)
    step_error: str | None = None
    """Set when the step itself failed or did not run (the reason)."""
    stops_run: bool = False
    """True when the step's error ends the run (e.g. Xero's day limit is spent)."""

    @property
    def writes(self) -> int:
        """Records written (created or updated)."""
        return self.created + self.updated


@dataclass
class SyncResult:
    """The outcome of run_sync: one report per step."""

    run_id: int | None
    dry_run: bool
    reports: list[StepReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no record failed."""
        return all(r.failed == 0 for r in self.reports)

    @property
    def failed(self) -> list[tuple[str, str, str]]:
        """(entity, key, error) of every failed record."""
        return [(r.entity, k, e) for r in self.reports for k, e in r.errors]

    def report(self, entity: str) -> StepReport:
        """The report of one entity."""
        return next(r for r in self.reports if r.entity == entity)

    @property
    def planned(self) -> list[PlannedAction]:
        """Every planned/performed action, in step order."""
        return [a for r in self.reports for a in r.planned]


@dataclass
class StepContext:
    """Everything a step needs; `shared` carries caches between steps of a run."""

    session: SessionLike
    perfex: PerfexDB
    gateway: Gateway
    settings: SyncSettings
    full: bool = False
    since: date | None = None
    dry_run: bool = False
    run_id: int | None = None
    run_key: str = ""
    progress: Progress | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    targets: Mapping[str, frozenset[str]] | None = None
    """Targeted run: entity -> the only Perfex keys to sync (None: everything)."""
    targetable: frozenset[str] = frozenset()
    """Entities a targeted run syncs record by record (the others run whole)."""
    step_modules: Mapping[str, str] = field(default_factory=dict)
    """Entity -> its step module (the registry's), for steps/services.py."""

    def keys_of(self, entity: str) -> frozenset[str] | None:
        """The Perfex keys to sync of an entity, or None for all of them."""
        if self.targets is None or entity not in self.targetable:
            return None
        return self.targets.get(entity, frozenset())

    @property
    def targeted(self) -> bool:
        """True in a targeted run (only some records)."""
        return self.targets is not None

    def tick(self, entity: str, done: int, total: int) -> None:
        """Report progress, when someone listens."""
        if self.progress is not None:
            self.progress(entity, done, total)

    @property
    def date_from(self) -> date | None:
        """The oldest document date to send: --since, else sync_from (not --full)."""
        if self.since is not None:
            return self.since
        return None if self.full else self.settings.sync_from


MAX_ID = 2**31 - 1
"""The largest Perfex id (INT columns): larger numbers are no record's id."""


def numeric_ids(keys: Iterable[str]) -> list[int]:
    """The numeric Perfex ids among keys (ASCII digits, 1 to MAX_ID)."""
    found = (str(k) for k in keys)
    digits = (k for k in found if k.isascii() and k.isdigit() and len(k) <= 10)
    return sorted({n for n in map(int, digits) if 0 < n <= MAX_ID})
