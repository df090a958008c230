"""CSV, XLSX and HTML outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd

from pxflask.reconcile import reconcile, write_outputs
from pxflask.reconcile.export import format_cents, public_frame
from pxflask.reconcile.service import ReportRun, load_report, report_dir, save_report
from tests.reconcile.helpers import clean_inputs, unpaid_without_payments

INVOICE_CSV = [
    "invoice_number",
    "perfex_id",
    "xero_invoice_id",
    "matched_by",
    "origin",
    "perfex_total",
    "xero_total",
    "currency",
    "discrepancy",
]
PAYMENT_CSV = [
    "perfex_payment_id",
    "xero_payment_id",
    "invoice_number",
    "origin",
    "perfex_amount",
    "xero_amount",
    "discrepancy",
]


def _report_with_one_difference() -> tuple[object, int]:
    """A report where one invoice's Xero total is 12.34 higher."""
    inputs = clean_inputs()
    perfex_id = unpaid_without_payments(inputs)
    number = inputs.perfex_invoices.set_index("perfex_id").at[
        perfex_id, "invoice_number"
    ]
    xero = inputs.xero_invoices.copy()
    xero.loc[xero["invoice_number"] == number, "total_cents"] += 1234
    return reconcile(*inputs.with_(xero_invoices=xero).args()), perfex_id


def test_format_cents() -> None:
    """Cents become plain 2-dp strings; missing stays missing."""
    values = pd.Series([0, 5, -5, 123456, -100, None], dtype="Int64")
    out = format_cents(values)
    assert out.iloc[:5].tolist() == ["0.00", "0.05", "-0.05", "1234.56", "-1.00"]
    assert pd.isna(out.iloc[5])


def test_outputs_are_written_and_readable(tmp_path: Path) -> None:
    """All five files exist; CSV columns are the documented ones; money has 2 dp."""
    report, perfex_id = _report_with_one_difference()
    paths = write_outputs(report, tmp_path / "out")
    assert sorted(paths) == sorted(
        ["summary.csv", "invoices.csv", "payments.csv", "report.xlsx", "report.html"]
    )
    invoices = pd.read_csv(paths["invoices.csv"], dtype=str, keep_default_na=False)
    assert set(INVOICE_CSV) <= set(invoices.columns)
    assert len(invoices) == len(report.invoices)
    row = invoices[invoices["perfex_id"] == str(perfex_id)].iloc[0]
    assert row["discrepancy"] == "total_differs"
    assert row["matched_by"] == "link"
    assert set(invoices["origin"]) == {"perfex"}  # linked, none marked pulled
    assert invoices["perfex_total"].str.fullmatch(r"-?\d+\.\d{2}|").all()
    assert (
        pd.to_numeric(row["xero_total"]) * 100
        - pd.to_numeric(row["perfex_total"]) * 100
    ).round() == 1234
    assert (
        invoices.loc[invoices["perfex_id"] != str(perfex_id), "discrepancy"] == ""
    ).all()

    payments = pd.read_csv(paths["payments.csv"], dtype=str, keep_default_na=False)
    assert set(PAYMENT_CSV) <= set(payments.columns)
    assert payments["perfex_amount"].str.fullmatch(r"\d+\.\d{2}").all()

    summary = pd.read_csv(paths["summary.csv"], dtype=str, keep_default_na=False)
    assert {"category", "count", "money_at_stake"} <= set(summary.columns)
    assert len(summary) == 15  # 10 + 4 categories, then the total per currency
    total = summary[
        (summary["scope"] == "invoices") & (summary["category"] == "total_differs")
    ]
    assert total[["count", "money_at_stake"]].values.tolist() == [["1", "12.34"]]
    stake = summary[summary["scope"] == "all"]
    assert stake[["count", "money_at_stake"]].values.tolist() == [["1", "12.34"]]

    book = openpyxl.load_workbook(paths["report.xlsx"], read_only=True)
    assert {"summary", "invoices", "payments", "by_month"} <= set(book.sheetnames)
    sheet = pd.read_excel(
        paths["report.xlsx"], sheet_name="invoices", nrows=len(report.invoices)
    )  # the rows, not the totals under them
    assert set(INVOICE_CSV) <= set(sheet.columns)
    assert len(sheet) == len(report.invoices)

    html = paths["report.html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 2
    assert "total_differs" in html
    for external in ("<script", "<link", 'src="http', "<img"):
        assert external not in html


def test_clean_outputs(tmp_path: Path) -> None:
    """A clean report writes empty discrepancy columns and zero counts."""
    report = reconcile(*clean_inputs().args())
    paths = write_outputs(report, tmp_path)
    invoices = pd.read_csv(paths["invoices.csv"], dtype=str, keep_default_na=False)
    assert (invoices["discrepancy"] == "").all()
    summary = pd.read_csv(paths["summary.csv"])
    assert (summary["count"] == 0).all()
    assert "agree" in paths["report.html"].read_text(encoding="utf-8")


def test_xlsx_formats_each_money_and_date_column(tmp_path: Path) -> None:
    """Money columns are 0.00 and dates yyyy-mm-dd, each on its own column."""
    report = reconcile(*clean_inputs().args())
    paths = write_outputs(report, tmp_path)
    sheet = openpyxl.load_workbook(paths["report.xlsx"])["invoices"]
    header, first = sheet["1:2"]
    formats = {
        head.value: cell.number_format for head, cell in zip(header, first, strict=True)
    }
    assert formats["perfex_total"] == formats["xero_paid"] == "0.00"
    assert formats["perfex_date"] == formats["xero_date"] == "yyyy-mm-dd"
    assert formats["perfex_status"] == formats["xero_currency"] == "General"


def test_report_cached_by_an_older_version_asks_for_a_refresh(tmp_path: Path) -> None:
    """A cached summary without the per-currency columns is not shown (no 500)."""
    report, _ = _report_with_one_difference()
    save_report(ReportRun(report, "t", "snapshot", 0), tmp_path / "new")
    shutil.copytree(tmp_path / "new", tmp_path / "old")
    folder = next(p for p in report_dir(tmp_path / "old").iterdir() if p.is_dir())
    old = report.summary.drop(columns=["currency"]).assign(currencies="GBP")
    old.to_parquet(folder / "summary.parquet", index=False)
    assert load_report(tmp_path / "old") is None
    shutil.copytree(tmp_path / "new", tmp_path / "copy")
    loaded = load_report(tmp_path / "copy")
    assert loaded is not None
    assert (
        loaded.report.summary["currency"].tolist()
        == report.summary["currency"].tolist()
    )


def test_public_frame_keeps_each_row_whole() -> None:
    """A filtered frame (non-default index) keeps every amount on its own row."""
    report, _ = _report_with_one_difference()
    picked = report.invoices.iloc[[7, 2, 5]]
    for decimals in (False, True):
        out = public_frame(picked, decimals=decimals)
        assert len(out) == 3
        assert out["invoice_number"].tolist() == picked["invoice_number"].tolist()
        totals = [str(v) for v in out["perfex_total"]]
        assert totals == format_cents(picked["perfex_total_cents"]).tolist()
