"""Module settings: validation, storage, and the `pxflask settings` commands."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from pxflask.models import Base
from pxflask.sync.settings import (
    InvalidSetting,
    enabled_entities,
    get_setting,
    load_settings,
    set_setting,
    validate,
)


@pytest.fixture
def session(tmp_path):
    """A session on a fresh module database."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.mark.parametrize(
    "key,value",
    [
        ("sales_account", "200"),
        ("rounding_account", "860"),
        ("payment_account.default", "090"),
        ("payment_account.3", "091"),
        ("payment_account.stripe", "092"),
        ("tax_rate.4", "TAX001"),
        ("drafts", "draft"),
        ("sync_mode", "scheduled"),
        ("schedule", "15"),
        ("schedule", "0 2 * * *"),
        ("sync_from", "2025-01-01"),
        ("entities", "customers,invoices"),
    ],
)
def test_valid_values_are_accepted(key, value):
    """Every documented key takes a well-formed value unchanged."""
    assert validate(key, value) == value


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("sales_account", "a code far too long", "not a Xero account code"),
        ("drafts", "publish", "not one of: skip, draft"),
        ("sync_mode", "sometimes", "not one of"),
        ("schedule", "0", "between 1 and 10080"),
        ("schedule", "every day", "neither minutes nor a cron expression"),
        ("sync_from", "31/01/2025", "not a date"),
        ("entities", "customers,unicorns", "unknown entity: unicorns"),
        ("tax_rate.4", "vat 20%", "not a Xero tax type"),
        ("colour", "blue", "unknown setting 'colour'"),
        ("payment_account.Not A Key", "090", "unknown setting"),
        ("watch_interval", "1", "at least 5"),
    ],
)
def test_bad_values_get_clear_messages(key, value, fragment):
    """A bad key or value is refused with a message naming the problem."""
    with pytest.raises(InvalidSetting, match=fragment):
        validate(key, value)


def test_set_and_load_round_trip(session):
    """Stored values overlay the defaults."""
    assert get_setting(session, "drafts") == "skip"
    set_setting(session, "drafts", "draft")
    set_setting(session, "payment_account.stripe", "092")
    values = load_settings(session)
    assert values["drafts"] == "draft"
    assert values["payment_account.stripe"] == "092"
    assert values["sales_account"] == "200"


def test_enabled_entities_keep_dependency_order(session):
    """Entities come back in the canonical order whatever order they were typed."""
    set_setting(session, "entities", "payments, customers,invoices")
    assert enabled_entities(load_settings(session)) == [
        "customers",
        "invoices",
        "payments",
    ]


def test_cli_settings_set_and_show(runner):
    """`pxflask settings set` stores, `show` prints, a bad value exits 2."""
    result = runner.invoke(args=["settings", "set", "sales_account", "201"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(args=["settings", "show"])
    assert "sales_account = 201" in shown.output
    bad = runner.invoke(args=["settings", "set", "drafts", "publish"])
    assert bad.exit_code == 2
    assert "error: 'publish' is not one of: skip, draft" in bad.output
    assert "Traceback" not in bad.output


def test_a_tax_type_is_checked_against_the_cached_rates(session):
    """Rates cached: tax_rate.<id> needs a revenue rate, expense_* an expense one."""
    from pxflask.models import XeroTaxRate

    assert set_setting(session, "tax_rate.4", "ANYTHING") == "ANYTHING"  # no cache yet
    session.add_all(
        [
            XeroTaxRate(
                tax_type="OUTPUT2",
                name="20% (VAT on Income)",
                rate="20.00",
                can_revenue=True,
                can_expenses=False,
                status="ACTIVE",
            ),
            XeroTaxRate(
                tax_type="INPUT2",
                name="20% (VAT on Expenses)",
                rate="20.00",
                can_revenue=False,
                can_expenses=True,
                status="ACTIVE",
            ),
        ]
    )
    session.commit()
    assert set_setting(session, "tax_rate.1", "OUTPUT2") == "OUTPUT2"
    assert set_setting(session, "expense_tax_rate.1", "INPUT2") == "INPUT2"
    with pytest.raises(InvalidSetting, match="usable on sales"):
        set_setting(session, "tax_rate.1", "INPUT2")
    with pytest.raises(InvalidSetting, match="usable on expense"):
        set_setting(session, "expense_tax_rate.1", "OUTPUT2")
    with pytest.raises(InvalidSetting, match="one of: OUTPUT2"):
        set_setting(session, "no_tax_type", "NONE")
    assert set_setting(session, "no_tax_type", "") == ""
