"""Panel polish: contrast, chart text, live progress, nav, set-up, timestamps."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from pxflask.extensions import db
from pxflask.jobs import request_sync
from pxflask.models import Setting, SyncLog, SyncRun, XeroAccount, XeroConnection
from pxflask.queueing import DEFAULT_QUEUE, SYNC_QUEUE, get_queue
from pxflask.reconcile.charts import category_chart, monthly_chart
from tests.fixtures.gate import workers_held
from tests.fixtures.webapp import AuthActions, csrf_token, serve_connected
from tests.web.css_contrast import CSS_FILE, Element, computed, contrast, parse_css

AA_TEXT = 4.5
CARD, PAGE, TOPBAR = "#ffffff", "#f5f7fa", "#0f2a3a"
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d|T\d{2}:\d{2}")
NAV = re.compile(r'<nav class="nav"[^>]*>(.*?)</nav>', re.S)
SVG = "{http://www.w3.org/2000/svg}"


def _elements() -> dict[str, Element]:
    """Every button and link style of the panel, in every state, on its backdrop."""
    found: dict[str, Element] = {}
    for variant in ("", ".primary", ".danger"):
        for state in ("", ":hover", ":focus", ":disabled"):
            classes = {p for p in (variant, state) if p}
            found[f"button{variant}{state}"] = Element("button", frozenset(classes))
            if state != ":disabled":
                found[f"a.button{variant}{state}"] = Element(
                    "a", frozenset({".button", *classes})
                )
    for state in ("", ":hover"):
        found[f"a{state} on a card"] = Element("a", frozenset({state} - {""}))
        found[f"a{state} on the page"] = Element(
            "a", frozenset({state} - {""}), backdrop=PAGE
        )
        found[f"topbar button.link{state}"] = Element(
            "button",
            frozenset({".link", state} - {""}),
            frozenset({".topbar", ".signout"}),
            TOPBAR,
        )
        for active in ("", ".active"):
            found[f"nav a{active}{state}"] = Element(
                "a",
                frozenset({active, state} - {""}),
                frozenset({".topbar", ".nav"}),
                TOPBAR,
            )
    return found


def test_wcag_contrast_formula_matches_known_pairs():
    """Black on white is 21:1, equal colours 1:1, the old primary button 2.38:1."""
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)
    assert round(contrast("#fff", "#13b5ea"), 2) == 2.38


def test_every_button_and_link_state_has_text_contrast_of_4_5():
    """Text against background is at least 4.5:1 for each button and link state."""
    _, rules = parse_css(CSS_FILE.read_text(encoding="utf-8"))
    low = {}
    for name, element in _elements().items():
        colour, background = computed(rules, element)
        ratio = contrast(colour, background)
        if ratio < AA_TEXT:
            low[name] = f"{colour} on {background}: {ratio:.2f}:1"
    assert low == {}


def test_status_text_badges_and_field_errors_have_contrast_of_4_5():
    """Flashes, badges, hints, muted text and field errors are readable too."""
    _, rules = parse_css(CSS_FILE.read_text(encoding="utf-8"))
    elements = {
        f"flash {kind}": Element("div", frozenset({".flash", f".flash-{kind}"}))
        for kind in ("error", "info", "message", "success", "warning")
    }
    for kind in (
        "",
        "ok",
        "synced",
        "failed",
        "bad",
        "pending",
        "warn",
        "skipped",
        "blocked",
        "received",
        "ignored",
    ):
        elements[f"badge {kind}"] = Element(
            "span", frozenset({".badge", f".{kind}"} - {"."})
        )
    for name in ("field-error", "hint", "muted"):
        elements[f"{name} on a card"] = Element("div", frozenset({f".{name}"}))
        elements[f"{name} on the page"] = Element(
            "div", frozenset({f".{name}"}), backdrop=PAGE
        )
    low = {}
    for name, element in elements.items():
        colour, background = computed(rules, element)
        if contrast(colour, background) < AA_TEXT:
            low[name] = f"{colour} on {background}"
    assert low == {}


def _nav(page: str) -> str:
    """The main navigation's HTML."""
    match = NAV.search(page)
    assert match, "no main navigation"
    return match.group(1)


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/sync/", "/sync/"),
        ("/sync/log", "/sync/log"),
        ("/settings/", "/settings/"),
        ("/reset/", "/settings/"),
    ],
)
def test_the_active_nav_item_is_the_current_page(admin, path, current):
    """Exactly one nav link carries aria-current="page": the page's own entry."""
    nav = _nav(admin.get(path).get_data(as_text=True))
    marked = re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', nav)
    assert marked == [current]


def test_reset_is_off_the_nav_and_linked_from_the_settings_danger_zone(admin):
    """The everyday nav has no Reset; Settings ends with a Danger zone linking to it."""
    for path in ("/sync/", "/settings/", "/reconcile/"):
        nav = _nav(admin.get(path).get_data(as_text=True))
        assert "/reset/" not in nav and "Reset" not in nav
    settings = admin.get("/settings/").get_data(as_text=True)
    zone = settings[settings.index('id="danger-zone"') :]
    assert "Danger zone" in zone and 'href="/reset/"' in zone
    assert settings.index("Save settings") < settings.index('id="danger-zone"')
    assert admin.get("/reset/").status_code == 200


def test_sync_progress_is_a_polite_live_region(app, admin):
    """Each running sync's card is aria-live polite, with a labelled progress bar."""
    with app.app_context():
        db.session.add(SyncRun(scope="all", trigger="manual", status="running"))
        db.session.commit()
    page = admin.get("/sync/").get_data(as_text=True)
    card = re.search(r'<section class="card run-progress"[^>]*>', page)
    assert card and 'aria-live="polite"' in card.group(0)
    assert 'role="progressbar"' in page and 'aria-valuenow="0"' in page


def _fetch_chart_form(page: str) -> dict[str, str]:
    """The hidden fields of the settings page's fetch-the-chart form."""
    start = page.index('action="/sync/run"')
    form = page[start : page.index("</form>", start)]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


def test_fetching_the_chart_from_settings_returns_to_settings(app, admin):
    """The settings page's fetch button queues the run and comes back to Settings."""
    with workers_held(get_queue(app), SYNC_QUEUE):
        fields = _fetch_chart_form(admin.get("/settings/").get_data(as_text=True))
        assert fields["entity"] == "accounts"
        answer = admin.post("/sync/run", data=fields)
        assert answer.status_code == 302
        assert answer.headers["Location"].endswith("/settings/")
        back = admin.get("/settings/").get_data(as_text=True)
        assert "queued (accounts)" in back
        assert "Fetching the chart of accounts (run #" in back
        fields.update(back="https://elsewhere.example/", entity="items")
        other = admin.post("/sync/run", data=fields)
        assert other.headers["Location"].startswith("/sync/")


def _steps(page: str) -> dict[str, bool]:
    """The dashboard's set-up steps: title -> ticked."""
    items = re.findall(r'<li class="([^"]*)">\s*(?:<a [^>]*>)?<strong>([^<]+)', page)
    return {title: "done" in cls for cls, title in items}


@pytest.fixture
def connected_app(tmp_path, perfex_copy_url, xero_sandbox):
    """The app connected to the sandbox's demo organisation (Custom Connection)."""
    yield from serve_connected(tmp_path, perfex_copy_url, xero_sandbox)


@pytest.fixture
def connected_admin(connected_app):
    """A client of the connected app, signed in."""
    client = connected_app.test_client()
    assert AuthActions(client).login().status_code == 302
    return client


def test_the_mapping_step_ticks_when_the_demo_defaults_are_mapped(
    connected_app, connected_admin
):
    """With the demo chart fetched, the default sales account 200 counts as mapped."""
    before = _steps(connected_admin.get("/sync/").get_data(as_text=True))
    assert before == {
        "Connect Xero first": True,
        "Map a sales account": False,
        "Run a first sync": False,
    }
    run = request_sync(connected_app, ["accounts"], "manual").run
    get_queue(connected_app).wait(run.job_id, timeout=60)
    with connected_app.app_context():
        assert db.session.get(Setting, "sales_account") is None
        assert db.session.scalar(select(XeroAccount).filter_by(code="200")) is not None
    after = _steps(connected_admin.get("/sync/").get_data(as_text=True))
    assert after == {
        "Connect Xero first": True,
        "Map a sales account": True,
        "Run a first sync": False,  # fetching the chart sent nothing to Xero
    }


def test_the_mapping_step_waits_when_the_default_account_is_missing(app, admin):
    """A cached chart without account 200 and no choice saved: not mapped yet."""
    with app.app_context():
        db.session.add(
            XeroAccount(account_id="a-1", code="201", name="Other", type="REVENUE")
        )
        db.session.commit()
    steps = _steps(admin.get("/sync/").get_data(as_text=True))
    assert steps["Map a sales account"] is False


def test_when_shows_minutes_or_seconds_in_utc_without_microseconds():
    """Datetimes (naive is UTC), aware ones and ISO text lose their microseconds."""
    from pxflask.panel.timestamps import when

    moment = datetime(2026, 11, 30, 23, 59, 58, 987654)
    assert when(moment) == "2026-11-30 23:59"
    assert when(moment, "second") == "2026-11-30 23:59:58"
    assert when(moment, "clock") == "23:59:58"
    assert when(moment.replace(tzinfo=UTC).isoformat()) == "2026-11-30 23:59"
    assert when(None) == "—" and when(date(2026, 1, 2)) == "2026-01-02"


def test_panel_pages_show_no_microseconds(connected_app, connected_admin):
    """Dashboard, log, log entry and connection pages print times without fractions."""
    moment = datetime(2026, 11, 30, 23, 59, 58, 987654)
    with connected_app.app_context():
        run = SyncRun(
            scope="items",
            trigger="manual",
            status="done",
            started_at=moment,
            finished_at=moment,
        )
        db.session.add(run)
        db.session.flush()
        entry = SyncLog(
            entity="items",
            action="create",
            outcome="ok",
            run_id=run.id,
            created_at=moment,
        )
        db.session.add(entry)
        connection = db.session.scalar(select(XeroConnection))
        connection.access_expires_at = moment
        db.session.commit()
        entry_id = entry.id
    for path in ("/sync/", "/sync/log", f"/sync/log/{entry_id}", "/connection/"):
        page = connected_admin.get(path).get_data(as_text=True)
        assert "2026-11-30 23:59" in page, path
        assert MICROSECONDS.search(page) is None, (path, MICROSECONDS.search(page))


def test_relink_preview_progress_is_a_polite_live_region(
    connected_app, connected_admin
):
    """While the re-link preview reads Xero, its card is a polite live region."""
    with workers_held(get_queue(connected_app), DEFAULT_QUEUE):
        token = csrf_token(connected_admin, "/reset/")
        started = connected_admin.post("/reset/relink", data={"csrf_token": token})
        page = connected_admin.get(started.headers["Location"]).get_data(as_text=True)
    assert "Reading contacts and invoices from Xero" in page
    assert '<section class="card" aria-live="polite">' in page
    assert 'role="progressbar"' in page


def _described(svg: str) -> tuple[str, str]:
    """The chart's accessible name and description, checked to be wired up."""
    root = ET.fromstring(svg)  # noqa: S314 - our own chart, not untrusted input
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id
    assert desc is not None and desc.get("id") == desc_id
    return title.text or "", desc.text or ""


def test_charts_have_a_title_and_a_text_alternative():
    """Each SVG chart is an image with a <title> and a <desc> stating its figures."""
    by_month = pd.DataFrame(
        {
            "month": ["2026-10", "2026-11", "2026-11"],
            "currency": ["GBP", "GBP", "EUR"],
            "perfex_total_cents": [123450, 50000, 99],
            "xero_total_cents": [123450, 45000, 99],
        }
    )
    title, desc = _described(monthly_chart(by_month))
    assert "per month" in title
    assert "2026-11: Perfex 500.00, Xero 450.00" in desc and "EUR" in desc
    assert "2026-11: Perfex 500.00, Xero 450.00 (differs by 50.00)" in desc
    assert "2026-10: Perfex 1,234.50, Xero 1,234.50;" in desc  # equal: no gap
    summary = pd.DataFrame(
        {
            "scope": ["invoices", "payments"],
            "category": ["total_differs", "missing"],
            "count": [3, 0],
        }
    )
    title, desc = _described(category_chart(summary))
    assert title == "Discrepancies by category"
    assert "invoices: total_differs: 3 rows" in desc
    empty = monthly_chart(by_month.iloc[0:0])
    assert "No posted invoices" in _described(empty)[1]
