"""The month-end page, its CSV downloads and `pxflask month-end`."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from tests.fixtures.webapp import AuthActions, csrf_token
from tests.reconcile.test_month_end import _store_settings

PAGE = "/reconcile/month-end/"


@pytest.fixture
def admin(world_app):
    """A client of the world's panel, signed in as the seeded admin."""
    client = world_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def _refresh(client) -> None:
    """Refresh the reconciliation from the panel (reads the month-end extras too)."""
    token = csrf_token(client, "/reconcile/")
    page = client.post(
        "/reconcile/refresh", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Report refreshed" in page.get_data(as_text=True)


def test_page_needs_sign_in(world_app):
    """Anonymous visitors are sent to the sign-in page, CSVs too."""
    client = world_app.test_client()
    for url in (PAGE, PAGE + "aging.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page_before_any_refresh_says_what_to_do(admin):
    """No Xero snapshot yet: a clear empty state, no traceback."""
    page = admin.get(PAGE + "?as_at=2025-11-30")
    assert page.status_code == 200
    assert "No Xero data yet" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "as_at=2025-13-01",
        "as_at=30/11/2025",
        "as_at=2025-11-30&from=2025-12-01",
        "as_at=" + "9" * 300,
        "from=nope",
        "as_at=9999-12-31",
        "as_at=2025-11-30&from=0001-01-01",
    ],
)
def test_bad_dates_are_400(admin, query):
    """A malformed date or a period ending before it starts: 400, not 500."""
    for url in (PAGE, PAGE + "aging.csv"):
        response = admin.get(f"{url}?{query}")
        assert response.status_code == 400, (url, query)
        assert "Traceback" not in response.get_data(as_text=True)


def test_page_and_csv_after_refresh(world, admin):
    """Every view as a table with its verdict; CSVs with amounts, text defused."""
    _store_settings(world)
    with world.perfex.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE tblclients SET company = '=1+2 Acme' WHERE company = "
                "'Acme Corporation'"
            )
        )
    _refresh(admin)
    reconcile_page = admin.get("/reconcile/").get_data(as_text=True)
    assert 'href="/reconcile/month-end/"' in reconcile_page
    page = admin.get(PAGE + "?as_at=2025-11-30&from=2025-11-01").get_data(as_text=True)
    for title in (
        "Collections",
        "Invoices as at the date",
        "Aged receivables",
        "Tax per rate",
    ):
        assert title in page
    assert "INV-000008" in page and "90+" in page and "61-90" in page
    assert "090 Business Bank Account" in page
    assert admin.get(PAGE + "nothing.csv").status_code == 404
    response = admin.get(PAGE + "collections.csv?as_at=2025-11-30&from=2025-11-01")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        "month_end_collections_2025-11-30.csv"
        in response.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    cheque = [r for r in rows if r["payment_mode"] == "Cheque"]
    assert cheque and cheque[0]["perfex"] == cheque[0]["xero"] == "2997.50"
    assert cheque[0]["customer"].startswith("'=")  # neutralised, not a formula
    aging = admin.get(PAGE + "aging.csv?as_at=2025-11-30").get_data(as_text=True)
    assert "GBP,61-90" in aging.replace('"', "") and "1594.50" in aging


def _invoke(app, *args):
    """Run `pxflask month-end ARGS` against the app."""
    return app.test_cli_runner().invoke(args=["month-end", *args])


def test_cli_writes_every_view(world, world_app, tmp_path):
    """`pxflask month-end --as-at --out`: exit 0 when synced, a CSV per view."""
    _store_settings(world)
    out = tmp_path / "out"
    result = _invoke(world_app, "--as-at", "2025-11-30", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Aged receivables: 18 row(s), both sides agree" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "month_end_aging.csv",
        "month_end_as_at.csv",
        "month_end_collections.csv",
        "month_end_tax.csv",
    ]


def test_cli_bad_date_is_one_line(world_app):
    """A malformed --as-at: exit 2 and one error line."""
    result = _invoke(world_app, "--as-at", "2025-02-30")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: as_at: '2025-02-30' is not a date (YYYY-MM-DD)"
    ]
