"""Accounts: Xero's chart of accounts cached in pxf_xero_accounts.

A full read (or an empty tax cache) also reads the organisation's tax rates
(taxrates.py), so the settings page offers them from the first "fetch the chart".

The chart is read once per run with If-Modified-Since (the newest UpdatedDateUTC
seen, kept as a cursor), so a run with nothing changed reads only what Xero reports
as changed. The first run, a --full run or an empty cache read the whole chart and
replace the cache. Accounts deleted in Xero (only unused ones can be) are noticed
by a full run only: If-Modified-Since does not report deletions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from pxflask.models import XeroAccount, XeroTaxRate
from pxflask.sync import taxrates
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.links import read_cursor, write_cursor

CURSOR = "xero.accounts.modified"
SHARED = "accounts"
SHARED_FULL = "accounts.full"


@dataclass(frozen=True)
class Chart:
    """What this run read: every account (full) or those changed since `since`."""

    changed: list[dict[str, Any]]
    full: bool
    since: datetime | None
    newest: datetime | None


def _naive(stamp: datetime) -> datetime:
    """A naive UTC datetime."""
    if stamp.tzinfo is None:
        return stamp
    return stamp.astimezone(UTC).replace(tzinfo=None)


def _newest(records: list[dict[str, Any]], since: datetime | None) -> datetime | None:
    """The newest UpdatedDateUTC among records (at least `since`)."""
    stamps = [
        _naive(r["UpdatedDateUTC"])
        for r in records
        if isinstance(r.get("UpdatedDateUTC"), datetime)
    ]
    if since is not None:
        stamps.append(since)
    return max(stamps, default=None)


def _row(account: dict[str, Any]) -> dict[str, Any]:
    """The cache row of a Xero account."""
    return {
        "account_id": str(account["AccountID"]),
        "code": account.get("Code"),
        "name": str(account.get("Name") or ""),
        "type": str(account.get("Type") or ""),
        "account_class": account.get("Class"),
        "status": str(account.get("Status") or "ACTIVE"),
        "tax_type": account.get("TaxType"),
        "currency_code": account.get("CurrencyCode"),
        "bank_account_number": account.get("BankAccountNumber"),
        "enable_payments": bool(account.get("EnablePaymentsToAccount")),
    }


def _store(ctx: StepContext, records: list[dict[str, Any]], full: bool) -> None:
    """Replace the cache (full read) or upsert the changed accounts."""
    rows = [_row(a) for a in records if a.get("AccountID")]
    if full:
        ctx.session.execute(delete(XeroAccount))
    elif rows:
        ids = [r["account_id"] for r in rows]
        ctx.session.execute(delete(XeroAccount).where(XeroAccount.account_id.in_(ids)))
    if rows:
        ctx.session.execute(insert(XeroAccount), rows)


def refresh(ctx: StepContext) -> Chart:
    """Read Xero's accounts once per run (If-Modified-Since) and update the cache."""
    if SHARED in ctx.shared:
        return ctx.shared[SHARED]
    since = None if ctx.full else read_cursor(ctx.session, CURSOR)
    if since is not None and not ctx.session.scalar(
        select(func.count()).select_from(XeroAccount)
    ):
        since = None
    records = ctx.gateway.read_all("accounts", modified_since=since)
    chart = Chart(records, since is None, since, _newest(records, since))
    if not ctx.dry_run:
        _store(ctx, records, chart.full)
        if chart.newest is not None and chart.newest != since:
            write_cursor(ctx.session, CURSOR, chart.newest, commit=False)
        ctx.session.commit()
    ctx.shared[SHARED] = chart
    if chart.full:
        ctx.shared[SHARED_FULL] = records
    return chart


def read_all_accounts(ctx: StepContext) -> list[dict[str, Any]]:
    """Every Xero account as Xero sends it (one full read per run at most)."""
    if SHARED_FULL not in ctx.shared:
        ctx.shared[SHARED_FULL] = ctx.gateway.read_all("accounts")
    return ctx.shared[SHARED_FULL]


def changed_for(ctx: StepContext, cursor: str) -> tuple[list[dict[str, Any]], bool]:
    """Accounts a consumer with its own cursor has not seen yet; (records, full)."""
    chart = refresh(ctx)
    if chart.full:
        return chart.changed, True
    seen = read_cursor(ctx.session, cursor)
    if seen is not None and chart.since is not None and seen >= chart.since:
        return chart.changed, False
    return read_all_accounts(ctx), True


def consumed(ctx: StepContext, cursor: str) -> None:
    """Mark this run's accounts as seen by a consumer (not in a dry run)."""
    chart = refresh(ctx)
    if not ctx.dry_run and chart.newest is not None:
        write_cursor(ctx.session, cursor, chart.newest)


def read_accounts(ctx: StepContext) -> list[dict[str, Any]]:
    """The whole chart in Xero's shape: the cache, with this run's changes over it."""
    chart = refresh(ctx)
    if chart.full:
        return chart.changed
    by_id: dict[str, dict[str, Any]] = {}
    for a in ctx.session.scalars(select(XeroAccount)):
        by_id[a.account_id] = {
            "AccountID": a.account_id,
            "Code": a.code,
            "Name": a.name,
            "Type": a.type,
            "Class": a.account_class,
            "Status": a.status,
            "TaxType": a.tax_type,
            "CurrencyCode": a.currency_code,
            "BankAccountNumber": a.bank_account_number,
            "EnablePaymentsToAccount": a.enable_payments,
        }
    for changed in chart.changed:
        if changed.get("AccountID"):
            by_id[str(changed["AccountID"])] = changed
    return list(by_id.values())


def run(ctx: StepContext) -> StepReport:
    """Refresh the cached chart with what changed in Xero (one read call)."""
    report = StepReport("accounts")
    chart = refresh(ctx)
    if chart.full or not ctx.session.scalar(
        select(func.count()).select_from(XeroTaxRate)
    ):
        taxrates.read_rates(ctx)  # the panel offers them with the chart
    report.pulled = len(chart.changed)
    what = "accounts" if chart.full else "changed accounts"
    report.planned.append(
        PlannedAction("accounts", "*", "pull", None, f"{len(chart.changed)} {what}")
    )
    return report
