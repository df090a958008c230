"""The tax set-up step: the organisation's rates to choose from, saved with CSRF."""

from __future__ import annotations

import json

from pxflask.extensions import db
from pxflask.models import XeroTaxRate
from pxflask.sync.links import store_cursor
from pxflask.sync.organisation import COUNTRY
from pxflask.sync.settings import load_settings
from tests.fixtures.webapp import csrf_token

UK_RATES = [
    ("OUTPUT2", "20% (VAT on Income)", "20.00", "OUTPUT", True, False),
    ("INPUT2", "20% (VAT on Expenses)", "20.00", "INPUT", False, True),
    ("RROUTPUT", "5% (VAT on Income)", "5.00", "OUTPUT", True, False),
    ("ZERORATEDOUTPUT", "Zero Rated Income", "0.00", "OUTPUT", True, False),
    ("EXEMPTOUTPUT", "Exempt Income", "0.00", "EXEMPTOUTPUT", True, False),
    ("NONE", "No VAT", "0.00", "NONE", True, True),
]


def _cache_uk_rates(app) -> None:
    """The rates and country a sync against a UK organisation leaves cached."""
    with app.app_context():
        for tax_type, name, rate, report, revenue, expenses in UK_RATES:
            db.session.add(
                XeroTaxRate(
                    tax_type=tax_type,
                    name=name,
                    rate=rate,
                    report_tax_type=report,
                    can_revenue=revenue,
                    can_expenses=expenses,
                    status="ACTIVE",
                    components=json.dumps([["VAT", rate]]),
                )
            )
        store_cursor(db.session, COUNTRY, "GB", commit=True)


def test_settings_offer_the_organisations_revenue_rates_with_the_proposal(app, admin):
    """Each Perfex tax gets a select of revenue rates; the ambiguous 0% is proposed."""
    _cache_uk_rates(app)
    page = admin.get("/settings/").get_data(as_text=True)
    assert '<select id="tax_rate.4" name="tax_rate.4"' in page
    assert "Exempt Income — 0% — EXEMPTOUTPUT" in page
    assert "20% (VAT on Income) — 20% — OUTPUT" in page
    select = page[page.index('<select id="tax_rate.4"') :]
    select = select[: select.index("</select>")]
    assert '<option value="EXEMPTOUTPUT" selected>' in select
    assert 'value="INPUT2"' not in select, "expenses-only rates are not offered"
    assert "1 Perfex tax needs a Xero rate" in page
    assert "automatic: 20% (VAT on Income) — 20% — OUTPUT" in page
    assert "automatic: a new rate &#39;GST 10%&#39; (OUTPUT)" in page
    assert 'name="import_xero_taxes"' in page


def test_dashboard_asks_and_saving_the_choice_clears_the_step(app, admin):
    """The dashboard shows the question; the saved mapping is stored and it goes."""
    _cache_uk_rates(app)
    page = admin.get("/sync/").get_data(as_text=True)
    assert "1 Perfex tax needs a Xero rate" in page
    assert "Exempt (0%)" in page
    token = csrf_token(admin, "/sync/")
    answer = admin.post(
        "/settings/taxes",
        data={"csrf_token": token, "tax_rate.4": "ZERORATEDOUTPUT", "next": "sync"},
    )
    assert answer.status_code == 302 and answer.location.endswith("/sync/")
    with app.app_context():
        assert load_settings(db.session)["tax_rate.4"] == "ZERORATEDOUTPUT"
    page = admin.get("/sync/").get_data(as_text=True)
    assert "need a Xero rate" not in page and "needs a Xero rate" not in page


def test_a_rate_that_cannot_apply_to_revenue_is_refused(app, admin):
    """INPUT2 for a sales tax: not saved, with the reason."""
    _cache_uk_rates(app)
    token = csrf_token(admin, "/sync/")
    answer = admin.post(
        "/settings/taxes",
        data={"csrf_token": token, "tax_rate.4": "INPUT2"},
        follow_redirects=True,
    )
    assert "usable on sales (revenue) lines" in answer.get_data(as_text=True)
    with app.app_context():
        assert load_settings(db.session).get("tax_rate.4", "") == ""


def test_saving_without_csrf_is_refused(app, admin):
    """The tax form needs its CSRF token."""
    _cache_uk_rates(app)
    answer = admin.post("/settings/taxes", data={"tax_rate.4": "EXEMPTOUTPUT"})
    assert answer.status_code == 400
    with app.app_context():
        assert load_settings(db.session).get("tax_rate.4", "") == ""


def test_the_import_checkbox_switches_import_xero_taxes(app, admin):
    """Ticking 'Import Xero's sales rates' stores yes, unticking it stores no."""
    base = {
        "sales_account": "200",
        "rounding_account": "860",
        "drafts": "skip",
        "sync_mode": "manual",
        "schedule": "15",
        "watch_interval": "30",
        "entities": ["customers", "items", "invoices"],
        "import_xero_taxes_shown": "1",
    }
    token = csrf_token(admin, "/settings/")
    on = admin.post(
        "/settings/",
        data={**base, "import_xero_taxes": "yes", "csrf_token": token},
    )
    assert on.status_code == 302
    with app.app_context():
        assert load_settings(db.session)["import_xero_taxes"] == "yes"
    admin.post("/settings/", data={**base, "csrf_token": token})
    with app.app_context():
        assert load_settings(db.session)["import_xero_taxes"] == "no"
