"""Links back to Xero on the record page and the log rows (safe links only)."""

from __future__ import annotations

import re

from pxflask.extensions import db
from pxflask.models import Link, SyncCursor, SyncLog, XeroDocumentLink
from pxflask.sync.organisation import SHORT_CODE

XERO_ID = "0b7f2c4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"
OTHER_ID = "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
ONLINE = "https://in.xero.com/AbCdEf0123456789"
DEEP = (
    "https://go.xero.com/organisationlogin/default.aspx?shortcode=!Xy12Z"
    f"&amp;redirecturl=/AccountsReceivable/View.aspx?InvoiceID={XERO_ID}"
)


def _seed(app, online_url: str = ONLINE) -> tuple[int, int]:
    """A linked invoice with its URL and e-mail state; two log rows (ids)."""
    with app.app_context():
        db.session.add_all(
            [
                SyncCursor(name=SHORT_CODE, value="!Xy12Z"),
                Link(
                    entity="invoices", perfex_key="7", xero_id=XERO_ID, state="synced"
                ),
                XeroDocumentLink(
                    entity="invoices",
                    xero_id=XERO_ID,
                    online_url=online_url,
                    email_state="refused",
                    email_message="Xero did not e-mail the invoice: no address",
                ),
            ]
        )
        ours = SyncLog(
            entity="invoices",
            perfex_key="7",
            xero_id=XERO_ID,
            action="create",
            outcome="synced",
        )
        item = SyncLog(
            entity="items",
            perfex_key="3",
            xero_id=OTHER_ID,
            action="create",
            outcome="synced",
        )
        db.session.add_all([ours, item])
        db.session.commit()
        return ours.id, item.id


def _anchors(page: str, href_start: str) -> list[str]:
    """The <a> tags whose href starts with href_start."""
    return re.findall(rf'<a [^>]*href="{re.escape(href_start)}[^"]*"[^>]*>', page)


def test_the_record_page_links_to_xero_and_the_online_invoice(app, admin):
    """View in Xero (deep link) and Online invoice, opened without an opener."""
    log_id, _ = _seed(app)
    page = admin.get(f"/sync/log/{log_id}").get_data(as_text=True)
    assert "Links to Xero" in page
    assert f'href="{DEEP}"' in page and f'href="{ONLINE}"' in page
    for tag in _anchors(page, "https://"):
        assert 'rel="noopener noreferrer"' in tag and 'target="_blank"' in tag
    assert "View in Xero" in page and "Online invoice" in page
    assert "refused" in page and "no address" in page


def test_the_log_rows_carry_the_links(app, admin):
    """The invoice row links to Xero; an item (no deep link kind) shows none."""
    _seed(app)
    page = admin.get("/sync/log").get_data(as_text=True)
    assert page.count(f'href="{DEEP}"') == 1 and page.count(f'href="{ONLINE}"') == 1
    assert OTHER_ID not in page


def test_a_url_off_xeros_hosts_is_never_a_link(app, admin):
    """A stored URL that is not https on a Xero host is not shown at all."""
    log_id, _ = _seed(app, online_url="javascript:alert(document.cookie)")
    page = admin.get(f"/sync/log/{log_id}").get_data(as_text=True)
    assert "javascript:" not in page
    assert "Online invoice" not in page and f'href="{DEEP}"' in page


def test_no_short_code_no_deep_link(app, admin):
    """Before a sync read the organisation, only the online invoice is linked."""
    log_id, _ = _seed(app)
    with app.app_context():
        db.session.query(SyncCursor).delete()
        db.session.commit()
    page = admin.get(f"/sync/log/{log_id}").get_data(as_text=True)
    assert "View in Xero" not in page and f'href="{ONLINE}"' in page


def test_the_email_switch_is_on_the_settings_page_off_by_default(app, admin):
    """The opt-in shows 'No' until the admin chooses 'Yes'; then it is stored."""
    from pxflask.sync.settings import load_settings
    from tests.web.test_settings_page import _post

    page = admin.get("/settings/").get_data(as_text=True)
    assert 'name="xero_emails_invoices"' in page
    assert '<option value="no" selected' in page.split('id="xero_emails_invoices"')[1]
    assert _post(admin, xero_emails_invoices="yes").status_code == 302
    with app.app_context():
        assert load_settings(db.session)["xero_emails_invoices"] == "yes"
