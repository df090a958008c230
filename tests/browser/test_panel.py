"""The admin's whole journey in a real browser (Playwright + Debian's Chromium).

Sign in, connect through the sandbox's consent page, fetch the chart, map
accounts, sync with a live progress bar, open a failed record, fix the mapping,
retry, delete a payment in Xero, reconcile (a flagged row with its reason and
links, the month-end page, the kept report's cover), and reset (from the Settings
page's danger zone). Screenshots land in docs/screenshots/ for the README.
"""

from __future__ import annotations

import html
import io
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect, sync_playwright
from werkzeug.serving import make_server

from pxflask.extensions import db
from pxflask.models import Link
from pxflask.queueing import close_queue
from pxflask.sync.settings import load_settings, set_setting
from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD, make_test_app
from tests.web.css_contrast import contrast

CHROMIUM = "/usr/bin/chromium"
SHOTS_ENV = "PXFLASK_SCREENSHOTS_DIR"  # `make screenshots`: docs/screenshots
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_app(tmp_path, perfex_copy_url, xero_sandbox) -> Iterator[tuple[str, object]]:
    """The panel served on a loopback port, wired to the sandbox."""
    server = make_server("127.0.0.1", 0, app=None, threaded=True)  # reserve a port
    port = server.port
    server.server_close()
    base = f"http://127.0.0.1:{port}"
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        XERO_REDIRECT_URI=f"{base}/connection/callback",
        PERFEX_URL="https://crm.example.com",  # rows link to Perfex admin pages
        **xero_sandbox.config,
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, app
    finally:
        server.shutdown()
        thread.join(timeout=5)
        close_queue(app)


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh headless Chromium page."""
    assert Path(CHROMIUM).exists(), "install Debian's chromium (scripts/services.sh)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()


def text_contrast(element: Locator) -> float:
    """WCAG contrast of an element's text on its background, as Chromium draws it."""
    colour, background = element.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    return contrast(colour, background)


def wait_for_idle_sync(page: Page, base: str) -> None:
    """Reload the dashboard until no run is queued or running."""
    page.goto(f"{base}/sync/")
    for _ in range(120):
        if page.locator(".run-progress").count() == 0:
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError("the sync did not finish")


def visit_month_end_pages(page: Page, base: str, shots: Path) -> None:
    """A flagged row with its reason and links, the month-end page, a report's cover."""
    page.goto(f"{base}/reconcile/?scope=payments&category=any")
    rows = page.locator("table#rows")
    expect(rows).to_be_visible()
    heads = rows.locator("thead th")
    assert heads.nth(0).inner_text().strip() == "discrepancy"
    assert [heads.nth(i).inner_text().strip() for i in (1, 2, 3)] == [
        "what",
        "why",
        "action",
    ]
    flagged = rows.locator("tbody tr", has=page.locator("td.disc .badge.bad")).first
    expect(flagged).to_be_visible()
    expect(flagged.locator("td.reason").first).not_to_be_empty()
    for label in ("log entry", "Perfex", "Xero"):
        expect(flagged.get_by_role("link", name=label, exact=True)).to_be_visible()
    flagged.scroll_into_view_if_needed()
    page.locator("section.card", has=rows).screenshot(
        path=str(shots / "reconcile-row.png")
    )

    page.goto(f"{base}/reconcile/month-end/")
    expect(page.locator("h1")).to_have_text("Month end: Perfex ↔ Xero")
    for section in ("collections", "as_at", "aging", "tax"):
        expect(page.locator(f"section#{section} h2")).to_be_visible()
    page.screenshot(path=str(shots / "month-end.png"))  # the top: summary, collections

    page.goto(f"{base}/reconcile/")
    page.locator("#history-rows tbody tr a").first.click()
    expect(page.locator("h1")).to_contain_text("Reconciliation report #")
    cover = page.locator("#cover-fields")
    for field in (
        "Organisation",
        "Period",
        "Tolerance",
        "Generated at",
        "Generated by",
    ):
        expect(cover.locator("th", has_text=field).first).to_be_visible()
    page.locator("#cover").screenshot(path=str(shots / "report-cover.png"))
    xlsx = page.locator("#figures .downloads a", has_text=".xlsx").first
    workbook = page.request.get(base + xlsx.get_attribute("href")).body()
    shoot_xlsx_cover(page, workbook, shots / "xlsx-cover.png")


def shoot_xlsx_cover(page: Page, workbook: bytes, path: Path) -> None:
    """The XLSX's cover sheet drawn as a plain table (no spreadsheet app here)."""
    sheet = load_workbook(io.BytesIO(workbook), read_only=True).worksheets[0]
    assert sheet.title == "cover"
    rows = [
        [html.escape(str(v or "")) for v in r]
        for r in sheet.iter_rows(values_only=True)
    ]
    fields = {r[0] for r in rows}
    assert {"Organisation", "Period", "Tolerance", "Generated at"} <= fields
    body = "".join(
        "<tr>" + "".join(f"<{t}>{v}</{t}>" for v in r) + "</tr>"
        for t, r in (("th" if i == 0 else "td", r) for i, r in enumerate(rows))
    )
    page.set_content(
        "<style>body{font:14px sans-serif;margin:12px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "th{background:#eee}</style>"
        f"<div id='sheet' style='display:inline-block;padding:4px'><p>report.xlsx, "
        f"sheet “{sheet.title}” (the first)</p><table>{body}</table></div>"
    )
    page.locator("#sheet").screenshot(path=str(path))


def test_admin_journey(page, live_app, xero_sandbox, tmp_path):
    """Everything an admin does on day one, in the browser."""
    base, app = live_app
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []  # what the Content-Security-Policy refused, if anything
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    page.goto(f"{base}/sync/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Sync")
    expect(page.locator(".steps")).to_contain_text("Connect")

    page.goto(f"{base}/connection/")
    page.click("text=Connect to Xero")
    expect(page.locator("h1")).to_have_text("Allow access")
    page.click("button[value=allow]")
    expect(page.locator("h2")).to_contain_text(
        f"Connected to {xero_sandbox.state.tenant().name}"
    )

    page.goto(f"{base}/settings/")
    page.click("text=Fetch the chart of accounts")
    expect(page).to_have_url(f"{base}/settings/")  # back where the button was
    expect(page.locator(".flash")).to_contain_text("queued (accounts)")
    expect(page.locator("nav.nav a[aria-current=page]")).to_have_text("Settings")
    expect(page.locator("nav.nav")).not_to_contain_text("Reset")
    wait_for_idle_sync(page, base)
    mapped = page.locator(".steps li", has_text="Map a sales account")
    expect(mapped).to_have_class(re.compile(r"\bdone\b"))  # the default 200 exists
    page.goto(f"{base}/settings/")  # the set-up step: Perfex's 'Exempt' 0%
    expect(page.locator("body")).to_contain_text("1 Perfex tax needs a Xero rate")
    page.select_option("#sales_account", "200")
    page.select_option("[id='payment_account.default']", "090")
    for opt_in in ("credit-notes", "estimates"):  # two of the opt-in entities
        page.check(f"input[name=entities][value={opt_in}]")
    save = page.locator("button", has_text="Save settings")
    assert text_contrast(save) >= 4.5
    save.hover()
    assert text_contrast(save) >= 4.5
    save.click()
    expect(page.locator(".flash")).to_contain_text("saved")
    page.screenshot(path=str(shots / "settings.png"), full_page=True)

    with app.app_context():  # the proposal preselected on the page was saved
        assert load_settings(db.session)["tax_rate.4"] == "EXEMPTOUTPUT"
    page.goto(f"{base}/sync/")
    expect(page.locator("body")).not_to_contain_text("a Xero rate")

    with app.app_context():  # a mapping mistake an admin could make in the CLI
        set_setting(db.session, "payment_account.stripe", "200")

    page.goto(f"{base}/sync/")
    page.click("text=Sync all now")
    expect(page.locator(".run-progress .progress")).to_be_visible()
    wait_for_idle_sync(page, base)
    entities = page.locator("table", has_text="Estimates")
    expect(entities).to_contain_text("Credit notes")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    page.goto(f"{base}/sync/log?entity=invoices&outcome=synced")
    page.locator("table tbody tr").first.locator("a").first.click()
    view = page.locator("#xero-links a", has_text="View in Xero")
    expect(view).to_have_attribute(
        "href", re.compile(r"^https://go\.xero\.com/organisationlogin/")
    )
    expect(view).to_have_attribute("rel", "noopener noreferrer")
    page.screenshot(path=str(shots / "record-xero-link.png"), full_page=True)

    page.goto(f"{base}/sync/log?outcome=failed")
    page.screenshot(path=str(shots / "log.png"), full_page=True)
    failed_rows = page.locator("table tbody tr")
    assert failed_rows.count() >= 1
    failed_rows.first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("payments")
    expect(page.locator("body")).to_contain_text("bank accounts")
    page.screenshot(path=str(shots / "record.png"), full_page=True)

    page.goto(f"{base}/settings/")
    page.select_option("[id='payment_account.stripe']", "090")
    page.click("text=Save settings")
    page.goto(f"{base}/sync/")
    page.click("text=Retry all failed")
    wait_for_idle_sync(page, base)
    with app.app_context():
        failed = db.session.query(Link).filter_by(state="failed").count()
        synced_payments = (
            db.session.query(Link).filter_by(entity="payments", state="synced").count()
        )
    assert failed == 0
    assert synced_payments > 0
    with app.app_context():  # a payment deleted in Xero: a row to flag and explain
        deleted = (
            db.session.query(Link)
            .filter_by(entity="payments", state="synced")
            .order_by(Link.id)
            .first()
        )
        assert deleted is not None and deleted.xero_id
    xero_sandbox.inject.delete_payment(deleted.xero_id)

    page.goto(f"{base}/reconcile/")
    page.click("button:has-text('Refresh from Xero')")
    expect(page.locator("h2", has_text="Charts")).to_be_visible()
    expect(page.locator("svg").first).to_be_visible()
    page.screenshot(path=str(shots / "reconcile.png"))
    visit_month_end_pages(page, base, shots)

    page.goto(f"{base}/settings/")
    page.click("#danger-zone >> text=Reset sync links")
    expect(page).to_have_url(f"{base}/reset/")
    page.fill("#confirm", xero_sandbox.state.tenant().name)
    page.click("text=Reset links")
    expect(page.locator(".flash")).to_contain_text("eset")
    with app.app_context():
        assert db.session.query(Link).count() == 0
    assert blocked == []
