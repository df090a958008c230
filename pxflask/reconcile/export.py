"""Write the report: summary/invoices/payments CSV, an XLSX workbook and HTML.

Money leaves the report as exact 2-dp Decimal numbers (the ``*_cents`` columns lose
their suffix: ``perfex_total_cents`` -> ``perfex_total``): bare numbers in CSV, numeric
cells formatted ``0.00`` in XLSX, plain strings in HTML. Text cells of CSV and XLSX
are defused against formula injection by ``spreadsheet``.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from pxflask.reconcile.auditor import COVER_SHEET, add_totals, cover_frame, dress_sheet
from pxflask.reconcile.charts import category_chart, monthly_chart
from pxflask.reconcile.credit_notes import CREDIT_NOTE_CATEGORIES, credit_notes_note
from pxflask.reconcile.estimates import ESTIMATE_CATEGORIES
from pxflask.reconcile.frames import from_cents
from pxflask.reconcile.reasons import glossary, is_safe_url
from pxflask.reconcile.report import (
    INVOICE_CATEGORIES,
    PAYMENT_CATEGORIES,
    ReconciliationReport,
)
from pxflask.reconcile.spreadsheet import force_text, safe_frame, write_csv
from pxflask.reconcile.stake import (
    CREDITS_OFF,
    DEFINITION,
    TOTAL_SCOPE,
    stake_by_currency,
)

__all__ = [
    "BOM",
    "HTML_TABLE_ROWS",
    "OUTPUT_FILES",
    "XLSX_MAX_ROWS",
    "csv_text",
    "format_cents",
    "public_frame",
    "render_html",
    "write_csvs",
    "write_html",
    "write_outputs",
    "write_xlsx",
]

OUTPUT_FILES = (
    "summary.csv",
    "invoices.csv",
    "payments.csv",
    "report.xlsx",
    "report.html",
)  # plus expenses.csv and credit_notes.csv when the report has them
SHEETS = {
    "expenses": "expenses",
    "credit_notes": "credit notes",
    "refunds": "refunds",
    "estimates": "estimates",
}
"""The optional scopes' sheet names (their CSV is ``<scope>.csv``)."""
BOM = "\ufeff"
"""Byte-order mark first in every CSV, so Excel reads the file as UTF-8."""
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row
HTML_TABLE_ROWS = 500
_DATE_FORMAT = "%Y-%m-%d"
_INTERNAL = ("extra_copy",)


def format_cents(values: pd.Series) -> pd.Series:
    """Integer cents as '1234.50'-style strings; missing stays missing."""
    missing = values.isna().to_numpy()
    cents = values.to_numpy(dtype=np.int64, na_value=0)
    units = pd.Series(np.abs(cents) // 100, index=values.index).astype("str")
    frac = pd.Series(np.abs(cents) % 100, index=values.index).astype("str").str.zfill(2)
    sign = pd.Series(np.where(cents < 0, "-", ""), index=values.index, dtype="str")
    out = sign + units + "." + frac
    return out.mask(missing)


def public_frame(frame: pd.DataFrame, decimals: bool = False) -> pd.DataFrame:
    """The frame as exported: ``*_cents`` columns renamed and shown as decimals.

    The frame is carried whole: every column keeps its row (a filtered frame's
    index is dropped once, for all columns together).
    """
    frame = frame.reset_index(drop=True)
    out = {}
    for col in frame.columns:
        if col in _INTERNAL:
            continue
        if col.endswith("_cents"):
            series = frame[col]
            if decimals:
                values = [
                    None if pd.isna(v) else from_cents(int(v)) for v in series.tolist()
                ]
                out[col.removesuffix("_cents")] = pd.Series(values, dtype=object)
            else:
                out[col.removesuffix("_cents")] = format_cents(series)
        else:
            out[col] = frame[col]
    return pd.DataFrame(out, index=frame.index)


def _write_csv(frame: pd.DataFrame, target: TextIO) -> None:
    """One defused CSV: ISO dates, money as bare numbers, missing values empty."""
    write_csv(public_frame(frame, decimals=True), target, _DATE_FORMAT)


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV of one report frame, as a download serves it (with a UTF-8 BOM)."""
    out = io.StringIO()
    out.write(BOM)
    _write_csv(frame, out)
    return out.getvalue()


def _csv(frame: pd.DataFrame, path: Path) -> None:
    """Write one CSV file."""
    with path.open("w", encoding="utf-8-sig", newline="") as target:
        _write_csv(frame, target)


def write_csvs(report: ReconciliationReport, out_dir: Path) -> list[Path]:
    """Write summary.csv, invoices.csv, payments.csv (and the optional scopes')."""
    paths = []
    frames = [
        ("summary", report.summary),
        ("invoices", report.invoices),
        ("payments", report.payments),
    ]
    frames += [
        (n, getattr(report, n)) for n in SHEETS if getattr(report, n) is not None
    ]
    for name, frame in frames:
        path = out_dir / f"{name}.csv"
        _csv(frame, path)
        paths.append(path)
    return paths


def _sheet_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Rows that fit in a sheet: all, or the discrepancies only when too many."""
    if len(frame) <= XLSX_MAX_ROWS:
        return frame, None
    flagged = frame[frame["discrepancy"] != ""].head(XLSX_MAX_ROWS)
    return flagged, f"{len(frame):,} rows: only discrepancies are listed"


def _format_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    """Money as 0.00, dates as yyyy-mm-dd, no text cell a formula, a frozen header."""
    sheet.freeze_panes = "A2"
    columns = [c for c in frame.columns if c not in _INTERNAL]  # as written
    for i, col in enumerate(columns, start=1):
        fmt = None
        if col.endswith("_cents"):
            fmt = "0.00"
        elif pd.api.types.is_datetime64_any_dtype(frame[col]):
            fmt = "yyyy-mm-dd"
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(10, min(40, len(col) + 2))
        cells = [c for (c,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i)]
        if fmt is None:
            force_text(cells)
            continue
        for cell in cells:
            cell.number_format = fmt


def write_xlsx(
    report: ReconciliationReport,
    target: Path | BinaryIO,
    cover: Mapping[str, str] | None = None,
) -> None:
    """Write the auditor's workbook: cover, per-currency summary, then the rows.

    ``cover`` gives the cover's fields (organisation, period, tolerance, generated
    at and by, sign-off); every sheet has a bold frozen header with an auto-filter
    and every money sheet a totals row per currency.
    """
    notes = []
    sheets = {
        "summary_by_currency": report.summary_by_currency,
        "summary": report.summary,
    }
    for name in ("invoices", "payments"):
        rows, note = _sheet_rows(getattr(report, name))
        sheets[name] = rows
        if note:
            notes.append(f"{name}: {note}")
    for scope, sheet_name in SHEETS.items():
        if getattr(report, scope) is not None:
            sheets[sheet_name], note = _sheet_rows(getattr(report, scope))
            if note:
                notes.append(f"{scope}: {note}")
    sheets.update(
        {
            "by_month": report.by_month,
            "by_currency": report.by_currency,
            "by_customer": report.by_customer.head(XLSX_MAX_ROWS),
        }
    )
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        front = cover_frame(report, cover)
        safe_frame(front, xlsx=True).to_excel(
            writer, sheet_name=COVER_SHEET, index=False
        )
        cover_sheet = writer.sheets[COVER_SHEET]
        cover_sheet.column_dimensions["A"].width = 34
        cover_sheet.column_dimensions["B"].width = 70
        force_text(c for row in cover_sheet.iter_rows(min_row=2) for c in row)
        dress_sheet(cover_sheet, 2, len(front))
        for name, frame in sheets.items():
            shown = public_frame(frame, decimals=True)
            safe_frame(shown, xlsx=True).to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            _format_sheet(sheet, frame)
            dress_sheet(sheet, len(shown.columns), len(shown))
            add_totals(sheet, frame, list(shown.columns))
        if notes:
            safe_frame(pd.DataFrame({"note": notes}), xlsx=True).to_excel(
                writer, sheet_name="notes", index=False
            )
            dress_sheet(writer.sheets["notes"], 1, len(notes))


def _cell(text: str, is_link: bool = False) -> str:
    """One escaped cell; a link column's URL (http(s) or a panel path) as an <a>."""
    if is_link and is_safe_url(text):
        href = html.escape(text, quote=True)
        return f"<td><a href='{href}'>{html.escape(_link_label(text))}</a></td>"
    return f"<td>{html.escape(text)}</td>"


def _link_label(url: str) -> str:
    """The short text of a row's link."""
    if url.startswith("/sync/log/"):
        return "log entry"
    return "Xero" if "xero.com" in url else "Perfex"


def _glossary_html(codes: list[str]) -> str:
    """The glossary of the categories: title, meaning and what to do."""
    items = "".join(
        f"<dt><code>{html.escape(t.code)}</code> {html.escape(t.title)}</dt>"
        f"<dd>{html.escape(t.meaning)} <em>To do:</em> {html.escape(t.action)}</dd>"
        for t in glossary(codes)
    )
    return f"<h2>What the categories mean</h2><dl class='glossary'>{items}</dl>"


def _table(frame: pd.DataFrame, limit: int = HTML_TABLE_ROWS) -> str:
    """An escaped HTML table of the first ``limit`` rows."""
    shown = public_frame(frame.head(limit))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    links = [str(c).endswith("_url") for c in shown.columns]
    for row in shown.itertuples(index=False):
        cells = []
        for is_link, value in zip(links, row, strict=True):
            if value is None or value is pd.NA or value is pd.NaT:
                text = ""  # a missing id shows empty, as on the page, not '<NA>'
            elif isinstance(value, float) and np.isnan(value):
                text = ""
            elif isinstance(value, pd.Timestamp):
                text = value.strftime(_DATE_FORMAT)
            else:
                text = str(value)
            cells.append(_cell(text, is_link))
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > limit:
        more = f"<p class='note'>Showing {limit:,} of {len(frame):,} rows.</p>"
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        + more
    )


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
h1{margin-bottom:.2rem}.meta{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.7rem 1rem;min-width:11rem}
.card .n{font-size:1.6rem;font-weight:600}.card.bad{border-color:#d9534f}
.card.ok{border-color:#5cb85c}.card .l{color:#555;font-size:.85rem}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;white-space:nowrap}
th{background:#f4f4f4}.note{color:#666;font-size:.85rem}
.chart svg{max-width:100%;height:auto}
.glossary dt{font-weight:600;margin-top:.4rem}.glossary dd{margin:0 0 0 1.2rem}
"""


def _card(label: str, value: str, css: str = "") -> str:
    """One summary card."""
    return (
        f"<div class='card {css}'><div class='n'>{html.escape(value)}</div>"
        f"<div class='l'>{html.escape(label)}</div></div>"
    )


def render_html(report: ReconciliationReport) -> str:
    """The self-contained HTML report (inline CSS and SVG charts)."""
    summary = report.summary
    period = (
        f"{report.date_from or '…'} to {report.date_to or '…'}"
        if report.date_from or report.date_to
        else "all dates"
    )
    inv_bad = int((report.invoices["discrepancy"] != "").sum())
    pay_bad = int((report.payments["discrepancy"] != "").sum())
    cards = [
        _card("invoices compared", f"{len(report.invoices):,}"),
        _card(
            "invoices with discrepancies", f"{inv_bad:,}", "bad" if inv_bad else "ok"
        ),
        _card("payments compared", f"{len(report.payments):,}"),
        _card(
            "payments with discrepancies", f"{pay_bad:,}", "bad" if pay_bad else "ok"
        ),
    ]
    for scope in SHEETS:
        frame = getattr(report, scope)
        if frame is None:
            continue
        bad = int((frame["discrepancy"] != "").sum())
        name = scope.replace("_", " ")
        cards.append(_card(f"{name} compared", f"{len(frame):,}"))
        cards.append(
            _card(f"{name} with discrepancies", f"{bad:,}", "bad" if bad else "ok")
        )
    for currency, cents in stake_by_currency(summary):
        cards.append(
            _card(
                f"money at stake in {currency or 'no currency'} (each amount once)",
                f"{from_cents(cents)} {currency}",
                "bad",
            )
        )
    flagged = summary[(summary["count"] > 0) & (summary["scope"] != TOTAL_SCOPE)]
    for row in flagged.itertuples(index=False):
        money = from_cents(row.money_at_stake_cents)
        cards.append(
            _card(
                f"{row.scope}: {row.category} · {money} {row.currency} at stake",
                f"{row.count:,}",
                "bad",
            )
        )
    status = (
        "Discrepancies found." if report.has_discrepancies else "Perfex and Xero agree."
    )
    credits = (
        ""
        if report.credits_synced
        else f"<p class='note' id='credits-off'>{html.escape(CREDITS_OFF)}</p>"
    )
    extra_terms = ["deleted_in_xero"]
    if report.credit_notes is not None:
        extra_terms += CREDIT_NOTE_CATEGORIES
    if report.estimates is not None:
        extra_terms += ESTIMATE_CATEGORIES
    if credit_notes_note(report):
        extra_terms.append("not_compared")
        credits += (
            "<p class='note' id='credit-notes-off'>"
            f"{html.escape(credit_notes_note(report))}</p>"
        )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Perfex ↔ Xero reconciliation</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Perfex ↔ Xero reconciliation</h1>",
        f"<p class='meta'>Period: {html.escape(period)} · tolerance "
        f"{html.escape(str(report.tolerance))} · generated "
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}. "
        f"{status}</p>",
        f"<div class='cards'>{''.join(cards)}</div>",
        f"<p class='note' id='stake-definition'>{html.escape(DEFINITION)}</p>",
        credits,
        "<h2>Summary</h2>",
        _table(summary),
        "<h2>Charts</h2>",
        f"<div class='chart'>{monthly_chart(report.by_month)}</div>",
        f"<div class='chart'>{category_chart(summary)}</div>",
        "<h2>Totals by currency</h2>",
        _table(report.by_currency),
        _glossary_html([*INVOICE_CATEGORIES, *PAYMENT_CATEGORIES, *extra_terms]),
        "<h2>Invoice discrepancies</h2>",
        _table(report.discrepancies("invoices")),
        "<h2>Payment discrepancies</h2>",
        _table(report.discrepancies("payments")),
    ]
    if report.expenses is not None:
        parts += [
            "<h2>Expense discrepancies</h2>",
            _table(report.discrepancies("expenses")),
        ]
    if report.credit_notes is not None:
        parts += [
            "<h2 id='credit-notes'>Credit note discrepancies</h2>",
            _table(report.discrepancies("credit_notes")),
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: ReconciliationReport, path: Path) -> None:
    """Write report.html."""
    path.write_text(render_html(report), encoding="utf-8")


def write_outputs(
    report: ReconciliationReport,
    out_dir: str | os.PathLike[str],
    cover: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write every output file into ``out_dir``; return their paths by file name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {p.name: p for p in write_csvs(report, out)}
    write_xlsx(report, out / "report.xlsx", cover)
    write_html(report, out / "report.html")
    paths["report.xlsx"] = out / "report.xlsx"
    paths["report.html"] = out / "report.html"
    return paths
