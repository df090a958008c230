"""The module's settings: known keys, validation, DB-backed get/set (no Flask)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.models import Setting, XeroAccount, XeroTaxRate, utcnow
from pxflask.sync.registry import REGISTRY

ENTITY_NAMES = tuple(REGISTRY.names())
"""Every entity, in dependency order (from the sync registry)."""
DEFAULT_ENTITIES = tuple(REGISTRY.default_names())
"""The entities switched on by default (the registry's default units)."""
ACCOUNT_CODE = re.compile(r"^[A-Za-z0-9._-]{1,10}$")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CRON_FIELD = re.compile(r"^[\d*/,\-]+$")
PAYMENT_KEY = re.compile(r"^payment_account\.(default|\d+|[a-z][a-z0-9_]{1,38})$")
TAX_KEY = re.compile(r"^tax_rate\.\d+$")
EXPENSE_ACCOUNT_KEY = re.compile(r"^expense_account\.\d+$")
EXPENSE_TAX_KEY = re.compile(r"^expense_tax_rate\.\d+$")
ACCOUNT_KEYS = ("sales_account", "rounding_account", "discount_account")
SCHEDULE_HORIZON = timedelta(days=366)
"""A cron schedule must run at least once within this time from now."""
EARLIEST_SYNC_FROM = date(2000, 1, 1)
CHART_NOT_CACHED = (
    "the chart of accounts is not cached yet, so account codes were not checked"
    " against it: fetch it (`pxflask sync accounts`, or the button on the settings"
    " page) and save again to check them"
)


class InvalidSetting(ValueError):
    """A settings key is unknown or its value is not acceptable."""


def _account_code(value: str) -> str:
    """A Xero account code: up to 10 letters, digits, dot, dash or underscore."""
    if not ACCOUNT_CODE.match(value):
        raise InvalidSetting(f"{value!r} is not a Xero account code (≤ 10 characters)")
    return value


def _optional_account_code(value: str) -> str:
    """An account code, or empty to fall back to the sales account."""
    return _account_code(value) if value else value


def _choice(*options: str) -> Callable[[str], str]:
    """A validator accepting only the given words."""

    def check(value: str) -> str:
        if value not in options:
            raise InvalidSetting(f"{value!r} is not one of: {', '.join(options)}")
        return value

    return check


def _switch(value: str) -> str:
    """On or off: yes/no (also on/off, true/false, 1/0), stored as yes or no."""
    word = value.lower()
    if word in ("yes", "on", "true", "1"):
        return "yes"
    if word in ("no", "off", "false", "0"):
        return "no"
    raise InvalidSetting(f"{value!r} is not one of: yes, no (or on, off)")


def _contact_name(value: str) -> str:
    """A Xero contact name: 1 to 255 characters."""
    if not value or len(value) > 255:
        raise InvalidSetting("a contact name has 1 to 255 characters")
    return value


def next_run(schedule: str, now: datetime) -> datetime:
    """When a schedule runs next after now (naive UTC); InvalidSetting if never.

    Minutes between runs (1-10080), or a five-field cron expression that croniter
    parses and that runs within SCHEDULE_HORIZON (31 February never comes).
    """
    value = schedule.strip()
    if value.isdigit():
        if not 1 <= int(value) <= 10080:
            raise InvalidSetting("the interval must be between 1 and 10080 minutes")
        return now + timedelta(minutes=int(value))
    fields = value.split()
    if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
        raise InvalidSetting(
            f"{value!r} is neither minutes nor a cron expression like '*/15 * * * *'"
        )
    from croniter import CroniterBadDateError, CroniterError, croniter

    try:
        due = croniter(value, now).get_next(datetime)
    except CroniterBadDateError:
        due = None
    except (CroniterError, ValueError, OverflowError) as exc:
        raise InvalidSetting(
            f"{value!r} is not a valid cron expression (minute 0-59, hour 0-23,"
            " day 1-31, month 1-12, weekday 0-7)"
        ) from exc
    if due is None or due - now > SCHEDULE_HORIZON:
        raise InvalidSetting(
            f"{value!r} never runs within a year (is it a date that does not"
            " exist, like 31 February?)"
        )
    return due


def _schedule(value: str) -> str:
    """Minutes between runs (1-10080) or a cron expression that runs."""
    next_run(value, utcnow())
    return value


def schedule_problem(values: dict[str, str]) -> str | None:
    """Why the stored schedule cannot run ("... scheduled sync paused"), or None."""
    schedule = values.get("schedule", "")
    try:
        next_run(schedule, utcnow())
    except InvalidSetting as exc:
        return f"schedule {schedule!r} is invalid, scheduled sync paused: {exc}"
    return None


def _iso_date(value: str) -> str:
    """An ISO date from 2000-01-01 to today, or empty to backfill everything."""
    if value == "":
        return value
    try:
        if not ISO_DAY.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidSetting(f"{value!r} is not a date like 2025-01-31") from exc
    if day > utcnow().date():
        raise InvalidSetting(f"{value!r} is in the future: history up to today syncs")
    if day < EARLIEST_SYNC_FROM:
        raise InvalidSetting(
            f"{value!r} is before {EARLIEST_SYNC_FROM}; leave it empty to send all"
            " history"
        )
    return value


def _entities(value: str) -> str:
    """A comma-separated list of known entity names."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise InvalidSetting(
            f"switch on at least one entity (known: {', '.join(ENTITY_NAMES)})"
        )
    unknown = [name for name in names if name not in ENTITY_NAMES]
    if unknown:
        raise InvalidSetting(
            f"unknown entit{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}"
            f" (known: {', '.join(ENTITY_NAMES)})"
        )
    return ",".join(names)


def _seconds_interval(value: str) -> str:
    """The watcher's interval: whole seconds, at least 5."""
    if not value.isdigit() or int(value) < 5:
        raise InvalidSetting(f"{value!r}: the interval is whole seconds, at least 5")
    return value


def _tax_type(value: str) -> str:
    """A Xero TaxType code such as OUTPUT or TAX001, or empty for automatic."""
    if value and not re.match(r"^[A-Z0-9_]{2,50}$", value):
        raise InvalidSetting(f"{value!r} is not a Xero tax type code")
    return value


TRACKING_DIMENSIONS = ("none", "project", "sale_agent")
CUSTOM_PREFIX = "custom:"
TRACKING_NAME_MAX = 100
"""Xero's limit on tracking category and option names."""


def _tracking(value: str) -> str:
    """none, project, sale_agent or custom:<Perfex custom field name>."""
    if value in TRACKING_DIMENSIONS:
        return value
    if value.startswith(CUSTOM_PREFIX):
        name = value[len(CUSTOM_PREFIX) :].strip()
        if 0 < len(name) <= 150:
            return CUSTOM_PREFIX + name
    raise InvalidSetting(
        f"{value!r} is not one of: none, project, sale_agent, custom:<field name>"
    )


def _tracking_category(value: str) -> str:
    """A Xero tracking category name (≤ 100 characters), empty for the default."""
    if len(value) > TRACKING_NAME_MAX:
        raise InvalidSetting(
            f"a Xero tracking category name has at most {TRACKING_NAME_MAX} characters"
        )
    return value


SWITCHES = REGISTRY.switches()
"""The entities' yes/no settings (pulls from Xero, e-mails), from the registry."""
FIXED_KEYS: dict[str, tuple[Callable[[str], str], str]] = {
    "sales_account": (_account_code, "200"),
    "rounding_account": (_account_code, "860"),
    "discount_account": (_optional_account_code, ""),
    "no_tax_type": (_tax_type, ""),
    "expense_no_tax_type": (_tax_type, ""),
    "report_tax_type": (_tax_type, ""),
    "import_xero_taxes": (_choice("no", "yes"), "no"),
    "drafts": (_choice("skip", "draft"), "skip"),
    "sync_mode": (_choice("manual", "realtime", "scheduled"), "manual"),
    "schedule": (_schedule, "15"),
    "sync_from": (_iso_date, ""),
    "entities": (_entities, ",".join(DEFAULT_ENTITIES)),
    "legacy_scopes": (_choice("no", "yes"), "no"),
    "watch_interval": (_seconds_interval, "30"),
    "expense_contact": (_contact_name, "Perfex expenses"),
    "tracking": (_tracking, "none"),
    "tracking_category": (_tracking_category, ""),
    **{switch.key: (_switch, switch.default_value) for switch in SWITCHES},
}


def validate(key: str, value: str) -> str:
    """Return the normalised value for key, or raise InvalidSetting."""
    value = value.strip()
    if key in FIXED_KEYS:
        return FIXED_KEYS[key][0](value)
    if PAYMENT_KEY.match(key):
        return _account_code(value) if value else value
    if TAX_KEY.match(key) or EXPENSE_TAX_KEY.match(key):
        return _tax_type(value)
    if EXPENSE_ACCOUNT_KEY.match(key):
        return _optional_account_code(value)
    raise InvalidSetting(
        f"unknown setting {key!r}; known: {', '.join(FIXED_KEYS)}, "
        "payment_account.<mode id|gateway id|default>, tax_rate.<perfex tax id>, "
        "expense_account.<category id>, expense_tax_rate.<perfex tax id>"
    )


SALES_TAX_KEYS = ("no_tax_type",)
EXPENSE_TAX_KEYS = ("expense_no_tax_type",)


def tax_use(key: str) -> str | None:
    """'sales' or 'expenses' for a key that names a Xero TaxType, else None."""
    if key in SALES_TAX_KEYS or TAX_KEY.match(key):
        return "sales"
    if key in EXPENSE_TAX_KEYS or EXPENSE_TAX_KEY.match(key):
        return "expenses"
    return None


def is_account_key(key: str) -> bool:
    """True for a key whose value is a Xero account code."""
    return key in ACCOUNT_KEYS or bool(
        PAYMENT_KEY.match(key) or EXPENSE_ACCOUNT_KEY.match(key)
    )


def chart_cached(session: SessionLike) -> bool:
    """True once a sync has cached the organisation's chart of accounts."""
    return session.scalar(select(XeroAccount.account_id).limit(1)) is not None


def chart_warning(session: SessionLike, values: dict[str, str]) -> str | None:
    """CHART_NOT_CACHED when account codes are given but cannot be checked yet."""
    given = any(value and is_account_key(key) for key, value in values.items())
    return CHART_NOT_CACHED if given and not chart_cached(session) else None


def _check_account(session: SessionLike, code: str) -> None:
    """An account code must be an active account of the cached chart (if cached)."""
    rows = [
        (known, status)
        for known, status in session.execute(
            select(XeroAccount.code, XeroAccount.status)
        )
    ]
    if not rows or (code, "ACTIVE") in rows:
        return
    if any(known == code for known, _ in rows):
        raise InvalidSetting(f"account {code!r} is archived in Xero; pick another")
    raise InvalidSetting(
        f"{code!r} is not an account of the Xero chart of accounts (as last fetched;"
        " fetch the chart again if the account was just added in Xero)"
    )


def validate_for(session: SessionLike, key: str, value: str) -> str:
    """validate, and codes must exist in the organisation's cached chart and rates.

    Only when the chart or the rates are cached (a sync read them): an account
    code must be an active account; a TaxType must be an active rate able to
    apply to sales (revenue) or expenses as the key needs.
    """
    clean = validate(key, value)
    if clean and is_account_key(key):
        _check_account(session, clean)
        return clean
    use = tax_use(key)
    if not clean or use is None:
        return clean
    rows = session.execute(
        select(
            XeroTaxRate.tax_type,
            XeroTaxRate.can_revenue,
            XeroTaxRate.can_expenses,
            XeroTaxRate.status,
        )
    ).all()
    if not rows:
        return clean
    usable = sorted(
        t
        for t, revenue, expenses, status in rows
        if status == "ACTIVE" and (revenue if use == "sales" else expenses)
    )
    if clean not in usable:
        where = "sales (revenue)" if use == "sales" else "expense"
        raise InvalidSetting(
            f"{clean!r} is not a rate of the Xero organisation usable on {where}"
            f" lines; one of: {', '.join(usable)}"
        )
    return clean


def defaults() -> dict[str, str]:
    """Every fixed key with its default value."""
    return {key: default for key, (_, default) in FIXED_KEYS.items()}


def load_settings(session: SessionLike) -> dict[str, str]:
    """All settings: defaults overlaid with the stored values."""
    values = defaults()
    values.update(dict(session.execute(select(Setting.key, Setting.value)).all()))
    return values


def get_setting(session: SessionLike, key: str) -> str:
    """One setting's value (its default when unset)."""
    row = session.get(Setting, key)
    if row is not None:
        return row.value
    return defaults().get(key, "")


def set_setting(session: SessionLike, key: str, value: str) -> str:
    """Validate and store one setting; return the stored value."""
    clean = validate_for(session, key, value)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=clean))
    else:
        row.value = clean
    session.commit()
    return clean


def enabled_entities(values: dict[str, str]) -> list[str]:
    """The entity names switched on, in the canonical order."""
    chosen = set(values.get("entities", "").split(","))
    return [name for name in ENTITY_NAMES if name in chosen]
