"""Formula injection: no export turns a customer's name or number into a formula.

Perfex customers and invoice prefixes, and Xero contacts and invoice numbers, are
seeded with spreadsheet formulas; the real exports (the panel's downloads, signed in
as the admin, and ``pxflask reconcile --out``) are read back with ``csv`` and
openpyxl. Text cells that start like a formula carry a leading ``'`` (quoted in CSV);
amounts stay numbers, negative ones included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from pxflask.sandbox.regions import profile
from tests.fixtures.sandbox import TEST_REGION
from tests.fixtures.webapp import csrf_token, serve_connected

NO_TAX = profile(TEST_REGION).no_tax  # NONE; AU BASEXCLUDED

EVIL = [
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=2",
]
"""Values a spreadsheet would run: each one a Perfex customer, prefix and Xero side."""
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
"""OWASP's list: a cell starting with one of these is run as a formula."""
CSV_FILES = ("invoices.csv", "by_customer.csv", "payments.csv", "summary.csv")
XERO_TOTAL = Decimal("112.50")
"""Each Xero-only invoice: 1 x 112.50, no tax (the sandbox's 'NONE' rate)."""


@pytest.fixture
def app(tmp_path, perfex_copy_url, xero_sandbox) -> Iterator[Flask]:
    """The panel on a seeded Perfex with formula names, connected to the sandbox."""
    engine = sa.create_engine(perfex_copy_url)
    with engine.begin() as conn:
        for key, value in enumerate(EVIL, start=1):
            conn.execute(
                sa.text("UPDATE tblclients SET company = :v WHERE userid = :k"),
                {"v": value, "k": key},
            )
            conn.execute(
                sa.text(
                    "UPDATE tblinvoices SET prefix = :v, number = :k, "
                    "number_format = 1, status = 2 WHERE id = :k"
                ),
                {"v": value, "k": key},
            )
    engine.dispose()
    for value in EVIL:
        contact = xero_sandbox.inject.contact(value)
        xero_sandbox.inject.invoice(
            contact["ContactID"],
            InvoiceNumber=value,
            lines=[
                {
                    "Description": "Service",
                    "Quantity": 1,
                    "UnitAmount": str(XERO_TOTAL),
                    "AccountCode": "200",
                    "TaxType": NO_TAX,
                }
            ],
        )
    yield from serve_connected(tmp_path, perfex_copy_url, xero_sandbox)


def _is_number(text: str) -> bool:
    """True for a plain decimal number such as '-12.50' or '3'."""
    body = text.removeprefix("-")
    return bool(body) and body.replace(".", "", 1).isdigit()


def _check_csv(name: str, data: str) -> list[list[str]]:
    """Every text field is quoted and defused, every number bare; the rows."""
    rows = list(csv.reader(io.StringIO(data)))
    for row in rows[1:]:
        for text in row:
            assert _is_number(text) or not text.startswith(DANGEROUS), (name, text)
    # Read without the header: bare fields must be numbers, quoted ones are text.
    body = io.StringIO(data.split("\n", 1)[1])
    typed = list(csv.reader(body, quoting=csv.QUOTE_NONNUMERIC))
    for row, plain in zip(typed, rows[1:], strict=True):
        for value, text in zip(row, plain, strict=True):
            if isinstance(value, float):
                assert _is_number(text), (name, text)
            else:
                assert not value.startswith(DANGEROUS), (name, value)
    return rows


def _cells(book: openpyxl.Workbook) -> Iterator[tuple[str, str, object]]:
    """(sheet, header, cell) of every cell below the header rows."""
    for sheet in book.worksheets:
        rows = sheet.iter_rows()
        header = [c.value for c in next(rows)]
        for row in rows:
            for title, cell in zip(header, row, strict=True):
                yield sheet.title, title, cell


def _check_xlsx(data: bytes) -> set[str]:
    """No formula cell, every text cell defused, money numeric; the text values."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts: set[str] = set()
    negative = xero_totals = 0
    for sheet, title, cell in _cells(book):
        assert cell.data_type != "f", (sheet, title, cell.value)
        if cell.data_type == "s":
            assert not cell.value.startswith(DANGEROUS), (sheet, cell.value)
            texts.add(cell.value)
        elif cell.value is not None and title in ("xero_total", "difference"):
            assert cell.data_type == "n", (sheet, title, cell.value)
            negative += cell.value < 0
            if sheet == "invoices" and cell.value == XERO_TOTAL:
                xero_totals += 1
    assert negative > 0  # the Xero-only invoices: Perfex short of Xero
    assert xero_totals >= len(EVIL)
    return texts


def _assert_defused(texts: set[str], xml: bool = False) -> None:
    """Each seeded formula shows as text with the leading quote."""
    for key, value in enumerate(EVIL, start=1):
        if xml:  # an XML parser reads a CR as a line feed
            value = value.replace("\r", "\n")
        assert "'" + value in texts, value  # Xero's invoice numbers
        assert f"'{value}{key:06d}" in texts, value  # Perfex's: prefix + number
    # Perfex's customer names and Xero's contact names lose the leading blank.
    assert {"'=1", "'=2"} <= texts


def test_neutralise_touches_only_text_that_starts_like_a_formula() -> None:
    """Text is prefixed; numbers, negative ones too, and safe text stay as they are."""
    from pxflask.reconcile.spreadsheet import neutralise

    assert [neutralise(v) for v in EVIL] == ["'" + v for v in EVIL]
    assert neutralise("-Acme") == "'-Acme" and neutralise("-5") == "'-5"
    assert neutralise("Acme = best") == "Acme = best" and neutralise("") == ""
    for number in (Decimal("-12.50"), -3, -0.5, None):
        assert neutralise(number) is number


def test_panel_downloads_are_defused(admin, xero_sandbox) -> None:
    """The CSV and XLSX downloads: text quoted and defused, amounts numbers."""
    token = csrf_token(admin, "/reconcile/")
    page = admin.post(
        "/reconcile/refresh", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Report refreshed" in page, page
    texts: set[str] = set()
    for name in CSV_FILES:
        response = admin.get(f"/reconcile/download/{name}")
        assert response.status_code == 200, name
        rows = _check_csv(name, response.get_data(as_text=True))
        texts.update(v for row in rows for v in row)
    _assert_defused(texts)
    invoices = list(
        csv.DictReader(
            io.StringIO(
                admin.get("/reconcile/download/invoices.csv").data.decode("utf-8-sig")
            )
        )
    )
    totals = {r["invoice_number"]: r["xero_total"] for r in invoices}
    assert all(Decimal(totals["'" + v]) == XERO_TOTAL for v in EVIL)
    response = admin.get("/reconcile/download/report.xlsx")
    assert response.status_code == 200
    _assert_defused(_check_xlsx(response.data), xml=True)
    assert not xero_sandbox.clear_violations()


def test_cli_outputs_are_defused(app, tmp_path: Path) -> None:
    """`pxflask reconcile --out`: the same for the files it writes."""
    out = tmp_path / "out"
    result = app.test_cli_runner().invoke(args=["reconcile", "--out", str(out)])
    assert result.exit_code == 1, result.output  # discrepancies, not an error
    _assert_defused(_check_xlsx((out / "report.xlsx").read_bytes()), xml=True)
    texts: set[str] = set()
    for path in sorted(out.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as f:  # a CR stays a CR
            rows = _check_csv(path.name, f.read())
        texts.update(v for row in rows for v in row)
    _assert_defused(texts)


def test_control_characters_do_not_break_the_workbook(admin, app) -> None:
    """A name with a control character (not allowed in XLSX) still downloads."""
    engine = sa.create_engine(app.config["PERFEX_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE tblclients SET company = '\x01=1' WHERE userid = 7")
        )
    engine.dispose()
    token = csrf_token(admin, "/reconcile/")
    admin.post("/reconcile/refresh", data={"csrf_token": token})
    response = admin.get("/reconcile/download/report.xlsx")
    assert response.status_code == 200
    texts = _check_xlsx(response.data)
    assert "\ufffd=1" in texts
