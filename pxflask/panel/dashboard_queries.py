"""Read-only queries behind the sync dashboard, the log and the settings page.

Plain functions over a SQLAlchemy Session (and the Perfex DB for record summaries),
so the views stay free of SQL. No Flask.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, Setting, SyncLog, SyncRun, XeroAccount, XeroConnection
from pxflask.panel.log_filter import LogFilter
from pxflask.perfex.db import PerfexDB
from pxflask.sync.registry import REGISTRY, owner_of
from pxflask.sync.settings import FIXED_KEYS

PER_PAGE = 50
LINK_STATES = ("synced", "pending", "failed", "skipped")
OUTCOMES = ("synced", "failed", "skipped", "blocked", "ok", "received", "ignored")
BANK_TYPES = ("BANK",)
SALES_TYPES = ("REVENUE", "SALES", "OTHERINCOME")
KNOWN_GATEWAYS = (
    "stripe",
    "paypal",
    "paypal_checkout",
    "paypal_braintree",
    "authorize_acceptjs",
    "mollie",
    "instamojo",
    "payu_money",
    "two_checkout",
    "stripe_ideal",
)


# ---------------------------------------------------------------- dashboard


@dataclass
class EntityStats:
    """Link counts of one entity by state, and when it last synced."""

    name: str
    label: str
    synced: int = 0
    pending: int = 0
    failed: int = 0
    skipped: int = 0
    other: int = 0
    last_synced: datetime | None = None

    @property
    def total(self) -> int:
        """All linked records of the entity."""
        return self.synced + self.pending + self.failed + self.skipped + self.other


def entity_stats(
    session: SessionLike, entities: Iterable[tuple[str, str]]
) -> list[EntityStats]:
    """Counts per (name, label) entity, from the link states, in the given order."""
    stats = {name: EntityStats(name, label) for name, label in entities}
    rows = session.execute(
        select(
            Link.entity, Link.state, func.count(), func.max(Link.synced_at)
        ).group_by(Link.entity, Link.state)
    ).all()
    for entity, state, count, last in rows:
        item = stats.get(entity)
        if item is None:
            owner = stats.get(owner_of(entity) or "")
            if owner is not None and state == "failed":
                owner.failed += count  # a part's failure is retried with its owner
            continue
        if state in LINK_STATES:
            setattr(item, state, getattr(item, state) + count)
        else:
            item.other += count
        if last is not None and (item.last_synced is None or last > item.last_synced):
            item.last_synced = last
    chart = stats.get("accounts")
    if chart is not None and chart.total == 0:  # the chart is cached, not linked
        cached, updated = session.execute(
            select(func.count(), func.max(XeroAccount.updated_at))
        ).one()
        chart.synced, chart.last_synced = cached or 0, updated
    return list(stats.values())


@dataclass(frozen=True)
class Quota:
    """What Xero last said about the remaining call budget."""

    connected: bool
    tenant_name: str | None = None
    minute_remaining: int | None = None
    day_remaining: int | None = None
    seen_at: datetime | None = None


def connection(session: SessionLike) -> XeroConnection | None:
    """The stored Xero connection row, if any."""
    return session.scalar(select(XeroConnection).order_by(XeroConnection.id).limit(1))


def quota(session: SessionLike) -> Quota:
    """The connection's remaining minute/day quota."""
    row = connection(session)
    if row is None or not row.tenant_id:
        return Quota(connected=False)
    return Quota(
        True,
        row.tenant_name,
        row.minute_remaining,
        row.day_remaining,
        row.quota_seen_at,
    )


def organisation_name(session: SessionLike) -> str | None:
    """The connected organisation's name, or None when not connected."""
    row = connection(session)
    return row.tenant_name if row is not None and row.tenant_id else None


@dataclass(frozen=True)
class SetupStep:
    """One step of the first-time set-up, with where to do it."""

    title: str
    hint: str
    endpoint: str
    done: bool


def setup_steps(session: SessionLike) -> list[SetupStep]:
    """The set-up steps in order: connect Xero, map a sales account, first sync."""
    connected = quota(session).connected
    mapped = sales_account_mapped(session)
    synced = (
        session.scalar(
            select(func.count())
            .select_from(SyncRun)
            .where(
                SyncRun.status.in_(("done", "partial")),
                SyncRun.scope != "accounts",  # fetching the chart sends nothing
                SyncRun.dry_run.is_(False),
            )
        )
        or 0
    )
    return [
        SetupStep(
            "Connect Xero first",
            "Sign in to Xero and pick the organisation to sync with.",
            "connection.index",
            connected,
        ),
        SetupStep(
            "Map a sales account",
            "Choose the Xero account for invoice lines, and your bank accounts.",
            "settings.index",
            mapped,
        ),
        SetupStep(
            "Run a first sync",
            "Send customers, items, invoices and payments to Xero.",
            "sync.index",
            synced > 0,
        ),
    ]


def sales_account_mapped(session: SessionLike) -> bool:
    """A sales account is chosen, or the default one (200) is in the cached chart."""
    if session.get(Setting, "sales_account") is not None:
        return True
    default = FIXED_KEYS["sales_account"][1]
    count = session.scalar(
        select(func.count())
        .select_from(XeroAccount)
        .where(XeroAccount.code == default, XeroAccount.status == "ACTIVE")
    )
    return (count or 0) > 0


def latest_runs(session: SessionLike, limit: int = 10) -> list[SyncRun]:
    """The most recent runs, newest first."""
    return list(
        session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit))
    )


def last_finished_run(session: SessionLike) -> SyncRun | None:
    """The newest run that has ended."""
    return session.scalar(
        select(SyncRun)
        .where(SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        .limit(1)
    )


def active_runs(session: SessionLike) -> list[SyncRun]:
    """Runs queued or running, oldest first."""
    return list(
        session.scalars(
            select(SyncRun)
            .where(SyncRun.status.in_(("queued", "running")))
            .order_by(SyncRun.id)
        )
    )


def run_progress(run: SyncRun, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A run as JSON-ready progress, with the job's meta (the dashboard polls this)."""
    meta = meta or {}
    finished = run.status not in ("queued", "running")
    if finished:
        percent = 100 if run.status in ("done", "partial") else 0
    elif isinstance(meta.get("percent"), int | float):
        percent = min(100, round(meta["percent"]))
    else:
        percent = min(100, round(100 * run.done / run.total)) if run.total else 0
    return {
        "id": run.id,
        "scope": run.scope,
        "trigger": run.trigger,
        "status": run.status,
        "dry_run": run.dry_run,
        "full": run.full,
        "current_entity": run.current_entity,
        "total": run.total,
        "done": run.done,
        "percent": percent,
        "ok": run.ok_count,
        "failed": run.failed_count,
        "skipped": run.skipped_count,
        "api_calls": run.api_calls,
        "error": run.error,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "finished": finished,
        "entity_done": meta.get("entity_done"),
        "entity_total": meta.get("entity_total"),
    }


def _iso(value: datetime | None) -> str | None:
    """ISO text of a naive UTC timestamp."""
    return value.isoformat() + "Z" if value is not None else None


def failed_link_count(session: SessionLike) -> int:
    """How many records are in the failed state."""
    return (
        session.scalar(
            select(func.count()).select_from(Link).where(Link.state == "failed")
        )
        or 0
    )


# ---------------------------------------------------------------------- log


@dataclass
class LogPage:
    """One page of log rows and what the pager needs."""

    rows: list[SyncLog]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        """Compute the page count."""
        self.pages = max(1, -(-self.total // self.per_page))


def search_log(
    session: SessionLike,
    filters: LogFilter,
    per_page: int = PER_PAGE,
    perfex_keys: Mapping[str, Collection[str]] | None = None,
) -> LogPage:
    """Log rows matching the filters, newest first, one page.

    The search text also matches a record's Xero number (its link) and the records
    ``perfex_keys`` names (entity -> keys: ``log_search.perfex_keys`` of the text).
    """
    conditions = []
    if filters.entity:
        conditions.append(SyncLog.entity == filters.entity)
    if filters.outcome:
        conditions.append(SyncLog.outcome == filters.outcome)
    if filters.action:
        conditions.append(SyncLog.action == filters.action)
    if filters.date_from:
        conditions.append(
            SyncLog.created_at >= datetime.combine(filters.date_from, time.min)
        )
    if filters.date_to and filters.date_to < date.max:  # date.max: no upper bound
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min)
        conditions.append(SyncLog.created_at < end)
    if filters.text:
        pattern = (
            "%"
            + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        conditions.append(
            or_(
                SyncLog.perfex_key.like(pattern, escape="\\"),
                SyncLog.xero_id.like(pattern, escape="\\"),
                SyncLog.message.like(pattern, escape="\\"),
                exists().where(
                    Link.entity == SyncLog.entity,
                    Link.perfex_key == SyncLog.perfex_key,
                    Link.xero_number.like(pattern, escape="\\"),
                ),
                *(
                    and_(SyncLog.entity == entity, SyncLog.perfex_key.in_(keys))
                    for entity, keys in (perfex_keys or {}).items()
                    if keys
                ),
            )
        )
    total = (
        session.scalar(select(func.count()).select_from(SyncLog).where(*conditions))
        or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    rows = list(
        session.scalars(
            select(SyncLog)
            .where(*conditions)
            .order_by(SyncLog.created_at.desc(), SyncLog.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return LogPage(rows, total, page, per_page)


def log_entities(session: SessionLike) -> list[str]:
    """Entity names present in the log (for the filter)."""
    return sorted(session.scalars(select(SyncLog.entity).distinct()))


def log_actions(session: SessionLike) -> list[str]:
    """Actions present in the log (for the filter: pull is what came from Xero)."""
    found = session.scalars(select(SyncLog.action).distinct())
    return sorted(a for a in found if a)


def log_entry(session: SessionLike, log_id: int) -> SyncLog | None:
    """One log row."""
    return session.get(SyncLog, log_id)


def record_history(
    session: SessionLike, entity: str, perfex_key: str | None, limit: int = 20
) -> list[SyncLog]:
    """Recent log rows of the same record."""
    if not perfex_key:
        return []
    return list(
        session.scalars(
            select(SyncLog)
            .where(SyncLog.entity == entity, SyncLog.perfex_key == perfex_key)
            .order_by(SyncLog.id.desc())
            .limit(limit)
        )
    )


def record_link(
    session: SessionLike, entity: str, perfex_key: str | None
) -> Link | None:
    """The link of a record."""
    if not perfex_key:
        return None
    return session.scalar(
        select(Link).where(Link.entity == entity, Link.perfex_key == perfex_key)
    )


def perfex_summary(
    perfex: PerfexDB, entity: str, key: str | None
) -> dict[str, Any] | None:
    """The Perfex record behind a log row, as flat label -> value pairs."""
    if not key or not key.isdigit() or entity not in REGISTRY:
        return None
    record = REGISTRY.get(entity).record
    found = record.read(perfex, int(key)) if record is not None else None
    if found is None or not dataclasses.is_dataclass(found):
        return None
    return _flatten(found)


def _flatten(record: Any) -> dict[str, Any]:
    """Top-level scalar fields of a record; collections shown by their size, a
    nested record as its named fields ("id 3 · code GBP · ...")."""
    out: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if isinstance(value, str | int | Decimal | date | bool) or value is None:
            out[item.name] = value
        elif isinstance(value, list | tuple):
            out[item.name] = f"{len(value)} item(s)"
        elif dataclasses.is_dataclass(value):
            inner = " · ".join(
                f"{f.name} {getattr(value, f.name)}"
                for f in dataclasses.fields(value)
                if getattr(value, f.name) not in (None, "")
            )
            out[item.name] = inner[:200]
    return out


# ----------------------------------------------------------------- settings


def accounts_of(
    session: SessionLike,
    *,
    types: tuple[str, ...] = (),
    classes: tuple[str, ...] = (),
    payments: bool = False,
) -> list[XeroAccount]:
    """Active cached accounts of the given types or classes (or payment-enabled)."""
    conditions = []
    if types:
        conditions.append(XeroAccount.type.in_(types))
    if classes:
        conditions.append(XeroAccount.account_class.in_(classes))
    if payments:
        conditions.append(XeroAccount.enable_payments.is_(True))
    query = select(XeroAccount).where(XeroAccount.status == "ACTIVE")
    if conditions:
        query = query.where(or_(*conditions))
    return list(session.scalars(query.order_by(XeroAccount.code, XeroAccount.name)))


def account_choices(session: SessionLike) -> dict[str, list[XeroAccount]]:
    """Cached accounts for each mapping: sales, rounding, payments, expenses."""
    return {
        "sales": accounts_of(session, types=SALES_TYPES, classes=("REVENUE",)),
        "rounding": accounts_of(session),
        "expense": accounts_of(session, classes=("EXPENSE",)),
        "payment": accounts_of(session, types=BANK_TYPES, payments=True),
    }


def known_tax_types(session: SessionLike) -> list[str]:
    """Xero tax types seen in the cached chart (suggestions for tax mappings)."""
    return sorted(
        t for t in session.scalars(select(XeroAccount.tax_type).distinct()) if t
    )


def stored_gateway_keys(session: SessionLike) -> list[str]:
    """Gateway ids with a stored payment_account.<gateway> setting."""
    keys = session.scalars(
        select(Setting.key).where(Setting.key.like("payment\\_account.%", escape="\\"))
    )
    out = []
    for key in keys:
        suffix = key.split(".", 1)[1]
        if not suffix.isdigit() and suffix != "default":
            out.append(suffix)
    return sorted(out)


def gateway_ids(session: SessionLike) -> list[str]:
    """The gateway ids offered for payment mappings."""
    return sorted(set(KNOWN_GATEWAYS) | set(stored_gateway_keys(session)))
