"""Each flagged row says what differs, why (from the sync's records) and what to do.

A synced world with three problems staged through the real sync and the sandbox (an
invoice dated in a period Xero has locked, one whose sales account Xero does not
have, one deleted in Xero): the page, report.html and invoices.csv show each row's
reason, action and links (log entry, Perfex admin page, Xero deep link), the
discrepancy column first and the glossary of the categories.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from pxflask.models import SyncLog
from pxflask.reconcile.checks import INVOICE_CATEGORIES, PAYMENT_CATEGORIES
from pxflask.reconcile.glossary import GLOSSARY
from tests.fixtures.webapp import refreshed_report
from tests.reconcile.staging import LOCK, LOCKED_DAY, UNKNOWN_ACCOUNT, stage_reasons

PERFEX = "https://crm.example.com"
LEAD = "discrepancy,what,why,action,log_url,perfex_url,xero_url,"


@pytest.fixture
def flagged(world):
    """The staged world's panel (PERFEX_URL set), signed in, report refreshed."""
    staged = stage_reasons(world)
    app = world.app(PERFEX_URL=PERFEX + "/")
    client = refreshed_report(app)
    yield world, staged, client
    from pxflask.extensions import db
    from pxflask.queueing import close_queue

    close_queue(app)
    with app.app_context():
        db.engine.dispose()


def _newest_log(world, key: int) -> int:
    """The id of the newest sync log entry of a Perfex invoice."""
    with world.session() as session:
        return session.scalar(
            sa.select(sa.func.max(SyncLog.id)).where(
                SyncLog.entity == "invoices", SyncLog.perfex_key == str(key)
            )
        )


def _expected(world, staged) -> dict[str, dict[str, str]]:
    """Invoice number -> the reason columns its row must carry."""
    lock = (
        f"The sync skipped it: dated {LOCKED_DAY}, on or before Xero's period lock"
        f" date {LOCK}: unlock the period in Xero (or change the date in Perfex)"
        " and retry"
    )
    return {
        staged.locked_number: {
            "discrepancy": "missing_in_xero",
            "what": f"Invoice {staged.locked_number} (",
            "why": lock,
            "action": "Unlock the period in Xero (or change the date in Perfex),"
            " then retry the record from its log entry.",
            "log_url": f"/sync/log/{_newest_log(world, staged.locked)}",
            "perfex_url": f"{PERFEX}/admin/invoices/list_invoices/{staged.locked}",
            "xero_url": "",
        },
        staged.unmapped_number: {
            "discrepancy": "missing_in_xero",
            "what": f"Invoice {staged.unmapped_number} (",
            "why": f"The sync failed to send it: Account code '{UNKNOWN_ACCOUNT}'",
            "action": "Fix what the error names (settings page or the record), then"
            " retry the record from its log entry.",
            "log_url": f"/sync/log/{_newest_log(world, staged.unmapped)}",
            "perfex_url": f"{PERFEX}/admin/invoices/list_invoices/{staged.unmapped}",
            "xero_url": "",
        },
        staged.deleted_number: {
            "discrepancy": "status_differs",
            "what": "Status: Perfex unpaid, Xero DELETED",
            "why": "It was deleted in Xero, so the sync no longer sends it: deleted"
            " in Xero: it will not be sent again",
            "action": "Decide which side is right: cancel or delete it in Perfex, or"
            " re-create it in Xero.",
            "log_url": f"/sync/log/{_newest_log(world, staged.deleted)}",
            "perfex_url": f"{PERFEX}/admin/invoices/list_invoices/{staged.deleted}",
            "xero_url": "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID="
            + staged.deleted_xero_id,
        },
    }


def test_csv_rows_say_what_why_and_what_to_do(flagged):
    """invoices.csv: discrepancy and the reason columns first, plain URLs."""
    world, staged, client = flagged
    data = client.get("/reconcile/download/invoices.csv").get_data()
    text = data.decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf") and text.startswith(LEAD)
    rows = {r["invoice_number"]: r for r in csv.DictReader(io.StringIO(text))}
    for number, want in _expected(world, staged).items():
        row = rows[number]
        for col, value in want.items():
            if col in ("what", "why"):
                assert row[col].startswith(value), (number, col, row[col])
            else:
                assert row[col] == value, (number, col, row[col])
    why = rows[staged.unmapped_number]["why"]
    assert "map sales_account to an active account" in why and "attempt" in why
    assert (
        rows[staged.locked_number]["log_url"] != rows[staged.unmapped_number]["log_url"]
    )


def _row_of(page: str, number: str) -> str:
    """The <tr> of the page's rows table that shows an invoice number."""
    table = page.split('<table id="rows">', 1)[1].split("</table>", 1)[0]
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if number in r]
    assert len(rows) == 1, number
    return rows[0]


def test_page_rows_carry_reasons_links_and_glossary(flagged):
    """The page: discrepancy first, reasons as text, the three links as <a>."""
    world, staged, client = flagged
    page = client.get("/reconcile/?category=any").get_data(as_text=True)
    head = page.split('<table id="rows">', 1)[1].split("</tr>", 1)[0]
    names = re.findall(r"<th[^>]*>([^<]*)</th>", head)
    assert names[:7] == [
        "discrepancy",
        "what",
        "why",
        "action",
        "log url",
        "perfex url",
        "xero url",
    ]
    for number, want in _expected(world, staged).items():
        row = html.unescape(_row_of(page, number))
        assert want["why"][:60] in row and want["action"] in row, number
        assert f'<a href="{want["log_url"]}"' in row
        assert f'<a href="{want["perfex_url"]}"' in row
        if want["xero_url"]:
            assert f'<a href="{want["xero_url"]}"' in row
    assert 'id="glossary"' in page
    for code in (*INVOICE_CATEGORIES, *PAYMENT_CATEGORIES):
        assert f'id="term-{code}"' in page
        assert html.escape(GLOSSARY[code].meaning) in page


def test_report_html_rows_carry_reasons_links_and_glossary(flagged):
    """report.html: the same reasons, real escaped links, the glossary."""
    world, staged, client = flagged
    report = client.get("/reconcile/download/report.html").get_data(as_text=True)
    assert "What the categories mean" in report
    for code in (*INVOICE_CATEGORIES, *PAYMENT_CATEGORIES):
        assert f"<code>{code}</code> {html.escape(GLOSSARY[code].title)}" in report
    section = report.split("<h2>Invoice discrepancies</h2>", 1)[1]
    section = section.split("<h2>", 1)[0]
    assert re.search(r"<thead><tr><th>discrepancy</th><th>what</th>", section)
    for number, want in _expected(world, staged).items():
        row = next(r for r in section.split("<tr>") if f"<td>{number}</td>" in r)
        text = html.unescape(row)
        assert want["why"][:60] in text and want["action"] in text, number
        assert f"<a href='{html.escape(want['perfex_url'])}'>Perfex</a>" in row
        assert f"<a href='{want['log_url']}'>log entry</a>" in row
        if want["xero_url"]:
            assert f"<a href='{html.escape(want['xero_url'])}'>Xero</a>" in row


def test_xlsx_leads_with_the_reasons_as_plain_text(flagged):
    """report.xlsx: the same columns first; URLs are plain text cells, no formula."""
    world, staged, client = flagged
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/reconcile/download/report.xlsx").data)
    )
    sheet = book["invoices"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert ",".join(header[:7]) + "," == LEAD
    rows = {
        r[header.index("invoice_number")]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    for number, want in _expected(world, staged).items():
        assert rows[number]["perfex_url"] == want["perfex_url"]
        assert rows[number]["log_url"] == want["log_url"]
        assert (rows[number]["xero_url"] or "") == want["xero_url"]
    assert not [
        c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"
    ]


def test_many_flagged_rows_get_category_words_and_links(monkeypatch):
    """Past DETAIL_MAX rows: the categories' titles and actions, links column-wise."""
    from sqlalchemy.orm import Session

    from pxflask.models import Base
    from pxflask.reconcile import reasons
    from pxflask.reconcile.report import reconcile
    from tests.reconcile.helpers import clean_inputs

    inputs = clean_inputs(n=30)
    report = reconcile(
        inputs.perfex_invoices, inputs.xero_invoices.iloc[:0], links=inputs.links
    )
    flagged_rows = report.discrepancies("invoices")
    assert len(flagged_rows) > 3
    monkeypatch.setattr(reasons, "DETAIL_MAX", 2)
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        out = reasons.explain("invoices", report.invoices, session, PERFEX)
    engine.dispose()
    shown = out.loc[flagged_rows.index]
    assert shown["what"].iloc[0].startswith("Invoice ")  # looked up
    last = shown.iloc[-1]
    assert last["what"] == "Missing in Xero"
    assert last["action"] == GLOSSARY["missing_in_xero"].action
    key = flagged_rows["perfex_id"].iloc[-1]
    assert last["perfex_url"] == f"{PERFEX}/admin/invoices/list_invoices/{key}"
    assert (out.loc[report.invoices["discrepancy"] == "", "why"] == "").all()


def test_only_http_links_become_anchors(flagged):
    """A PERFEX_URL that is not http(s) gives no <a> on the page or in report.html."""
    from pxflask.reconcile.export import render_html
    from pxflask.reconcile.service import load_report

    world, staged, client = flagged
    cached = load_report(world.instance_path)
    frame = cached.report.invoices.copy()
    frame["perfex_url"] = frame["perfex_url"].str.replace(
        PERFEX, "javascript:alert(1)//", regex=False
    )
    report = dataclasses.replace(cached.report, invoices=frame)
    page = render_html(report)
    assert "javascript:alert(1)//" in page  # shown as text
    assert "href='javascript" not in page
