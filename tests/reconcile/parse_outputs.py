"""Read the flagged rows back out of every report output, into one comparable form.

Each output (the page's table, report.html, the XLSX sheets, the CSVs, the notebook
helper's frames) becomes ``{key: row}``: the key names the row (invoice number; for
payments also the payment ids), the row keeps the currency, the amounts as 2-dp text
and the categories as a sorted tuple.  Columns are found by header name, so added or
reordered columns do not matter.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import openpyxl
import pandas as pd

INVOICE_AMOUNTS = (
    "perfex_total",
    "xero_total",
    "perfex_paid",
    "xero_paid",
    "money_at_stake",
)
PAYMENT_AMOUNTS = ("perfex_amount", "xero_amount", "money_at_stake")
XERO_ID_CHARS = 8  # the page shows the first 8 characters of a Xero id

Rows = dict[tuple[str, ...], tuple[Any, ...]]


class Tables(HTMLParser):
    """Every <table> of a page: its id, the <h2> before it, header and cell texts.

    A cell with a link reads as the link's URL; a cell showing the start of its
    ``title`` (the page's shortened Xero ids) reads as the whole title.
    """

    def __init__(self) -> None:
        """Start with no table."""
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self._heading: list[str] | None = None
        self._last_heading = ""
        self._table: dict[str, Any] | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._href: str | None = None
        self._title: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open headings, tables, rows and cells."""
        found = dict(attrs)
        if tag == "h2":
            self._heading = []
        elif tag == "table":
            self._table = {
                "id": found.get("id") or "",
                "heading": self._last_heading,
                "rows": [],
            }
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._href = None
            self._title = found.get("title")
        elif tag == "a" and self._cell is not None:
            self._href = found.get("href")
        elif tag == "span" and self._cell is not None:
            self._cell.append(";")  # badges: one category each

    def handle_endtag(self, tag: str) -> None:
        """Close what was opened."""
        if tag == "h2" and self._heading is not None:
            self._last_heading = "".join(self._heading).strip()
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            text = "".join(self._cell).strip().strip(";").strip()
            if self._href is not None:
                text = self._href  # a link cell: its URL, not its label
            elif text and self._title and self._title.startswith(text):
                text = self._title  # a shortened id: the whole id
            self._row.append(text)
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None

    def handle_data(self, data: str) -> None:
        """Collect text."""
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)


def html_tables(text: str) -> list[dict[str, Any]]:
    """The tables of an HTML document."""
    parser = Tables()
    parser.feed(text)
    return parser.tables


def records(table: dict[str, Any]) -> list[dict[str, str]]:
    """A parsed table as dicts by (space or underscore) header name."""
    header = [h.replace(" ", "_") for h in table["rows"][0]]
    return [dict(zip(header, r, strict=False)) for r in table["rows"][1:]]


def money(value: Any) -> str:
    """An amount as 2-dp text ('' when absent)."""
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return ""
    if value is pd.NA:
        return ""
    return f"{Decimal(str(value).replace(',', '')):.2f}"


def categories(value: Any) -> tuple[str, ...]:
    """The categories of a discrepancy cell, sorted."""
    text = (
        "" if value is None or (isinstance(value, float) and pd.isna(value)) else value
    )
    parts = str(text).replace("\n", ";").split(";")
    return tuple(sorted(p.strip() for p in parts if p.strip() and p.strip() != "ok"))


def text(value: Any) -> str:
    """A cell as plain text ('' when absent)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if value is pd.NA:
        return ""
    out = str(value)
    return out[:-2] if out.endswith(".0") else out


def canonical(rows: list[dict[str, Any]], scope: str) -> Rows:
    """Flagged rows of a scope as ``{key: (currency, amounts..., categories)}``."""
    out: Rows = {}
    amounts = INVOICE_AMOUNTS if scope == "invoices" else PAYMENT_AMOUNTS
    for row in rows:
        found = categories(row.get("discrepancy"))
        if not found:
            continue
        key: tuple[str, ...] = (text(row.get("invoice_number")),)
        if scope == "payments":
            key += (
                text(row.get("perfex_payment_id")),
                text(row.get("xero_payment_id"))[:XERO_ID_CHARS],
            )
        assert key not in out, f"{scope}: row {key} twice"
        value = (text(row.get("currency")),)
        value += tuple(money(row.get(a)) for a in amounts)
        out[key] = (*value, found)
    return out


def csv_rows(body: str) -> list[dict[str, str]]:
    """The rows of a CSV download (a UTF-8 BOM allowed)."""
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def xlsx_rows(data: bytes, sheet: str) -> list[dict[str, Any]]:
    """The rows of one sheet, by the header of its first row."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    values = list(book[sheet].iter_rows(values_only=True))
    header = [str(h) for h in values[0]]
    data = values[1:]
    blank = next((i for i, r in enumerate(data) if all(v is None for v in r)), None)
    if blank is not None:  # the totals rows under a blank row are not data
        data = data[:blank]
    return [dict(zip(header, r, strict=False)) for r in data]


def frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts."""
    return frame.to_dict("records")
