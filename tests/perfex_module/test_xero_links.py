"""The Perfex invoice page: "View in Xero", "Online invoice" from the panel's API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pxflask.extensions import db
from pxflask.models import Link, SyncCursor, XeroDocumentLink
from pxflask.sync.organisation import SHORT_CODE
from tests.fixtures.webapp import make_test_app
from tests.perfex_module.php import HERE, free_port, run_php, served

TOKEN = "module-hook-token-0123456789"  # noqa: S105 - a test token
XERO_ID = "0b7f2c4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"
ONLINE = "https://in.xero.com/AbCdEf0123456789"
DEEP = (
    "https://go.xero.com/organisationlogin/default.aspx?shortcode=!Xy12Z"
    f"&amp;redirecturl=/AccountsReceivable/View.aspx?InvoiceID={XERO_ID}"
)


def render(panel: str, token: str, invoice_id: int, admin: bool = True) -> dict:
    """The module's output on the invoice page hook: {"html", "seconds", "log"}."""
    done = run_php(
        str(HERE / "driver.php"),
        "invoice",
        panel,
        token,
        str(invoice_id),
        "1" if admin else "0",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def panel(tmp_path, perfex_copy_url) -> Iterator[tuple[str, object]]:
    """The panel (hook token set) with invoice 7 linked, its URL stored."""
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_HOOK_TOKEN=TOKEN)
    with app.app_context():
        db.session.add_all(
            [
                SyncCursor(name=SHORT_CODE, value="!Xy12Z"),
                Link(
                    entity="invoices", perfex_key="7", xero_id=XERO_ID, state="synced"
                ),
                XeroDocumentLink(entity="invoices", xero_id=XERO_ID, online_url=ONLINE),
                Link(entity="invoices", perfex_key="8", xero_id=None, state="failed"),
            ]
        )
        db.session.commit()
    with served(app) as base:
        yield base, app


def test_the_invoice_page_links_to_xero(panel):
    """A linked invoice: both buttons, opened in a new tab without an opener."""
    base, _ = panel
    out = render(base, TOKEN, 7)
    html = out["html"]
    assert f'href="{DEEP}"' in html and f'href="{ONLINE}"' in html
    assert "View in Xero" in html and "Online invoice" in html
    assert html.count('rel="noopener noreferrer"') == 2
    assert out["log"] == []


def test_nothing_for_unlinked_invoices_or_non_admins(panel):
    """No Xero id, or a staff member who is not an admin: nothing shown."""
    base, _ = panel
    assert render(base, TOKEN, 8)["html"] == ""
    assert render(base, TOKEN, 99)["html"] == ""
    assert render(base, TOKEN, 7, admin=False)["html"] == ""


def test_a_wrong_token_or_a_panel_down_shows_nothing_and_logs(panel):
    """The page renders either way; Perfex's log says why the links are missing."""
    base, _ = panel
    wrong = render(base, "wrong-token", 7)
    assert wrong["html"] == ""
    assert wrong["log"] == ["error: pxflask: links of invoices 7 not read (HTTP 401)"]
    down = render(f"http://127.0.0.1:{free_port()}", TOKEN, 7)
    assert down["html"] == "" and down["seconds"] < 2.5


def test_the_module_only_links_xero_hosts(panel):
    """A URL the panel answers off Xero's hosts is dropped by the module too."""
    base, app = panel
    with app.app_context():
        row = db.session.query(XeroDocumentLink).one()
        row.online_url = "https://in.xero.com.evil.example/x"
        db.session.commit()
    html = render(base, TOKEN, 7)["html"]
    assert "evil" not in html and "Online invoice" not in html
    assert "View in Xero" in html


def test_the_api_needs_the_bearer_token(panel):
    """The panel's endpoint: 401 without the token, JSON with safe links with it."""
    _, app = panel
    client = app.test_client()
    path = "/hooks/perfex/xero-links/invoices/7"
    assert client.get(path).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = client.get(path, headers=auth).get_json()
    assert body["linked"] is True and body["online_url"] == ONLINE
    assert body["deep_link"].startswith("https://go.xero.com/organisationlogin/")
    assert (
        client.get("/hooks/perfex/xero-links/nope/7", headers=auth).status_code == 404
    )
    assert (
        client.get("/hooks/perfex/xero-links/invoices/x", headers=auth).status_code
        == 404
    )
    unlinked = client.get(
        "/hooks/perfex/xero-links/invoices/8", headers=auth
    ).get_json()
    assert unlinked == {"entity": "invoices", "id": 8, "linked": False}
