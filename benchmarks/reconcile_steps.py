"""The month-end steps added to the reconciliation, timed after the core (issue 12).

Used by ``benchmarks/reconcile.py`` (measurement ``ours:month-end``): on the same
synthetic frames it times, one after the other in one fresh process,

- ``core``: ``reconcile`` with payments and links (the figure from before);
- ``credit notes``: the credit-notes scope on one credit note per ten invoices,
  linked, with ``RATE`` of them broken per kind (``reconcile_credit.py``);
- ``reasons``: ``reasons.annotate`` (what, why, action and the three links) with a
  module SQLite database holding a link and a sync log row per linked record and the
  lock-date cursor (written once with the data, not timed);
- ``stake``: money at stake per currency (``stake.total_rows``, each amount once);
- ``month-end``: collections, invoices as at the date, aged receivables and tax per
  rate (one tax line per invoice on each side; the lines are made before the clock);
- ``xlsx``: the auditor's workbook (``export.write_xlsx``, cover and all sheets) of
  the first ``XLSX_INVOICES`` invoices with their payments (openpyxl writes cells one
  by one, so a million-row workbook is not a month's file; that report is built
  before the clock).
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
from reconcile_credit import time_credit_notes

XLSX_INVOICES = 10_000
# Targets (seconds) at 1,000,000 invoices and payments per side, about fifty times
# a large month, on this 2-core machine: the panel refreshes in a background job, so
# a whole refresh with reasons and month-end views should stay within a minute; the
# workbook of a large month (10,000 invoices with their payments) within 20 s.
TARGETS = {
    "credit-notes": 10.0,
    "reasons": 30.0,
    "stake": 1.0,
    "month-end": 30.0,
    "xlsx": 20.0,
}
AFTER_TARGET = 60.0  # core + credit notes + reasons + stake + month-end views
RATE = 0.01  # credit notes broken per kind, as the invoices' default rate
PERFEX_URL = "https://crm.example.com"
VAT = (("VAT", Decimal("20")),)


def write_module_db(links: pd.DataFrame, path: Path) -> int:
    """A module database with a synced link and an ok log row per link; rows written."""
    import sqlalchemy as sa

    from pxflask.models import Base
    from pxflask.reconcile.reasons import LOCK_CURSOR

    engine = sa.create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    now = "2026-01-01 00:00:00.000000"
    keys = links["perfex_id"].astype(str).tolist()
    rows = list(
        zip(
            links["entity"].tolist(),
            keys,
            links["xero_id"].tolist(),
            [now] * len(keys),
            strict=True,
        )
    )
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO pxf_links (entity, perfex_key, xero_id, state, attempts,"
            " synced_at, updated_at) VALUES (?1, ?2, ?3, 'synced', 1, ?4, ?4)",
            rows,
        )
        conn.executemany(
            "INSERT INTO pxf_sync_log (entity, perfex_key, xero_id, action, outcome,"
            " message, created_at) VALUES (?1, ?2, ?3, 'create', 'ok', 'created', ?4)",
            rows,
        )
        conn.execute(
            "INSERT INTO pxf_sync_cursors (name, value, updated_at) VALUES (?, ?, ?)",
            (LOCK_CURSOR, "2025-01-31", now),
        )
    return len(rows)


def _tax_lines(p_inv: pd.DataFrame, x_inv: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """One tax line per invoice on each side, VAT 20% or no tax."""
    taxed = p_inv["tax_cents"] > 0
    p_lines = pd.DataFrame(
        {
            "perfex_id": p_inv["perfex_id"],
            "key": [VAT if t else () for t in taxed],
            "net_cents": p_inv["subtotal_cents"],
            "tax_cents": p_inv["tax_cents"],
        }
    )
    x_lines = pd.DataFrame(
        {
            "xero_invoice_id": x_inv["xero_invoice_id"],
            "tax_type": ["OUTPUT2" if t > 0 else "NONE" for t in x_inv["tax_cents"]],
            "net_cents": x_inv["subtotal_cents"],
            "tax_cents": x_inv["tax_cents"],
        }
    )
    return p_lines, x_lines


def _month_end(frames: dict, lines: tuple[pd.DataFrame, ...], as_at: dt.date) -> int:
    """The four month-end views; return their rows."""
    from pxflask.reconcile.aging import aged_receivables, as_at_invoices
    from pxflask.reconcile.collections import collections
    from pxflask.reconcile.tax_period import tax_per_rate

    p_inv, x_inv = frames["perfex_invoices"], frames["xero_invoices"]
    p_pay, x_pay = frames["perfex_payments"], frames["xero_payments"]
    links = frames["links"]
    credits = pd.DataFrame(
        {
            "perfex_invoice_id": pd.Series([], dtype="int64"),
            "date": pd.Series([], dtype="datetime64[ns]"),
            "amount_cents": pd.Series([], dtype="int64"),
        }
    )
    views = [
        collections(
            p_inv,
            p_pay,
            x_inv,
            x_pay,
            links,
            modes={"1": "Bank transfer", "2": "Stripe"},
            mode_account={"1": "090", "2": "091"},
            accounts={"090": "Business Bank Account", "091": "Stripe"},
            x_accounts=None,
            as_at=as_at,
            date_from=as_at.replace(day=1),
        )
    ]
    views.append(as_at_invoices(p_inv, p_pay, credits, x_inv, x_pay, links, as_at))
    views.append(aged_receivables(views[-1]))
    types = {VAT: "OUTPUT2", (): "NONE"}
    views.append(tax_per_rate(p_inv, lines[0], types, x_inv, lines[1], as_at=as_at))
    return sum(len(v) for v in views)


def _xlsx_report(frames: dict, session: object) -> object:
    """The annotated report of the first XLSX_INVOICES invoices and their payments."""
    from pxflask.reconcile import reconcile
    from pxflask.reconcile.reasons import annotate

    p_inv = frames["perfex_invoices"].head(XLSX_INVOICES)
    numbers = p_inv["invoice_number"]
    x_inv = frames["xero_invoices"]
    x_inv = x_inv[x_inv["invoice_number"].isin(numbers)]
    p_pay = frames["perfex_payments"]
    x_pay = frames["xero_payments"]
    report = reconcile(
        p_inv,
        x_inv,
        p_pay[p_pay["invoice_number"].isin(numbers)],
        x_pay[x_pay["invoice_number"].isin(numbers)],
        frames["links"],
    )
    return annotate(report, session, PERFEX_URL)


def run_steps(frames: dict, folder: Path) -> dict[str, float]:
    """Time the core and each added step in this process; return seconds and rows."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from pxflask.reconcile import reconcile
    from pxflask.reconcile.export import write_xlsx
    from pxflask.reconcile.reasons import annotate
    from pxflask.reconcile.stake import total_rows

    engine = sa.create_engine(f"sqlite:///{folder / 'module.db'}")
    lines = _tax_lines(frames["perfex_invoices"], frames["xero_invoices"])
    as_at = frames["perfex_invoices"]["date"].max().date()
    out: dict[str, float] = {}
    with Session(engine) as session:
        gc.collect()
        t = time.perf_counter()
        report = reconcile(
            frames["perfex_invoices"],
            frames["xero_invoices"],
            frames["perfex_payments"],
            frames["xero_payments"],
            frames["links"],
        )
        out["core"] = time.perf_counter() - t
        credit = time_credit_notes(report, frames["perfex_invoices"], RATE)
        report = credit["report"]
        out["credit-notes"] = credit["seconds"]
        out["credit_rows"] = credit["rows"]
        out["credit_found"] = credit["found"] - credit["extra"]
        out["credit_broken"] = credit["broken"]
        t = time.perf_counter()
        annotated = annotate(report, session, PERFEX_URL)
        out["reasons"] = time.perf_counter() - t
        t = time.perf_counter()
        totals = total_rows(
            [annotated.invoices, annotated.payments, annotated.credit_notes]
        )
        out["stake"] = time.perf_counter() - t
        t = time.perf_counter()
        out["month_end_rows"] = _month_end(frames, lines, as_at)
        out["month-end"] = time.perf_counter() - t
        scopes = (annotated.invoices, annotated.payments, annotated.credit_notes)
        out["explained"] = sum(int((f["why"] != "").sum()) for f in scopes)
        out["currencies"] = len(totals)
        small = _xlsx_report(frames, session)
        t = time.perf_counter()
        buffer = io.BytesIO()
        write_xlsx(small, buffer, {"Organisation": "Benchmark Ltd"})
        out["xlsx"] = time.perf_counter() - t
        out["xlsx_rows"] = len(small.invoices) + len(small.payments)
        out["xlsx_mb"] = len(buffer.getvalue()) / 2**20
    engine.dispose()
    return out


def _step_rows(best: dict[str, float]) -> list[tuple[str, float, float | None]]:
    """(label, seconds, target) of each step this run measured (older trees: fewer)."""
    labels = {
        "credit-notes": lambda: (
            f"+ credit notes ({best['credit_rows']:,.0f} rows, "
            f"{best['credit_found']:,.0f} of {best['credit_broken']:,.0f} found)"
        ),
        "reasons": lambda: f"+ reasons and links ({best['explained']:,.0f} explained)",
        "stake": lambda: f"+ money at stake ({best['currencies']:.0f} currencies)",
        "month-end": lambda: f"+ month-end views ({best['month_end_rows']:,.0f} rows)",
    }
    added = [k for k in labels if k in best]
    after = best["core"] + sum(best[k] for k in added)
    rows: list[tuple[str, float, float | None]] = [
        ("before: core reconcile (invoices+payments)", best["core"], None)
    ]
    rows += [(labels[k](), best[k], TARGETS[k]) for k in added]
    rows.append((f"after: core + {', '.join(added)}", after, AFTER_TARGET))
    xlsx = f"auditor XLSX ({best['xlsx_rows']:,.0f} rows, {best['xlsx_mb']:.1f} MB)"
    rows.append((xlsx, best["xlsx"], TARGETS["xlsx"]))
    return rows


def print_steps(runs: list[dict[str, float]], n: int) -> bool:
    """Print before (core) and after (core + added steps) with targets; True if met."""
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    print(f"month-end steps on {n:,} invoices per side (best of {len(runs)}):")
    print(f"{'step':<52}{'wall s':>8}{'target s':>10}")
    ok = True
    for label, seconds, target in _step_rows(best):
        verdict = ""
        if target is not None:
            met = seconds < target
            ok &= met
            verdict = f"{target:>10.0f}  {'PASS' if met else 'FAIL'}"
        print(f"{label:<52}{seconds:>8.2f}{verdict}")
    return ok
