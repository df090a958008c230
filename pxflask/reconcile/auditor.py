"""What makes the workbook an auditor's file: cover, dressed sheets, totals, names.

The cover sheet says whose report it is (organisation, period, tolerance, when, by
whom, sign-off, counts); every sheet gets a bold frozen header with an auto-filter;
money sheets end with a totals row per currency (never adding two currencies);
downloads are named ``<organisation>_<period>_<file>`` in safe characters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from pxflask.reconcile.credit_notes import credit_notes_note
from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.scopes import ALL_SCOPES
from pxflask.reconcile.spreadsheet import neutralise
from pxflask.reconcile.stake import TOTAL_SCOPE

__all__ = [
    "COVER_SHEET",
    "add_totals",
    "content_disposition",
    "cover_frame",
    "download_name",
    "dress_sheet",
    "period_label",
]

COVER_SHEET = "cover"
SHEET_ROWS = 1_048_576
_BOLD = Font(bold=True)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def cover_frame(
    report: ReconciliationReport, cover: Mapping[str, str] | None
) -> pd.DataFrame:
    """The cover as two columns (field, value): who, what, when, and the counts."""
    fields: dict[str, str] = {"Report": "Perfex ↔ Xero reconciliation"}
    if cover:
        fields.update({str(k): str(v) for k, v in cover.items()})
    else:
        fields["Period"] = period_label(report.date_from, report.date_to, words=True)
        fields["Tolerance"] = str(report.tolerance)
    rows = list(fields.items())
    for scope in ALL_SCOPES:
        frame = getattr(report, scope)
        if frame is None:
            continue
        flagged = int((frame["discrepancy"].astype("str") != "").sum())
        name = scope.replace("_", " ").capitalize()
        rows.append((f"{name} compared", f"{len(frame):,}"))
        rows.append((f"{name} with discrepancies", f"{flagged:,}"))
    if credit_notes_note(report):
        rows.append(("Credit notes", credit_notes_note(report)))
    summary = report.summary
    listed = summary[summary["scope"] != TOTAL_SCOPE]
    counts = listed.groupby(["scope", "category"], sort=False)["count"].sum()
    for (scope, category), count in counts.items():
        rows.append((f"{scope}: {category}", f"{int(count):,}"))
    totals = summary[summary["scope"] == TOTAL_SCOPE]
    for row in totals.itertuples(index=False):
        at_stake = from_cents(int(row.money_at_stake_cents))
        rows.append((f"Money at stake ({row.currency})", f"{at_stake:,.2f}"))
    rows.append(
        (
            "Result",
            "discrepancies found"
            if report.has_discrepancies
            else "Perfex and Xero agree",
        )
    )
    return pd.DataFrame(rows, columns=["field", "value"])


def dress_sheet(sheet: Any, columns: int, rows: int) -> None:
    """Bold frozen header and an auto-filter over the data rows."""
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = _BOLD
    last = get_column_letter(max(columns, 1))
    sheet.auto_filter.ref = f"A1:{last}{max(rows, 0) + 1}"


def add_totals(sheet: Any, frame: pd.DataFrame, columns: list[str]) -> int:
    """Totals of the money columns under the data, one row per currency.

    ``frame`` holds the sheet's rows in cents, ``columns`` the sheet's column names
    as written. Returns the number of totals rows written (0: no money column).
    """
    money = [c for c in frame.columns if str(c).endswith("_cents")]
    if not money or "currency" not in frame.columns or frame.empty:
        return 0
    written = [c.removesuffix("_cents") for c in money]
    where = {name: columns.index(name) + 1 for name in written if name in columns}
    cur_col = columns.index("currency") + 1 if "currency" in columns else None
    start = len(frame) + 3  # a blank row between the data and the totals
    currency = frame["currency"].astype("object").where(frame["currency"].notna(), "")
    sums = frame[money].fillna(0).astype("int64").groupby(currency.to_numpy()).sum()
    if start + len(sums) > SHEET_ROWS:
        return 0  # a full sheet: no room under the data
    for n, (code, values) in enumerate(sums.iterrows()):
        row = start + n
        label = sheet.cell(row=row, column=1, value=f"total {code}".strip())
        label.font = _BOLD
        if cur_col is not None and cur_col != 1:
            sheet.cell(row=row, column=cur_col, value=neutralise(str(code)))
        for col, name in zip(money, written, strict=True):
            if name not in where or where[name] == 1:
                continue
            cell = sheet.cell(
                row=row, column=where[name], value=from_cents(int(values[col]))
            )
            cell.number_format = "0.00"
            cell.font = _BOLD
    return len(sums)


def period_label(
    date_from: dt.date | None, date_to: dt.date | None, words: bool = False
) -> str:
    """``2026-11`` for a calendar month, ``2026-11-01_2026-11-15``, or all dates."""
    if date_from is None and date_to is None:
        return "all dates" if words else "all-dates"
    if (
        date_from is not None
        and date_to is not None
        and date_from.day == 1
        and date_from.year == date_to.year
        and date_from.month == date_to.month
        and (date_to + dt.timedelta(days=1)).day == 1
    ):
        return f"{date_from:%Y-%m}"
    joiner = " to " if words else "_"
    return f"{date_from or 'start'}{joiner}{date_to or 'today'}"


def download_name(
    organisation: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    name: str,
) -> str:
    """``Demo-Company-UK_2026-11_report.xlsx``: safe characters only."""
    org = _UNSAFE.sub("-", organisation or "").strip("-.") or "pxflask"
    stem = f"{org[:60]}_{period_label(date_from, date_to)}_{name}"
    return _UNSAFE.sub("-", stem)


def content_disposition(filename: str) -> str:
    """An attachment header with the (already safe) file name quoted."""
    safe = _UNSAFE.sub("-", filename)
    return f'attachment; filename="{safe}"'
