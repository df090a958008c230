"""Open the sources from notebook parameters and run the reconciliation (no Flask).

The audit notebooks call ``open_sources`` with plain values (Perfex URL, module DB
URL, instance folder, ``XERO_*`` overrides): the Xero side is refreshed through the
stored connection when there is one, otherwise the last local snapshot is used
without any call (e.g. the demo's instance after its sandbox has stopped).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.export import public_frame
from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.service import ReportRun, run_reconciliation
from pxflask.reconcile.stake import stake_by_currency

__all__ = [
    "Sources",
    "flagged_rows",
    "invoice_timeline",
    "money_at_stake",
    "open_sources",
    "report_scopes",
    "run_from_parameters",
]


@dataclass
class Sources:
    """Perfex, the module DB sessions, the gateway (None: offline) and a note."""

    perfex: PerfexDB
    sessions: sessionmaker
    gateway: Any | None
    instance_path: Path
    note: str
    perfex_url: str | None = None  # PERFEX_URL: links to Perfex admin pages

    def close(self) -> None:
        """Dispose of the database engines."""
        self.perfex.dispose()
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()


def open_sources(
    perfex_url: str,
    module_db_url: str | None = None,
    instance_path: str | os.PathLike[str] = "instance",
    xero_settings: dict[str, Any] | None = None,
    perfex_prefix: str = "tbl",
) -> Sources:
    """Connect to Perfex and the module DB; build a gateway when Xero is connected.

    PERFEX_URL is read as the panel reads it (instance/pxflask.toml, environment),
    so the notebooks' rows link to the same Perfex pages as the panel's.
    """
    from pxflask.config import load_settings
    from pxflask.xero import XeroGateway
    from pxflask.xero.errors import XeroError

    folder = Path(instance_path)
    overrides = dict(xero_settings or {})
    if module_db_url:
        overrides["PXFLASK_DATABASE_URL"] = module_db_url
    settings = load_settings(folder, overrides)
    demo_key = (folder / "encryption.key").exists()
    if not settings.get("PXFLASK_ENCRYPTION_KEY") and demo_key:
        settings["PXFLASK_DEMO"] = True  # the demo's generated key in the instance
    perfex = PerfexDB.connect(perfex_url, perfex_prefix)
    engine = sa.create_engine(settings["PXFLASK_DATABASE_URL"])
    sessions = sessionmaker(engine, expire_on_commit=False)
    gateway = None
    try:
        candidate = XeroGateway(settings, sessions, instance_path=str(folder))
        status = candidate.connection_status()
    except (XeroError, sa.exc.SQLAlchemyError) as exc:
        note = f"Xero offline ({exc}); using the last local snapshot."
    else:
        if status.connected:
            gateway = candidate
            note = f"Xero: {status.tenant_name or status.tenant_id} (refreshing)."
        else:
            note = f"Xero offline ({status.message}); using the last local snapshot."
    return Sources(
        perfex, sessions, gateway, folder, note, settings.get("PERFEX_URL") or None
    )


def _date(value: str | dt.date | None) -> dt.date | None:
    """A date parameter (ISO text, a date or None)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def run_from_parameters(
    sources: Sources,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    tolerance: str | Decimal = "0",
    refresh: bool = True,
) -> ReportRun:
    """Reconcile with notebook parameters (dates as ISO text)."""
    with sources.sessions() as session:
        return run_reconciliation(
            sources.perfex,
            session,
            sources.gateway,
            sources.instance_path,
            tolerance=Decimal(str(tolerance)),
            date_from=_date(date_from),
            date_to=_date(date_to),
            refresh=refresh and sources.gateway is not None,
            perfex_url=sources.perfex_url,
        )


def report_scopes(report: ReconciliationReport) -> list[str]:
    """The report's row scopes: its frames with a ``discrepancy`` column, in order."""
    return [
        field.name
        for field in dataclasses.fields(report)
        if isinstance(frame := getattr(report, field.name), pd.DataFrame)
        and "discrepancy" in frame.columns
    ]


def flagged_rows(report: ReconciliationReport, scope: str = "invoices") -> pd.DataFrame:
    """The flagged rows of a scope as every output shows them (exact decimals)."""
    return public_frame(report.discrepancies(scope), decimals=True)


def money_at_stake(report: ReconciliationReport) -> pd.DataFrame:
    """Money at stake per currency, each amount once (see ``stake.DEFINITION``)."""
    rows = stake_by_currency(report.summary)
    return pd.DataFrame(
        {
            "currency": [c for c, _ in rows],
            "money_at_stake": [from_cents(v) for _, v in rows],
        }
    )


def invoice_timeline(run: ReportRun, invoice_number: str) -> pd.DataFrame:
    """Both sides' payments of one invoice by date, with running totals (cents).

    Deleted Xero payments are left out: they no longer pay the invoice (the Perfex
    payment of the same row stays).
    """
    pays = run.report.payments
    mine = pays[pays["invoice_number"].astype("str") == invoice_number]
    deleted = mine["xero_status"].fillna("") == "DELETED"
    rows = []
    for side in ("perfex", "xero"):
        part = mine[mine[f"{side}_date"].notna() & ~(deleted & (side == "xero"))]
        rows.append(
            pd.DataFrame(
                {
                    "date": part[f"{side}_date"].to_numpy(),
                    "side": side,
                    "payment_id": part[f"{side}_payment_id"].astype("str").to_numpy(),
                    "amount_cents": part[f"{side}_amount_cents"]
                    .astype("int64")
                    .to_numpy(),
                    "discrepancy": part["discrepancy"].astype("str").to_numpy(),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True).sort_values(["side", "date"])
    out["running_cents"] = out.groupby("side")["amount_cents"].cumsum()
    return out.sort_values(["date", "side"], ignore_index=True)
