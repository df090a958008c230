"""The credit-notes scope of the reconciliation, timed on synthetic frames (issue 12).

Used by ``benchmarks/reconcile_steps.py`` (step ``credit notes``): one Perfex credit
note per ``CREDIT_NOTE_EVERY`` invoices and its Xero copy, linked; ``rate`` of them
broken per kind (total edited in Perfex, voided in Xero, only in Perfex, an
allocation only in Xero).  Timed: matching, checks, money at stake and the scope's
summary rows (``reconcile_credit_notes`` + ``with_credit_notes``); not timed: making
the frames.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

CREDIT_NOTE_EVERY = 10
"""One credit note per this many invoices (a busy month credits about a tenth)."""
BROKEN = ("total", "voided", "only_in_perfex", "allocated")


def credit_note_frames(
    invoices: pd.DataFrame, rate: float, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, str], set[str]]:
    """Perfex and Xero credit note frames, their links and the broken numbers."""
    rng = np.random.default_rng(seed)
    source = invoices.iloc[::CREDIT_NOTE_EVERY].reset_index(drop=True)
    n = len(source)
    ids = np.arange(1, n + 1, dtype=np.int64)
    total = (source["total_cents"].to_numpy(np.int64) // 4).clip(min=100)
    tax = total // 6
    allocated = total // 2
    numbers = pd.Series([f"CN-{i:07d}" for i in ids], dtype="str")
    dates = source["date"].reset_index(drop=True)
    currency = source["currency"].astype("str").reset_index(drop=True)
    perfex = pd.DataFrame(
        {
            "perfex_credit_note_id": ids,
            "number": numbers,
            "date": dates,
            "status": pd.Series(["open"] * n, dtype="str"),
            "currency": currency,
            "total_cents": total,
            "tax_cents": tax,
            "allocated_cents": allocated,
            "invoice_ids": pd.Series(["1"] * n, dtype="str"),
        }
    )
    xero_ids = pd.Series([f"c{i:035d}" for i in ids], dtype="str")
    xero = pd.DataFrame(
        {
            "xero_id": xero_ids,
            "number": numbers,
            "reference_id": pd.array(ids, dtype="Int64"),
            "date": dates,
            "status": pd.Series(["AUTHORISED"] * n, dtype="str"),
            "currency": currency,
            "total_cents": total.copy(),
            "tax_cents": tax.copy(),
            "remaining_cents": total - allocated,
            "allocated_cents": allocated.copy(),
            "invoice_ids": pd.Series(["x"] * n, dtype="str"),
        }
    )
    per_kind = max(1, int(n * rate))
    picked = rng.choice(n, size=per_kind * len(BROKEN), replace=False)
    groups = np.split(picked, len(BROKEN))
    perfex.loc[groups[0], "total_cents"] += 700
    xero.loc[groups[1], "status"] = "VOIDED"
    xero.loc[groups[3], "allocated_cents"] += 300
    xero.loc[groups[3], "remaining_cents"] -= 300
    xero = xero.drop(index=groups[2]).reset_index(drop=True)
    links = dict(zip(ids.tolist(), xero_ids.tolist(), strict=True))
    for i in groups[2].tolist():
        links.pop(int(ids[i]))
    return perfex, xero, links, set(numbers[picked].tolist())


def time_credit_notes(report: object, invoices: pd.DataFrame, rate: float) -> dict:
    """Add the credit-notes scope to ``report``: seconds, rows, found, extra flags."""
    from pxflask.reconcile.credit_notes import (
        reconcile_credit_notes,
        with_credit_notes,
    )

    perfex, xero, links, broken = credit_note_frames(invoices, rate)
    started = time.perf_counter()
    rows, result = reconcile_credit_notes(perfex, xero, links, report.invoices)
    report = with_credit_notes(report, rows, result)
    seconds = time.perf_counter() - started
    flagged = rows["discrepancy"].astype("str") != ""
    numbers = set(rows.loc[flagged, "credit_note_number"].tolist())
    return {
        "report": report,
        "seconds": seconds,
        "rows": len(rows),
        "found": len(numbers & broken),
        "extra": len(numbers - broken),
        "broken": len(broken),
    }
