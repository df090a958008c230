"""The module's own tables: settings, Xero connection, links, runs, log, cached chart.

Plain SQLAlchemy declarative models (no Flask import), so the core, jobs and
notebooks use them through any Session; Flask-SQLAlchemy wraps the same Base.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Naive UTC now, the one timestamp convention of the module's tables."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of the module's tables (prefix `pxf_`)."""

    metadata = MetaData(naming_convention=NAMING)


class Setting(Base):
    """One module setting (mappings, sync mode, ...), a text value per key."""

    __tablename__ = "pxf_settings"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )


class XeroConnection(Base):
    """The one connected Xero organisation and its encrypted token set."""

    __tablename__ = "pxf_xero_connection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_type: Mapped[str] = mapped_column(String(30), default="authorization_code")
    client_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    tenant_name: Mapped[str | None] = mapped_column(String(255))
    tenant_type: Mapped[str | None] = mapped_column(String(30))
    connection_id: Mapped[str | None] = mapped_column(String(64))
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text, default="")
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    refresh_issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    # Single-flight refresh lease (DB lock when no Redis): who refreshes, until when.
    refresh_owner: Mapped[str | None] = mapped_column(String(64))
    refresh_until: Mapped[datetime | None] = mapped_column(DateTime)
    minute_remaining: Mapped[int | None] = mapped_column(Integer)
    day_remaining: Mapped[int | None] = mapped_column(Integer)
    quota_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    connected_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )


class Link(Base):
    """A Perfex record and its Xero counterpart, with change hash and state."""

    __tablename__ = "pxf_links"
    __table_args__ = (
        UniqueConstraint("entity", "perfex_key", name="uq_pxf_links_entity_key"),
        Index("ix_pxf_links_entity_state", "entity", "state"),
        Index("ix_pxf_links_entity_xero_id", "entity", "xero_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    perfex_key: Mapped[str] = mapped_column(String(100))
    xero_id: Mapped[str | None] = mapped_column(String(64))
    xero_number: Mapped[str | None] = mapped_column(String(255))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    source_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )


class SyncCursor(Base):
    """A named sync cursor, e.g. the newest Xero UpdatedDateUTC a step has seen."""

    __tablename__ = "pxf_sync_cursors"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )


class SyncRun(Base):
    """One sync run (a job): scope, progress and counts."""

    __tablename__ = "pxf_sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(255), default="all")
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[str | None] = mapped_column(String(10))
    job_id: Mapped[str | None] = mapped_column(String(64))
    current_entity: Mapped[str | None] = mapped_column(String(40))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    ok_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class SyncLog(Base):
    """What happened to one record in one run: action, outcome, payload, answer."""

    __tablename__ = "pxf_sync_log"
    __table_args__ = (
        Index("ix_pxf_sync_log_filter", "entity", "outcome", "created_at"),
        Index("ix_pxf_sync_log_record", "entity", "perfex_key"),
        Index("ix_pxf_sync_log_xero", "entity", "xero_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("pxf_sync_runs.id", ondelete="CASCADE"), index=True
    )
    entity: Mapped[str] = mapped_column(String(40))
    perfex_key: Mapped[str | None] = mapped_column(String(100))
    xero_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class XeroAccount(Base):
    """A cached account of the connected organisation's chart of accounts."""

    __tablename__ = "pxf_xero_accounts"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(150))
    type: Mapped[str] = mapped_column(String(30))
    account_class: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")
    tax_type: Mapped[str | None] = mapped_column(String(50))
    currency_code: Mapped[str | None] = mapped_column(String(3))
    bank_account_number: Mapped[str | None] = mapped_column(String(60))
    enable_payments: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )


class XeroTaxRate(Base):
    """A cached tax rate of the connected organisation (the panel's choices)."""

    __tablename__ = "pxf_xero_tax_rates"

    tax_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    rate: Mapped[str] = mapped_column(String(20), default="0")
    """The effective rate as decimal text (20.0000): no float on the way."""
    report_tax_type: Mapped[str | None] = mapped_column(String(40))
    can_revenue: Mapped[bool] = mapped_column(Boolean, default=True)
    can_expenses: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")
    components: Mapped[str] = mapped_column(Text, default="[]")
    """The TaxComponents as JSON: [[name, rate text], ...]."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )


class LoginFailure(Base):
    """Recent failed sign-ins per account or per address, for throttling."""

    __tablename__ = "pxf_login_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AdminSession(Base):
    """A signed-in panel session; the cookie holds a token whose SHA-256 is the id."""

    __tablename__ = "pxf_admin_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    password_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class TotpStep(Base):
    """The newest authenticator time step used per staff member (no code twice)."""

    __tablename__ = "pxf_totp_steps"

    staff_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SsoNonce(Base):
    """A used sign-in token from the Perfex module, kept until it expires."""

    __tablename__ = "pxf_sso_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ReconcileReport(Base):
    """One reconciliation run kept in the history: period, who, when, figures."""

    __tablename__ = "pxf_reconcile_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    tolerance: Mapped[str] = mapped_column(String(40), default="0")
    organisation: Mapped[str | None] = mapped_column(String(255))
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    generated_by: Mapped[str] = mapped_column(String(255), default="")
    trigger: Mapped[str] = mapped_column(String(20), default="panel")
    figures: Mapped[str] = mapped_column(Text, default="{}")
    """Counts per category and money at stake per currency, as JSON."""
    path: Mapped[str] = mapped_column(String(255), default="")
    """Folder of the report's files, relative to the instance folder."""
    signed_off_by: Mapped[str | None] = mapped_column(String(255))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime)
    sign_off_comment: Mapped[str | None] = mapped_column(Text)


class XeroDocumentLink(Base):
    """What pxflask keeps of one linked Xero document beyond its id.

    The customer-facing online invoice URL (read once from Xero) and whether
    pxflask asked Xero to e-mail it (`email_state`: queued, sending, sent,
    refused, unknown), keyed by the Xero id so a re-created document starts afresh.
    """

    __tablename__ = "pxf_xero_documents"
    __table_args__ = (
        UniqueConstraint("entity", "xero_id", name="uq_pxf_xero_documents_entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    xero_id: Mapped[str] = mapped_column(String(64))
    online_url: Mapped[str | None] = mapped_column(String(500))
    online_state: Mapped[str | None] = mapped_column(String(20))
    """wanted (approved, URL to read), read, none (Xero gave none), seen."""
    online_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    email_state: Mapped[str | None] = mapped_column(String(20))
    email_message: Mapped[str | None] = mapped_column(Text)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow
    )
