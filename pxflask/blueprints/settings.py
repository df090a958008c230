"""Account, tax and payment-mode mappings and the sync options."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from pxflask.extensions import db
from pxflask.jobs import reconcile_periodic
from pxflask.panel import dashboard_queries as queries
from pxflask.perfex.db import PerfexError
from pxflask.perfex.dimensions import custom_field_names
from pxflask.perfex.reads import (
    read_expense_categories,
    read_payment_modes,
    read_taxes,
)
from pxflask.queueing import QueueUnavailable
from pxflask.sync.settings import (
    ENTITY_NAMES,
    FIXED_KEYS,
    SWITCHES,
    InvalidSetting,
    chart_warning,
    load_settings,
    schedule_problem,
    set_setting,
    tax_use,
    validate,
    validate_for,
)
from pxflask.web.runtime import perfex_db
from pxflask.web.taxes import entity_labels, tax_questions

bp = Blueprint("settings", __name__, url_prefix="/settings")

FORM_KEYS = (
    "sales_account",
    "rounding_account",
    "payment_account.default",
    "drafts",
    *(switch.key for switch in SWITCHES),
    "sync_mode",
    "schedule",
    "watch_interval",
    "sync_from",
    "expense_contact",
    "no_tax_type",
    "expense_no_tax_type",
    "tracking",
    "tracking_category",
)
IMPORT_TAXES = "import_xero_taxes"
SCHEDULE_KEYS = ("sync_mode", "schedule", "watch_interval")


@dataclass(frozen=True)
class Sources:
    """What the mappings are made of: Perfex modes, taxes, categories, gateways."""

    modes: list
    taxes: list
    gateways: list[str]
    categories: list = field(default_factory=list)
    error: str | None = None
    custom_fields: list[str] = field(default_factory=list)
    """Perfex custom fields of documents (tracking may use one)."""


def _sources() -> Sources:
    """Read the Perfex payment modes, taxes and expense categories for the rows."""
    gateways = queries.gateway_ids(db.session)
    try:
        database = perfex_db()
        return Sources(
            read_payment_modes(database),
            read_taxes(database),
            gateways,
            read_expense_categories(database),
            custom_fields=custom_field_names(database),
        )
    except PerfexError as exc:
        return Sources([], [], gateways, error=f"Perfex is not reachable: {exc}")


def _submitted(sources: Sources) -> dict[str, str]:
    """The settings as submitted, keyed by setting name."""
    keys = list(FORM_KEYS)
    keys += [f"payment_account.{mode.id}" for mode in sources.modes]
    keys += [f"payment_account.{gateway}" for gateway in sources.gateways]
    keys += [f"tax_rate.{tax.id}" for tax in sources.taxes]
    keys += [f"expense_account.{category.id}" for category in sources.categories]
    keys += [f"expense_tax_rate.{tax.id}" for tax in sources.taxes]
    values = {key: request.form.get(key, "") for key in keys if key in request.form}
    values["entities"] = ",".join(request.form.getlist("entities"))
    if f"{IMPORT_TAXES}_shown" in request.form:
        values[IMPORT_TAXES] = "yes" if request.form.get(IMPORT_TAXES) else "no"
    return values


def _render(
    values: dict[str, str], errors: dict[str, str], sources: Sources, status: int = 200
):
    """The settings page."""
    return render_template(
        "settings/index.html",
        values=values,
        errors=errors,
        sources=sources,
        accounts=queries.account_choices(db.session),
        tax_types=queries.known_tax_types(db.session),
        taxes=tax_questions(values, sources.taxes),
        entities=entity_labels(),
        all_entities=ENTITY_NAMES,
        switches=SWITCHES,
        enabled=set(values.get("entities", "").split(",")),
        fetching=next(
            (r for r in queries.active_runs(db.session) if r.scope == "accounts"), None
        ),
    ), status


@bp.get("/")
def index():
    """Show every mapping and option with its current value."""
    sources = _sources()
    if sources.error:
        flash(sources.error, "error")
    values = load_settings(db.session)
    errors: dict[str, str] = {}
    try:
        validate("schedule", values.get("schedule", ""))
    except InvalidSetting as exc:  # stored by an older version or a DB edit
        errors["schedule"] = str(exc)
    return _render(values, errors, sources)


@bp.post("/")
def save():
    """Validate every field; save them all only when all are valid."""
    sources = _sources()
    current = load_settings(db.session)
    submitted = _submitted(sources)
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key, value in submitted.items():
        try:
            clean[key] = validate_for(db.session, key, value)
        except InvalidSetting as exc:
            errors[key] = str(exc)
    if errors:
        flash("Nothing was saved: please correct the fields marked below.", "error")
        return _render({**current, **submitted}, errors, sources, 400)
    changed = [
        key
        for key, value in clean.items()
        if key in FIXED_KEYS or value != current.get(key, "")
    ]
    for key in changed:
        set_setting(db.session, key, clean[key])
    flash("Settings saved.", "success")
    unchecked = chart_warning(db.session, clean)
    if unchecked:
        flash(f"Saved, but {unchecked}.", "warning")
    if any(current.get(key) != clean.get(key) for key in SCHEDULE_KEYS):
        try:
            reconcile_periodic()
        except QueueUnavailable as exc:
            flash(f"Saved, but the schedule could not be updated: {exc}", "warning")
    return redirect(url_for(".index"))


@bp.app_context_processor
def schedule_alert() -> dict[str, str | None]:
    """A paused schedule, shown on every page to the signed-in admin."""
    if not current_user.is_authenticated:
        return {"schedule_alert": None}
    try:
        values = load_settings(db.session)
    except SQLAlchemyError:  # the module database is down: its error page says so
        db.session.rollback()
        return {"schedule_alert": None}
    if values.get("sync_mode") != "scheduled":
        return {"schedule_alert": None}
    return {"schedule_alert": schedule_problem(values)}


@bp.post("/taxes")
def save_taxes():
    """Save the tax mappings of the set-up step (dashboard or settings page)."""
    submitted = {
        key: value
        for key, value in request.form.items()
        if tax_use(key) is not None and value.strip()
    }
    errors: list[str] = []
    for key, value in submitted.items():
        try:
            set_setting(db.session, key, value)
        except InvalidSetting as exc:
            errors.append(f"{key}: {exc}")
    if errors:
        flash("Not saved: " + "; ".join(errors), "error")
    elif submitted:
        flash(
            f"Saved {len(submitted)} tax mapping(s); the next sync sends the"
            " invoices that waited for them.",
            "success",
        )
    else:
        flash("Nothing was chosen.", "info")
    target = request.form.get("next") or ""
    return redirect(url_for("sync.index") if target == "sync" else url_for(".index"))
