"""Settings refuse dates out of range, accounts not in the chart, no entity at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pxflask.extensions import db
from pxflask.models import XeroAccount
from pxflask.sync.settings import load_settings
from tests.fixtures.webapp import csrf_token

FORM = {
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
CHART = [
    ("a-200", "200", "Sales", "REVENUE", "REVENUE", "ACTIVE"),
    ("a-090", "090", "Business Bank Account", "BANK", "ASSET", "ACTIVE"),
    ("a-860", "860", "Rounding", "CURRLIAB", "LIABILITY", "ACTIVE"),
    ("a-429", "429", "General Expenses", "EXPENSE", "EXPENSE", "ACTIVE"),
    ("a-091", "091", "Old Savings Account", "BANK", "ASSET", "ARCHIVED"),
]


def _cache_chart(app) -> None:
    """A cached chart of accounts, as a sync of `accounts` leaves it."""
    with app.app_context():
        db.session.add_all(
            XeroAccount(
                account_id=account_id,
                code=code,
                name=name,
                type=kind,
                account_class=klass,
                status=status,
                enable_payments=kind == "BANK",
            )
            for account_id, code, name, kind, klass, status in CHART
        )
        db.session.commit()


def _set(runner, key: str, value: str):
    """`pxflask settings set KEY VALUE`."""
    return runner.invoke(args=["settings", "set", key, value])


def _refused(result, fragment: str) -> None:
    """Exit 2 with one `error:` line holding the fragment, no traceback."""
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.output
    assert "Traceback" not in result.output


def _stored(app, key: str) -> str:
    """One setting as stored now."""
    with app.app_context():
        return load_settings(db.session).get(key, "")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("9999-12-31", "is in the future"),
        ((date.today() + timedelta(days=2)).isoformat(), "is in the future"),
        ("0001-01-01", "is before 2000-01-01"),
        ("1999-12-31", "is before 2000-01-01"),
        ("2025-W01-1", "is not a date like"),
        ("20250131", "is not a date like"),
    ],
)
def test_sync_from_must_be_a_real_past_date(runner, app, value, fragment):
    """sync_from: a YYYY-MM-DD day from 2000-01-01 to today."""
    _refused(_set(runner, "sync_from", value), fragment)
    assert _stored(app, "sync_from") == ""


def test_sync_from_today_and_empty_are_accepted(runner, app):
    """Today (the first day not yet past) and empty (all history) save."""
    today = date.today().isoformat()
    assert _set(runner, "sync_from", today).exit_code == 0
    assert _stored(app, "sync_from") == today
    assert _set(runner, "sync_from", "").exit_code == 0


@pytest.mark.parametrize("value", ["", " , ", ","])
def test_the_entity_list_must_not_be_empty(runner, app, value):
    """`settings set entities ''` is refused like switching every box off."""
    _refused(_set(runner, "entities", value), "switch on at least one entity")
    assert _stored(app, "entities")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("sales_account", "999", "is not an account of the Xero chart"),
        ("rounding_account", "861", "is not an account of the Xero chart"),
        ("discount_account", "999", "is not an account of the Xero chart"),
        ("payment_account.default", "999", "is not an account of the Xero chart"),
        ("payment_account.stripe", "999", "is not an account of the Xero chart"),
        ("payment_account.1", "091", "is archived in Xero"),
        ("expense_account.1", "999", "is not an account of the Xero chart"),
    ],
)
def test_account_codes_must_be_in_the_cached_chart(runner, app, key, value, fragment):
    """With a chart cached, a code it does not hold (or an archived one) is refused."""
    _cache_chart(app)
    _refused(_set(runner, key, value), fragment)
    assert _stored(app, key) != value


def test_codes_of_the_chart_are_accepted(runner, app):
    """Active accounts of the chart save; an empty optional mapping too."""
    _cache_chart(app)
    for key, value in [
        ("sales_account", "200"),
        ("payment_account.stripe", "090"),
        ("expense_account.1", "429"),
        ("expense_account.1", ""),
    ]:
        result = _set(runner, key, value)
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output
        assert _stored(app, key) == value


def test_without_a_chart_codes_are_saved_with_a_warning(runner, app):
    """First set-up, nothing fetched yet: saved, and the CLI says it was unchecked."""
    result = _set(runner, "sales_account", "201")
    assert result.exit_code == 0, result.output
    assert "warning: the chart of accounts is not cached yet" in result.output
    assert _stored(app, "sales_account") == "201"


def _post(admin, **changes):
    """Submit the settings form with its CSRF token."""
    data = {**FORM, **changes, "csrf_token": csrf_token(admin, "/settings/")}
    return admin.post("/settings/", data=data)


def test_settings_page_refuses_codes_and_dates_out_of_range(app, admin):
    """The page marks each bad field, answers 400 and saves nothing."""
    _cache_chart(app)
    response = _post(
        admin,
        sales_account="999",
        sync_from="9999-12-31",
        drafts="draft",
        **{"payment_account.default": "091"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "&#39;999&#39; is not an account of the Xero chart" in page
    assert "&#39;9999-12-31&#39; is in the future" in page
    assert "account &#39;091&#39; is archived in Xero" in page
    assert _stored(app, "drafts") == "skip"


def test_settings_page_without_a_chart_saves_and_warns(app, admin):
    """No chart cached: the codes are saved, and a warning says they were unchecked."""
    response = _post(admin, sales_account="201")
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Settings saved." in page
    assert "Saved, but the chart of accounts is not cached yet" in page
    assert _stored(app, "sales_account") == "201"
