"""Read every output's flagged rows of every scope as plain comparable text.

Each output (the page, report.html, the XLSX sheets, the CSVs, the executed
notebooks' tables) becomes ``{scope: [row, ...]}`` with each row ``{column: text}``:
categories as a sorted ';'-joined text, amounts as 2-dp text, dates as ISO, missing
values as '', links as their URL (the page's and report.html's ``href``), the page's
origin badge as the files' value ('from Xero' is ``xero``, no badge ``perfex``).
Scopes are the report's frames with a ``discrepancy`` column, so a new scope is read
too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
from flask.testing import FlaskClient
from nbclient import NotebookClient

from tests.reconcile.parse_outputs import (
    categories,
    csv_rows,
    html_tables,
    money,
    records,
    xlsx_rows,
)

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MISSING = {"", "None", "nan", "NaN", "NaT", "<NA>"}
TABLE_TITLE = re.compile(r"^#+ (?P<kind>Flagged|Why) (?P<scope>[a-z_]+)[: ]")

Row = dict[str, str]
Output = dict[str, list[Row]]


def singular(scope: str) -> str:
    """'invoices' -> 'Invoice', 'credit_notes' -> 'Credit note'."""
    return scope.removesuffix("s").replace("_", " ").capitalize()


PAGE_ORIGIN = {"from Xero": "xero", "": "perfex"}
"""The page's origin cell (a 'from Xero' badge, else empty) as the files write it."""


def normal(column: str, value: Any, amounts: set[str]) -> str:
    """One cell as comparable text."""
    if column == "discrepancy":
        return ";".join(categories(value))
    if column == "origin":
        text = "" if value is None or value is pd.NA else str(value).strip()
        return PAGE_ORIGIN.get(text, text)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    if isinstance(value, str) and value.strip() in MISSING:
        return ""
    if column in amounts:
        return money(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text in MISSING:
        return ""
    if re.fullmatch(r"\d{4}-\d\d-\d\d 00:00:00", text):
        return text[:10]
    return text[:-2] if re.fullmatch(r"-?\d+\.0", text) else text


def flagged(rows: Iterable[dict[str, Any]], amounts: set[str]) -> list[Row]:
    """The rows with a category, every cell normalised; the index column dropped."""
    out = []
    for row in rows:
        shown = {k: normal(k, v, amounts) for k, v in row.items() if k}
        if shown.get("discrepancy"):
            out.append(shown)
    return out


def page_output(client: FlaskClient, scopes: list[str], amounts: set[str]) -> Output:
    """The page's rows of every scope: the paged table, or the scope's own table."""
    first = client.get("/reconcile/?category=any").get_data(as_text=True)
    select = re.search(r'<select id="scope".*?</select>', first, re.S)
    paged = re.findall(r'<option value="([a-z_]+)"', select.group(0) if select else "")
    out: Output = {}
    for scope in scopes:
        if scope in paged:
            out[scope] = flagged(_paged(client, scope), amounts)
            continue
        ids = {f"{scope.removesuffix('s')}-rows", f"{scope}-rows"}
        table = next((t for t in html_tables(first) if t["id"] in ids), None)
        assert table is not None, f"the page shows no {scope} rows"
        out[scope] = flagged(records(table), amounts)
    return out


def _paged(client: FlaskClient, scope: str) -> list[dict[str, str]]:
    """Every page of a scope's flagged rows."""
    rows: list[dict[str, str]] = []
    page = 1
    while True:
        url = f"/reconcile/?scope={scope}&category=any&page={page}"
        text = client.get(url).get_data(as_text=True)
        table = next((t for t in html_tables(text) if t["id"] == "rows"), None)
        rows += records(table) if table else []
        if table is None or f"page {page} of {page}" in text:
            return rows
        if f"page {page} of" not in text:
            return rows
        page += 1


def report_html_output(body: str, scopes: list[str], amounts: set[str]) -> Output:
    """report.html's table under '<Scope> discrepancies' for every scope."""
    tables = {t["heading"]: t for t in html_tables(body)}
    out: Output = {}
    for scope in scopes:
        heading = f"{singular(scope)} discrepancies"
        assert heading in tables, f"report.html has no '{heading}'"
        out[scope] = flagged(records(tables[heading]), amounts)
    return out


def xlsx_output(data: bytes, scopes: list[str], amounts: set[str]) -> Output:
    """The workbook's sheet of every scope."""
    return {s: flagged(xlsx_rows(data, s), amounts) for s in scopes}


def csv_output(
    client: FlaskClient,
    scopes: list[str],
    amounts: set[str],
    prefix: str = "/reconcile",
) -> Output:
    """The CSV download of every scope (the kept report's: its page's prefix)."""
    out: Output = {}
    for scope in scopes:
        body = client.get(f"{prefix}/download/{scope}.csv")
        assert body.status_code == 200, f"no {scope}.csv"
        out[scope] = flagged(csv_rows(body.get_data(as_text=True)), amounts)
    return out


def execute(name: str, parameters: dict[str, Any], cwd: Path) -> Any:
    """Run a notebook with its parameters cell replaced; return it with outputs."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return notebook


def notebook_tables(notebook: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every displayed table: (the title shown before it, or its cell's source)."""
    out = []
    for cell in notebook.cells:
        title = cell.source
        for item in cell.get("outputs", []):
            data = item.get("data", {})
            if "text/markdown" in data:
                title = data["text/markdown"]
            if "text/html" in data and "<table" in data["text/html"]:
                for table in html_tables(data["text/html"]):
                    out.append((title, table))
    return out


def notebook_output(
    notebook: Any, kind: str, scopes: list[str], amounts: set[str]
) -> Output:
    """The tables titled '<kind> <scope> ...' (e.g. 'Flagged invoices: 3 row(s)')."""
    out: Output = {}
    for title, table in notebook_tables(notebook):
        found = TABLE_TITLE.match(title.strip())
        if found and found["kind"] == kind and found["scope"] in scopes:
            assert found["scope"] not in out, f"{kind} {found['scope']} shown twice"
            out[found["scope"]] = flagged(records(table), amounts)
    missing = set(scopes) - set(out)
    assert not missing, f"the notebook shows no '{kind}' table of {missing}"
    return out


def notebook_text(notebook: Any, source: str) -> str:
    """What a cell starting with ``source`` printed."""
    for cell in notebook.cells:
        if cell.source.startswith(source):
            return "".join(o.get("text", "") for o in cell.get("outputs", []))
    raise AssertionError(f"no cell '{source}'")


def notebook_records(notebook: Any, source: str) -> list[dict[str, str]]:
    """The rows of the table a cell starting with ``source`` displays."""
    for title, table in notebook_tables(notebook):
        if title.startswith(source):
            return records(table)
    raise AssertionError(f"no table from a cell '{source}'")


def notebook_table(notebook: Any, source: str, amounts: set[str]) -> list[Row]:
    """The flagged rows of the table a cell starting with ``source`` displays."""
    return flagged(notebook_records(notebook, source), amounts)


def page_stake(body: str) -> dict[str, str]:
    """The page's money-at-stake figures by currency."""
    part = body[body.index("Money at stake") :]
    part = (
        part[: part.index("</div>\n  </div>")] if "</div>\n  </div>" in part else part
    )
    found = re.findall(r'class="stat">\s*([-\d.,]+) ([A-Z]{3})\s*</div>', part)
    return {cur: money(amount) for amount, cur in found}


def html_stake(body: str) -> dict[str, str]:
    """report.html's money-at-stake cards by currency."""
    found = re.findall(
        r"<div class='n'>([-\d.,]+) ([A-Z]{3})</div><div class='l'>money at stake in",
        body,
    )
    return {cur: money(amount) for amount, cur in found}


def summary_stake(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The summary's (CSV or sheet) money at stake per currency, all scopes."""
    return {
        str(r["currency"]): money(r["money_at_stake"])
        for r in rows
        if r["scope"] == "all" and r["count"] and int(r["count"])
    }


def projected(rows: list[Row], columns: list[str]) -> list[tuple[str, ...]]:
    """The rows cut to some columns, sorted (a multiset to compare)."""
    return sorted(tuple(r[c] for c in columns) for r in rows)
