"""Tracking categories: a Perfex dimension as a Xero tracking option on every line."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.sync.settings import InvalidSetting, validate
from pxflask.sync.tracking import Choice, choice, option_name

from .conftest import Env, delta

pytestmark = pytest.mark.xero_sandbox(base_currency="USD")
"""The seeded Perfex is USD-based (its expenses need USD bank accounts in Xero)."""

DOCS = ["invoices", "credit-notes", "expenses"]
OPTIONS_PUT = "PUT /TrackingCategories/{TrackingCategoryID}/Options"


# ----------------------------------------------------------------- settings (pure)


def test_setting_values_and_the_category_name():
    """none/project/sale_agent/custom:<field>; the category defaults by dimension."""
    assert validate("tracking", " project ") == "project"
    assert validate("tracking", "custom: Region ") == "custom:Region"
    for bad in ("projects", "custom:", "custom:" + "x" * 151, "staff"):
        with pytest.raises(InvalidSetting):
            validate("tracking", bad)
    with pytest.raises(InvalidSetting, match="100"):
        validate("tracking_category", "x" * 101)
    assert choice({"tracking": "none"}) is None
    assert choice({"tracking": "project"}) == Choice("project", "", "Project")
    assert choice({"tracking": "sale_agent"}) == Choice("sale_agent", "", "Sales agent")
    assert choice({"tracking": "custom:Region", "tracking_category": " Area "}) == (
        Choice("custom", "Region", "Area")
    )
    assert option_name("  " + "a" * 120) == "a" * 100


# ------------------------------------------------------------------------ helpers


def _add_project(env: Env, project_id: int, name: str) -> None:
    """A Perfex project."""
    env.execute(
        env.perfex.tables.projects.insert().values(
            id=project_id,
            name=name,
            clientid=1,
            billing_type=1,
            start_date=date(2025, 1, 1),
            project_created=date(2025, 1, 1),
            addedfrom=1,
        )
    )


def _set(env: Env, table: str, ids: list[int], **values: Any) -> None:
    """Change some Perfex documents (a user's edit)."""
    t = env.perfex.tables.table(table)
    env.execute(t.update().where(t.c.id.in_(ids)).values(**values))


def _tracking(env: Env, resource: str, xero_id: str) -> list[list[dict[str, Any]]]:
    """The Tracking of each line of a Xero document."""
    doc = env.sandbox.inject.get(resource, xero_id)
    return [line.get("Tracking") or [] for line in doc["LineItems"]]


def _options(env: Env, category: str) -> list[str]:
    """The option names of a category in the sandbox."""
    for c in env.xero("TrackingCategories"):
        if c["Name"] == category:
            return sorted(o["Name"] for o in c["Options"])
    return []


def _writes(before: dict[str, int], env: Env) -> dict[str, int]:
    """PUT/POST calls since a snapshot."""
    return {
        k: n
        for k, n in delta(before, env.calls()).items()
        if k.split()[0] in ("PUT", "POST")
    }


def _invoice_ids(env: Env) -> list[int]:
    """Synced invoices Xero lets us edit (nothing paid or credited on them)."""
    if not env.links("invoices"):
        assert env.sync().ok
    open_ids = {
        i["InvoiceID"]
        for i in env.xero("Invoices")
        if i["Status"] in ("AUTHORISED", "DRAFT")
        and not i.get("AmountPaid")
        and not i.get("AmountCredited")
    }
    return sorted(
        int(key)
        for key, link in env.links("invoices").items()
        if link.xero_id in open_ids
    )


def _map_expense_categories(env: Env) -> None:
    """Every Perfex expense category to one EXPENSE account of the chart."""
    code = next(a["Code"] for a in env.xero("Accounts") if a["Type"] == "EXPENSE")
    for category in reads.read_expense_categories(env.perfex):
        env.settings[f"expense_account.{category.id}"] = code


# -------------------------------------------------------------------- end to end


def test_project_tracks_invoices_credit_notes_and_expenses_once(env):
    """Each document with a project is tracked; options made once; reruns quiet."""
    _map_expense_categories(env)
    assert env.sync().ok
    assert env.sync(entities=DOCS).ok
    invoices = _invoice_ids(env)[:2]
    notes = [n.id for n in reads.read_credit_notes(env.perfex)][:1]
    expenses = sorted(int(k) for k, v in env.links("expenses").items() if v.xero_id)
    untouched, expenses = expenses[1], expenses[:1]
    _add_project(env, 1, "Apollo")
    _add_project(env, 2, "  Gemini  " + "x" * 150)
    _set(env, "invoices", invoices[:1], project_id=1)
    _set(env, "invoices", invoices[1:], project_id=2)
    _set(env, "creditnotes", notes, project_id=1)
    _set(env, "expenses", expenses, project_id=2)
    env.settings["tracking"] = "project"
    before = env.calls()
    result = env.sync(entities=DOCS)
    assert result.ok, result.failed
    made = _writes(before, env)
    assert made.get("PUT /TrackingCategories") == 1
    assert made.get(OPTIONS_PUT) == 1, made
    gemini = ("Gemini " + "x" * 150)[:100]
    assert _options(env, "Project") == ["Apollo", gemini]
    assert result.report("invoices").updated == 2
    assert result.report("credit-notes").updated == len(notes)
    assert result.report("expenses").updated == len(expenses)
    inv = env.link("invoices", invoices[0]).xero_id
    for tracking in _tracking(env, "Invoices", inv):
        assert [(t["Name"], t["Option"]) for t in tracking] == [("Project", "Apollo")]
    for tracking in _tracking(
        env, "Invoices", env.link("invoices", invoices[1]).xero_id
    ):
        assert tracking[0]["Option"] == gemini
    note = env.link("credit-notes", notes[0]).xero_id
    assert all(t[0]["Option"] == "Apollo" for t in _tracking(env, "CreditNotes", note))
    spent = env.link("expenses", expenses[0]).xero_id
    assert all(
        t[0]["Option"] == gemini for t in _tracking(env, "BankTransactions", spent)
    )
    plain = _tracking(env, "BankTransactions", env.link("expenses", untouched).xero_id)
    assert plain and all(t == [] for t in plain)
    before = env.calls()
    again = env.sync(entities=DOCS)
    assert again.ok and _writes(before, env) == {}
    assert delta(before, env.calls()).get("GET /TrackingCategories") is None
    env.settings["tracking"] = "none"
    before = env.calls()
    off = env.sync(entities=DOCS)
    assert off.ok and off.report("invoices").updated == 2
    assert off.report("credit-notes").updated == len(notes)
    assert _tracking(env, "Invoices", inv)[0] == []
    assert OPTIONS_PUT not in _writes(before, env)
    before = env.calls()
    assert env.sync(entities=DOCS).ok
    assert _writes(before, env) == {}


def test_sale_agent_and_a_new_option_in_a_later_run(env):
    """The sale agent's name is the option; a new agent adds just its option."""
    assert env.sync().ok
    staff = env.perfex.tables.staff
    with env.perfex.engine.connect() as conn:
        first = conn.execute(sa.select(staff.c.staffid, staff.c.firstname)).first()
    assert first is not None
    agent = env.execute(
        staff.insert().values(
            email="sam@example.com",
            firstname="Sam",
            lastname="Agent",
            password="x",
            datecreated=date(2025, 1, 1),
        )
    ).inserted_primary_key[0]
    invoices = _invoice_ids(env)
    _set(env, "invoices", invoices, sale_agent=0)
    _set(env, "invoices", invoices[:1], sale_agent=agent)
    env.settings["tracking"] = "sale_agent"
    env.settings["tracking_category"] = "Salesperson"
    result = env.sync()
    assert result.ok, result.failed
    assert result.report("invoices").updated == 1
    assert _options(env, "Salesperson") == ["Sam Agent"]
    _set(env, "invoices", invoices[1:2], sale_agent=int(first[0]))
    before = env.calls()
    assert env.sync().ok
    made = _writes(before, env)
    assert made.get(OPTIONS_PUT) == 1 and "PUT /TrackingCategories" not in made
    assert len(_options(env, "Salesperson")) == 2


def test_custom_field_on_credit_notes(env):
    """A custom field of credit notes (fieldto credit_note) is the option."""
    assert env.sync().ok
    assert env.sync(entities=["credit-notes"]).ok
    notes = [n.id for n in reads.read_credit_notes(env.perfex) if n.status != 3]
    fields = env.perfex.tables.customfields
    field = env.execute(
        fields.insert().values(
            fieldto="credit_note",
            name="Region",
            slug="credit_note_region",
            type="input",
        )
    ).inserted_primary_key[0]
    values = env.perfex.tables.customfieldsvalues
    env.execute(
        values.insert().values(
            relid=notes[0], fieldid=field, fieldto="credit_note", value="North"
        )
    )
    env.settings["tracking"] = "custom:Region"
    result = env.sync(entities=["credit-notes"])
    assert result.ok, result.failed
    assert result.report("credit-notes").updated == 1
    note = env.link("credit-notes", notes[0]).xero_id
    assert _tracking(env, "CreditNotes", note)[0][0]["Name"] == "Region"
    assert _options(env, "Region") == ["North"]


def test_two_active_categories_refuse_clearly(env):
    """A third category cannot be made: tracked documents fail with the reason."""
    for name in ("Region", "Department"):
        env.sandbox.inject.write("TrackingCategories", {"Name": name})
    invoices = _invoice_ids(env)
    _add_project(env, 1, "Apollo")
    _set(env, "invoices", invoices[:1], project_id=1)
    env.settings["tracking"] = "project"
    result = env.sync()
    errors = dict(result.report("invoices").errors)
    assert "2 active tracking categories" in errors[str(invoices[0])]
    assert "Department, Region" in errors[str(invoices[0])]
    assert env.link("invoices", invoices[1]).state == "synced"
    assert _options(env, "Project") == []
    env.settings["tracking_category"] = "Region"
    healed = env.sync()
    assert healed.ok, healed.failed
    assert _options(env, "Region") == ["Apollo"]


def test_dry_run_creates_no_category_or_option(env):
    """A dry run plans the category and options but writes nothing."""
    assert env.sync().ok
    invoices = _invoice_ids(env)
    _add_project(env, 1, "Apollo")
    _set(env, "invoices", invoices[:2], project_id=1)
    env.settings["tracking"] = "project"
    before = env.calls()
    result = env.sync(dry_run=True)
    assert result.ok
    assert _writes(before, env) == {}
    assert env.xero("TrackingCategories") == []
    planned = [
        (a.key, a.action)
        for a in result.report("invoices").planned
        if a.key.startswith("tracking:")
    ]
    assert planned == [("tracking:Project", "create"), ("tracking:Apollo", "create")]


def test_archived_option_fails_the_document(env):
    """A line cannot use an archived option: the document fails with the reason."""
    made = env.sandbox.inject.write("TrackingCategories", {"Name": "Project"})
    _add_project(env, 1, "Apollo")
    invoices = _invoice_ids(env)
    _set(env, "invoices", invoices[:1], project_id=1)
    tenant = env.sandbox.sandbox.state.tenant(None)
    record = tenant.table("TrackingCategories")[made["TrackingCategoryID"]]
    record["Options"].append(
        {
            "TrackingOptionID": "5d2f7a36-1a3e-4f51-9d0c-2b8f3c0e7a11",
            "Name": "Apollo",
            "Status": "ARCHIVED",
        }
    )
    env.settings["tracking"] = "project"
    result = env.sync()
    errors = dict(result.report("invoices").errors)
    assert "archived in Xero" in errors[str(invoices[0])]
    assert env.link("invoices", invoices[1]).state == "synced"


def test_renamed_project_resends_its_documents_once(env):
    """A project renamed in Perfex: its documents get the new option, once."""
    invoices = _invoice_ids(env)
    _add_project(env, 1, "Apollo")
    _set(env, "invoices", invoices[:1], project_id=1)
    env.settings["tracking"] = "project"
    assert env.sync().ok
    _set(env, "projects", [1], name="Artemis")
    before = env.calls()
    renamed = env.sync()
    assert renamed.ok and renamed.report("invoices").updated == 1
    assert _writes(before, env).get(OPTIONS_PUT) == 1
    inv = env.link("invoices", invoices[0]).xero_id
    assert _tracking(env, "Invoices", inv)[0][0]["Option"] == "Artemis"
    before = env.calls()
    assert env.sync().ok
    assert _writes(before, env) == {}
