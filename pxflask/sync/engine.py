"""The sync engine: runs entity steps in dependency order over a Session.

`run_sync(session, perfex_db, gateway, settings, ...)` is the one entry point for
the CLI, jobs and tests. Each step (pxflask/sync/steps/<entity>.py) reads what
changed, maps it with the pure mappers, decides per record through the link store
(create / update / nothing / blocked) and writes in batches through the gateway.
A dry run does everything but write: it returns the exact payloads and actions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy.orm import Session

from pxflask.models import SyncRun, utcnow
from pxflask.perfex.db import PerfexDB

from .registry import REGISTRY, Registry

Progress = Callable[[str, int, int], None]
"""progress(entity, done, total) after each batch of a step."""


class Gateway(Protocol):
    """What the engine uses of pxflask.xero.XeroGateway."""

    def iter_write(self, kind: str, elements: Any, **kw: Any) -> Any: ...  # noqa: D102
    def read_all(self, kind: str, **query: Any) -> list[dict[str, Any]]: ...  # noqa: D102
    def create_tax_rate(self, tax_rate: dict, **kw: Any) -> Any: ...  # noqa: D102
    def create_account(self, account: dict, **kw: Any) -> Any: ...  # noqa: D102
    def update_invoice_status(self, invoice_id: str, status: str, **kw: Any) -> Any: ...  # noqa: D102,E501


@dataclass(frozen=True)
class SyncSettings:
    """The settings a sync reads (CONTRACT.md keys), parsed once."""

    sales_account: str = "200"
    rounding_account: str = "860"
    discount_account: str | None = None
    no_tax_type: str = "NONE"
    drafts: str = "skip"
    sync_from: date | None = None
    entities: tuple[str, ...] | None = None
    import_xero_taxes: bool = False
    raw: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> SyncSettings:
        """Parse the key/value settings (pxflask.settings.load_settings)."""
        since = (values.get("sync_from") or "").strip()
        entities = [e.strip() for e in (values.get("entities") or "").split(",")]
        return cls(
            sales_account=values.get("sales_account") or "200",
            rounding_account=values.get("rounding_account") or "860",
            discount_account=values.get("discount_account") or None,
            no_tax_type=values.get("no_tax_type") or "NONE",
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

    session: Session
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


def run_sync(
    session: Session,
    perfex_db: PerfexDB,
    gateway: Gateway,
    settings: Mapping[str, str] | SyncSettings,
    entities: list[str] | None = None,
    full: bool = False,
    since: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    *,
    run_id: int | None = None,
    registry: Registry = REGISTRY,
) -> SyncResult:
    """Run the chosen entities (default: the enabled ones) in dependency order."""
    conf = (
        settings
        if isinstance(settings, SyncSettings)
        else SyncSettings.from_mapping(settings)
    )
    names = entities or (list(conf.entities) if conf.entities else None)
    units = [u for u in registry.ordered(names) if u.built]
    run = None
    if not dry_run:
        run = session.get(SyncRun, run_id) if run_id is not None else None
        if run is None:
            run = SyncRun(
                scope=",".join(u.name for u in units) or "all",
                dry_run=False,
                full=full,
                since=since.isoformat() if since else None,
            )
            session.add(run)
        run.status, run.started_at = "running", utcnow()
        session.commit()
    ctx = StepContext(
        session=session,
        perfex=perfex_db,
        gateway=gateway,
        settings=conf,
        full=full,
        since=since,
        dry_run=dry_run,
        run_id=run.id if run else None,
        run_key=f"run-{run.id}" if run else f"dry-{uuid.uuid4().hex[:8]}",
        progress=progress,
    )
    result = SyncResult(run_id=ctx.run_id, dry_run=dry_run)
    try:
        for unit in units:
            if run is not None:
                run.current_entity = unit.name
                session.commit()
            report = unit.load_step().run(ctx)
            result.reports.append(report)
            if run is not None:
                run.done += report.writes + report.unchanged + report.skipped
                run.ok_count += report.writes + report.pulled
                run.failed_count += report.failed
                run.skipped_count += report.skipped + report.blocked
                session.commit()
    except Exception as exc:
        if run is not None:
            session.rollback()
            run.status, run.error, run.finished_at = "failed", str(exc), utcnow()
            session.commit()
        raise
    if run is not None:
        run.status = "done" if result.ok else "partial"
        run.current_entity, run.finished_at = None, utcnow()
        session.commit()
    return result
