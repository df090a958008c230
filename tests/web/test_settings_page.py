"""The settings page: mappings from the cached chart and Perfex, validation."""

from __future__ import annotations

import pytest

from pxflask.extensions import db
from pxflask.jobs import next_due
from pxflask.models import XeroAccount
from pxflask.sync.settings import ENTITY_NAMES, load_settings
from tests.fixtures.webapp import csrf_token

VALID = {
    "sales_account": "200",
    "rounding_account": "860",
    "payment_account.default": "",
    "drafts": "skip",
    "sync_mode": "manual",
    "schedule": "15",
    "watch_interval": "30",
    "sync_from": "",
    "entities": ["customers", "items", "invoices"],
}


def _post(admin, **changes):
    """Submit the settings form with CSRF token."""
    data = {**VALID, **changes, "csrf_token": csrf_token(admin, "/settings/")}
    return admin.post("/settings/", data=data)


def _cache_chart(app) -> None:
    """A small cached chart of accounts."""
    with app.app_context():
        db.session.add_all(
            [
                XeroAccount(
                    account_id="a1",
                    code="200",
                    name="Sales",
                    type="REVENUE",
                    account_class="REVENUE",
                    tax_type="OUTPUT2",
                ),
                XeroAccount(
                    account_id="a2",
                    code="090",
                    name="Business Bank Account",
                    type="BANK",
                    account_class="ASSET",
                    enable_payments=True,
                ),
                XeroAccount(
                    account_id="a3",
                    code="860",
                    name="Rounding",
                    type="CURRLIAB",
                    account_class="LIABILITY",
                ),
            ]
        )
        db.session.commit()


def test_page_lists_perfex_modes_taxes_and_cached_accounts(app, admin):
    """Payment modes and taxes come from Perfex; accounts from the chart cache."""
    _cache_chart(app)
    page = admin.get("/settings/").get_data(as_text=True)
    assert "200 · Sales" in page and "090 · Business Bank Account" in page
    assert 'name="payment_account.1"' in page
    assert 'name="payment_account.stripe"' in page
    assert 'name="tax_rate.1"' in page
    assert '<option value="OUTPUT2">' in page
    assert "chart of accounts is not cached yet" not in page


def test_without_a_chart_the_page_offers_to_fetch_it(admin):
    """No cached accounts: text inputs and a button to fetch the chart."""
    page = admin.get("/settings/").get_data(as_text=True)
    assert "chart of accounts is not cached yet" in page
    assert '<input id="sales_account" name="sales_account"' in page


def test_valid_settings_are_saved(app, admin):
    """A valid form is stored through the settings module."""
    response = _post(
        admin,
        **{
            "payment_account.1": "090",
            "tax_rate.1": "OUTPUT2",
            "sync_from": "2025-01-01",
            "drafts": "draft",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        values = load_settings(db.session)
    assert values["payment_account.1"] == "090"
    assert values["tax_rate.1"] == "OUTPUT2"
    assert values["entities"] == "customers,items,invoices"
    assert values["sync_from"] == "2025-01-01" and values["drafts"] == "draft"


def test_invalid_fields_get_their_own_messages_and_nothing_is_saved(app, admin):
    """Each bad field says what is wrong; the valid ones are not saved either."""
    response = _post(
        admin,
        schedule="every hour",
        sync_from="31/01/2025",
        watch_interval="2",
        drafts="draft",
        **{"payment_account.1": "this code is too long"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "neither minutes nor a cron expression" in page
    assert "is not a date like 2025-01-31" in page
    assert "at least 5" in page
    assert "is not a Xero account code" in page
    with app.app_context():
        assert load_settings(db.session)["drafts"] == "skip"


def test_at_least_one_entity_must_stay_on(admin):
    """Switching every entity off is refused."""
    response = _post(admin, entities=[])
    assert response.status_code == 400
    assert "switch on at least one entity" in response.get_data(as_text=True)


def test_choosing_a_schedule_schedules_the_next_run(app, admin):
    """Scheduled mode with a cron expression: the next run is scheduled."""
    assert _post(admin, sync_mode="scheduled", schedule="0 3 * * *").status_code == 302
    due = next_due(app)["scheduled-sync"]
    assert due is not None and (due.hour, due.minute) == (3, 0)
    page = admin.get("/sync/").get_data(as_text=True)
    assert due.strftime("%H:%M") in page and "schedule 0 3 * * *" in page


def test_every_entity_has_a_switch(admin):
    """The entity switches come from the sync registry."""
    page = admin.get("/settings/").get_data(as_text=True)
    for name in ENTITY_NAMES:
        assert f'name="entities" value="{name}"' in page


def _cache_expense_account(app) -> None:
    """One cached EXPENSE-class account (a choice for expense categories)."""
    with app.app_context():
        db.session.add(
            XeroAccount(
                account_id="a4",
                code="429",
                name="General Expenses",
                type="EXPENSE",
                account_class="EXPENSE",
                tax_type="INPUT2",
            )
        )
        db.session.commit()


def test_page_lists_the_expense_mappings(app, admin):
    """Expense contact, a row per Perfex category and per tax, chart choices."""
    _cache_chart(app)
    _cache_expense_account(app)
    page = admin.get("/settings/").get_data(as_text=True)
    assert 'name="expense_contact" value="Perfex expenses"' in page
    assert 'name="expense_account.1"' in page
    assert "429 · General Expenses" in page
    assert "the category&#39;s linked account" in page
    assert 'name="expense_tax_rate.1" list="tax-types"' in page
    assert '<option value="INPUT2">' in page


@pytest.mark.parametrize(
    ("key", "good", "bad", "message"),
    [
        ("expense_contact", "Office costs", "", "a contact name has 1 to 255"),
        ("expense_contact", "Office costs", "x" * 256, "a contact name has 1 to 255"),
        ("expense_account.1", "429", "far too long code", "is not a Xero account code"),
        ("expense_tax_rate.1", "INPUT2", "input 2", "is not a Xero tax type code"),
    ],
)
def test_expense_fields_are_saved_or_explained(app, admin, key, good, bad, message):
    """A valid value is stored; a bad one shows its message and saves nothing."""
    _cache_chart(app)
    _cache_expense_account(app)
    rejected = _post(admin, **{key: bad})
    assert rejected.status_code == 400
    page = rejected.get_data(as_text=True)
    assert message in page and "Nothing was saved" in page
    assert 'name="csrf_token"' in page
    with app.app_context():
        assert load_settings(db.session).get(key, "") != good
    assert _post(admin, **{key: good}).status_code == 302
    with app.app_context():
        assert load_settings(db.session)[key] == good


def test_an_empty_expense_mapping_falls_back(app, admin):
    """Empty expense account or tax type: stored empty (linked account, automatic)."""
    _post(admin, **{"expense_account.1": "429", "expense_tax_rate.1": "INPUT2"})
    _post(admin, **{"expense_account.1": "", "expense_tax_rate.1": ""})
    with app.app_context():
        values = load_settings(db.session)
    assert values["expense_account.1"] == "" and values["expense_tax_rate.1"] == ""


def test_every_form_on_the_settings_page_carries_a_csrf_token(app, admin):
    """Each form (settings and fetch-the-chart) posts its CSRF token."""
    for page in (
        admin.get("/settings/").get_data(as_text=True),
        _post(admin, expense_contact="").get_data(as_text=True),
    ):
        forms = page.split("<form")[1:]
        assert forms
        assert all('name="csrf_token"' in form.split("</form>")[0] for form in forms)


def test_the_contacts_pull_switch_is_off_and_saved_from_the_form(app, admin):
    """contacts_from_xero: shown off by default, switched on through the form."""
    page = admin.get("/settings/").get_data(as_text=True)
    assert 'name="contacts_from_xero"' in page
    assert '<option value="no" selected>' in page.split('id="contacts_from_xero"')[1]
    assert _post(admin, contacts_from_xero="yes").status_code == 302
    with app.app_context():
        assert load_settings(db.session)["contacts_from_xero"] == "yes"
    bad = _post(admin, contacts_from_xero="maybe")
    assert bad.status_code == 400 and "is not one of: yes, no" in bad.get_data(
        as_text=True
    )
