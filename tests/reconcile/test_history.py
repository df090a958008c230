"""The reconciliation history: every report kept, compared, signed off; log export."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from pxflask.models import ReconcileReport, SyncLog, SyncRun
from pxflask.reconcile.history import money_of
from tests.fixtures.webapp import ADMIN_EMAIL, AuthActions, csrf_token


@pytest.fixture
def admin(world_app):
    """A client of the world's panel, signed in as the seeded admin."""
    client = world_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def refresh(client, **form):
    """Post the refresh form with its CSRF token; follow the redirect."""
    token = csrf_token(client, "/reconcile/")
    return client.post(
        "/reconcile/refresh", data={"csrf_token": token, **form}, follow_redirects=True
    )


def entries(world) -> list[ReconcileReport]:
    """The history rows, oldest first."""
    with world.session() as session:
        return list(
            session.scalars(sa.select(ReconcileReport).order_by(ReconcileReport.id))
        )


def void_one(world) -> dict:
    """Void an unpaid Xero invoice behind Perfex's back; return it."""
    unpaid = next(
        i
        for i in world.xero("Invoices")
        if i["Status"] == "AUTHORISED" and not i["AmountPaid"]
    )
    world.sandbox.inject.void_invoice(unpaid["InvoiceID"])
    return unpaid


def test_two_refreshes_keep_two_reports(world, admin):
    """Each refresh is a new report: both kept, listed, each openable."""
    refresh(admin)
    void_one(world)
    page = refresh(admin).get_data(as_text=True)
    assert "Kept as report #2" in page
    first, second = entries(world)
    assert (first.trigger, first.generated_by) == ("panel", ADMIN_EMAIL)
    assert second.date_from is None and second.tolerance == "0"
    for entry in (first, second):
        assert (world.instance_path / "reconcile" / entry.path / "meta.json").is_file()
    assert page.count('class="history-row"') == 2
    assert 'href="/reconcile/reports/1"' in page and "compare with previous" in page
    old = admin.get("/reconcile/reports/1")
    assert old.status_code == 200 and "Reconciliation report #1" in old.text
    csv = admin.get("/reconcile/reports/1/download/invoices.csv").text
    assert "status_differs" not in csv  # the first report, not the latest
    assert "status_differs" in admin.get("/reconcile/download/invoices.csv").text
    assert admin.get("/reconcile/reports/99").status_code == 404
    assert admin.get("/reconcile/reports/1/download/secret.txt").status_code == 404


def test_history_pages(world, admin, world_app):
    """The list is paginated: 21 reports make two pages."""
    refresh(admin)
    with world.session() as session:
        row = session.get(ReconcileReport, 1)
        for _ in range(20):
            session.add(
                ReconcileReport(
                    tolerance="0",
                    generated_by="x@example.com",
                    trigger="panel",
                    figures=row.figures,
                    path="reports/missing",
                )
            )
        session.commit()
    first = admin.get("/reconcile/").text
    assert first.count('class="history-row"') == 20 and "Older →" in first
    second = admin.get("/reconcile/?hpage=2").text
    assert second.count('class="history-row"') == 1 and "#1</a>" in second
    past = admin.get("/reconcile/?hpage=9").text  # past the end: the last page
    assert past.count('class="history-row"') == 1 and "Page 2 / 2" in past
    gone = admin.get("/reconcile/reports/2")  # files missing: figures still shown
    assert gone.status_code == 200 and "no longer in the instance folder" in gone.text
    assert admin.get("/reconcile/reports/2/download/report.xlsx").status_code == 404


def test_cli_adds_to_the_history(world, world_app, admin):
    """`pxflask reconcile` is a new report: the panel's stays, both listed."""
    refresh(admin)
    result = world_app.test_cli_runner().invoke(args=["reconcile"])
    assert result.exit_code == 0, result.output
    assert "kept as report #2" in result.output
    panel, cli = entries(world)
    assert panel.trigger == "panel" and cli.trigger == "cli"
    assert re.fullmatch(r"cli:\S+", cli.generated_by)
    assert admin.get("/reconcile/reports/1/download/report.html").status_code == 200
    page = admin.get("/reconcile/").text
    assert page.count('class="history-row"') == 2 and cli.generated_by in page


def test_compare_shows_the_difference(world, admin):
    """Compare with previous: the new flag and its money, per currency."""
    refresh(admin)
    voided = void_one(world)
    refresh(admin)
    _, second = entries(world)
    money = money_of(second)
    currency = voided["CurrencyCode"]
    assert money[currency] > 0
    page = admin.get("/reconcile/reports/2/compare").text
    assert "Report #2 against #1" in page
    row = re.search(r"<tr><td>invoices/status_differs</td>(.*?)</tr>", page)
    assert row and re.findall(r">([^<]*)</td>", row.group(1)) == ["0", "1", "+1"]
    row = re.search(rf"<tr><td>{currency}</td>(.*?)</tr>", page)
    cells = re.findall(r">([^<]*)</td>", row.group(1))
    assert cells == ["0.00", str(money[currency]), f"+{money[currency]}"]
    first = admin.get("/reconcile/reports/1/compare", follow_redirects=True)
    assert "nothing to compare it with" in first.text
    picked = admin.get("/reconcile/reports/1/compare?with=2").text
    assert "Report #1 against #2" in picked
    assert admin.get("/reconcile/reports/1/compare?with=7").status_code == 404


def test_sign_off_recorded_and_shown_on_the_cover(world, admin):
    """A sign-off records who and when; the page, history and XLSX cover say it."""
    refresh(admin)
    token = csrf_token(admin, "/reconcile/reports/1")
    answer = admin.post(
        "/reconcile/reports/1/sign-off",
        data={"csrf_token": token, "comment": "=checked against bank"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert f"Report #1 signed off by {ADMIN_EMAIL}" in answer.text
    (entry,) = entries(world)
    assert entry.signed_off_by == ADMIN_EMAIL and entry.signed_off_at is not None
    assert entry.sign_off_comment == "=checked against bank"
    assert "signed off</span> " + ADMIN_EMAIL in admin.get("/reconcile/").text
    for url in (
        "/reconcile/reports/1/download/report.xlsx",
        "/reconcile/download/report.xlsx",
    ):
        book = openpyxl.load_workbook(io.BytesIO(admin.get(url).data))
        cover = {r[0]: r[1] for r in book["cover"].iter_rows(values_only=True)}
        assert cover["Signed off"].startswith(f"by {ADMIN_EMAIL} on ")
        assert cover["Signed off"].endswith(": =checked against bank")
        signed = next(
            r for r in book["cover"].iter_rows() if r[0].value == "Signed off"
        )
        assert signed[1].data_type == "s"  # text, not a formula


def test_double_sign_off_and_deleting_a_signed_report_are_refused(world, admin):
    """Signing off twice is refused; a signed-off report cannot be deleted."""
    refresh(admin)
    refresh(admin)
    assert admin.post("/reconcile/reports/1/sign-off").status_code == 400  # no CSRF
    token = csrf_token(admin, "/reconcile/reports/1")
    first = admin.post(
        "/reconcile/reports/1/sign-off", data={"csrf_token": token, "comment": "ok"}
    )
    assert first.status_code == 302
    again = admin.post(
        "/reconcile/reports/1/sign-off", data={"csrf_token": token, "comment": "2nd"}
    )
    assert again.status_code == 409 and "already signed off by" in again.text
    gone = admin.post("/reconcile/reports/1/delete", data={"csrf_token": token})
    assert gone.status_code == 409 and "it is kept" in gone.text
    first_row, second_row = entries(world)
    assert first_row.sign_off_comment == "ok"
    deleted = admin.post("/reconcile/reports/2/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert [e.id for e in entries(world)] == [1]
    assert not (world.instance_path / "reconcile" / second_row.path).exists()
    assert (
        admin.post(
            "/reconcile/reports/9/sign-off", data={"csrf_token": token}
        ).status_code
        == 404
    )


def _log_row(world, message: str) -> None:
    """One sync log row whose message starts like a formula."""
    with world.session() as session:
        run = SyncRun(scope="invoices", status="finished")
        session.add(run)
        session.flush()
        session.add(
            SyncLog(
                run_id=run.id,
                entity="invoices",
                perfex_key="7",
                action="create",
                outcome="failed",
                message=message,
            )
        )
        session.commit()


def test_reset_offers_the_sync_log_export_first(world, admin, world_app, tmp_path):
    """The reset page links the log's CSV before the confirmation; CLI too."""
    _log_row(world, "=HYPERLINK('http://x')")
    page = admin.get("/reset/").text
    assert page.index('href="/reset/sync-log.csv"') < page.index('name="confirm"')
    answer = admin.get("/reset/sync-log.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="sync-log_\d{4}-\d\d-\d\d\.csv"',
        answer.headers["Content-Disposition"],
    )
    body = answer.data.decode("utf-8")
    assert body.startswith("\ufeffid,run_id,created_at,entity,perfex_key")
    assert "\"'=HYPERLINK('http://x')\"" in body
    with world.session() as session:
        rows = session.scalar(sa.select(sa.func.count(SyncLog.id)))
    assert len(list(csv.reader(io.StringIO(body[1:])))) == rows + 1
    out = Path(tmp_path) / "log.csv"
    result = world_app.test_cli_runner().invoke(args=["sync-log", "--csv", str(out)])
    assert result.exit_code == 0 and f"wrote {rows:,} log row(s)" in result.output
    assert out.read_text(encoding="utf-8") == body
