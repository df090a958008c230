"""Spreadsheet-safe exports: text that a spreadsheet would run as a formula is defused.

Every CSV and XLSX file the panel or the CLI writes goes through here (OWASP "CSV
Injection", ASVS 5.0 V1.2.10). A *text* cell starting with ``=``, ``+``, ``-``,
``@``, tab, carriage return or NUL is prefixed with a single quote, so Excel,
LibreOffice and Google Sheets show it as text instead of running it. In CSV every
text field is also quoted, so a separator or line break inside it cannot start a new
cell. Numbers are never touched: money leaves as ``Decimal`` (a bare number in CSV, a
numeric cell in XLSX), so ``-12.50`` stays a negative amount, while a text column
such as an invoice number ``-5`` or a name ``-Acme`` is text and gets the quote.

openpyxl stores any string starting with ``=`` as a formula; after the quote none
does, and ``force_text`` makes sure no text cell of a sheet is typed as a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

import pandas as pd

__all__ = [
    "FORMULA_PREFIXES",
    "force_text",
    "neutralise",
    "neutralise_text",
    "safe_frame",
    "write_csv",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
"""First characters that make a spreadsheet read a cell as a formula."""
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters XML 1.0 (so XLSX) cannot hold; openpyxl refuses them."""


def neutralise(value: Any) -> Any:
    """A text value that starts like a formula, prefixed with ``'``; else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_text(series: pd.Series, xlsx: bool = False) -> pd.Series:
    """The column with its text cells defused; numbers, dates and missing kept."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "string":  # vectorised: the common case, and the big columns
        if xlsx:
            series = series.str.replace(_XML_ILLEGAL, "\ufffd", regex=True)
        risky = series.str.startswith(FORMULA_PREFIXES, na=False)
        return series.mask(risky, "'" + series)
    if series.dtype != object or kind in ("decimal", "empty"):
        return series  # numbers (money as Decimal), dates, booleans: never text
    if xlsx:
        series = series.map(
            lambda v: _XML_ILLEGAL.sub("\ufffd", v) if isinstance(v, str) else v
        )
    return series.map(neutralise)  # a mixed column: only its str values change


def safe_frame(frame: pd.DataFrame, xlsx: bool = False) -> pd.DataFrame:
    """A copy of an export frame with every text column defused."""
    return pd.DataFrame({col: neutralise_text(frame[col], xlsx) for col in frame})


def write_csv(
    frame: pd.DataFrame, target: TextIO, date_format: str, header: bool = True
) -> None:
    """Write a defused CSV: a plain header, text quoted, numbers bare."""
    if header:
        csv.writer(target, lineterminator="\n").writerow(frame.columns)
    flags = [c for c in frame if pd.api.types.is_bool_dtype(frame[c])]
    if flags:  # True/False are words, quoted like text (bool is an int to csv)
        frame = frame.assign(**{c: frame[c].astype("str") for c in flags})
    safe_frame(frame).to_csv(
        target,
        index=False,
        header=False,
        date_format=date_format,
        quoting=csv.QUOTE_NONNUMERIC,  # quotes every field that is not a number
        lineterminator="\n",
    )


def force_text(cells: Iterable[Any]) -> None:
    """Type every formula-looking cell of a text column as a plain string."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"
