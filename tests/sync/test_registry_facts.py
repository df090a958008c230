"""Every per-entity fact comes from the sync registry; no parallel list remains."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlalchemy as sa

from pxflask.panel import dashboard_queries
from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.sync import engine, settings, watcher
from pxflask.sync.engine import PlannedAction
from pxflask.sync.inbound import XERO_CATEGORIES
from pxflask.sync.preview import perfex_numbers
from pxflask.sync.registry import REGISTRY
from pxflask.xero.gateway import WRITE_KINDS

PACKAGE = Path(__file__).resolve().parents[2] / "pxflask"
NOT_ENTITY_LISTS = {
    "panel/log_search.py": "Perfex keys found per entity by a search, not a list",
    "perfex/db.py": "Perfex tables' required columns",
    "perfex/schema/__init__.py": "Perfex table definitions",
    "reconcile/auditor.py": "the report's scopes in the cover's order",
    "reconcile/reasons.py": "the reconciliation report's scopes",
}


def test_settings_watcher_and_engine_derive_from_the_registry():
    """Names, defaults, watched tables and targeting are the registry's."""
    assert settings.ENTITY_NAMES == tuple(REGISTRY.names())
    assert settings.DEFAULT_ENTITIES == tuple(u.name for u in REGISTRY.ordered(None))
    assert "credit-notes" not in settings.DEFAULT_ENTITIES
    assert watcher.WATCHES == REGISTRY.watches()
    watched = {w.entity for w in watcher.WATCHES}
    assert watched == {u.name for u in REGISTRY if u.watches}
    assert {w.table for w in watcher.WATCHES if w.entity == "credit-notes"} == {
        "creditnotes",
        "credits",
    }
    assert engine.TARGETABLE == ("customers", "items", "invoices", "payments")


def test_webhooks_and_write_kinds_match_the_registry():
    """The webhook categories are the registry's; every write kind is a gateway's."""
    assert REGISTRY.webhook_categories() == {
        "CONTACT": ("customers", "contacts"),
        "INVOICE": ("invoices", "invoices"),
    }
    assert (
        XERO_CATEGORIES
        == REGISTRY.webhook_categories()
        == {
            "INVOICE": ("invoices", "invoices"),
            "CONTACT": ("customers", "contacts"),
        }
    )
    assert sorted(REGISTRY.write_kinds()) == sorted(WRITE_KINDS)


def test_no_module_keeps_its_own_list_of_entities():
    """No literal naming three entities outside the registry (exceptions aside)."""
    names = set(REGISTRY.names())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        unit = where.startswith("sync/entities/") and path.name == "__init__.py"
        if unit or where in NOT_ENTITY_LISTS:
            continue  # a unit names the entities it depends on
        for node in ast.walk(ast.parse(path.read_text())):
            elts = node.keys if isinstance(node, ast.Dict) else None
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                elts = node.elts
            strings = [
                e.value
                for e in elts or ()
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
            if len(set(strings) & names) >= 3:
                found.append(f"{where}:{node.lineno}")
    assert found == []


def test_the_log_summary_covers_every_entity_with_a_perfex_record(
    seeded_sync_perfex,
):
    """Each entity's first Perfex record is summarised (credit notes, expenses too)."""
    perfex = PerfexDB.connect(f"sqlite:///{seeded_sync_perfex}")
    tables = {"expense-categories": "expenses_categories"}
    summarised = []
    for unit in REGISTRY:
        if unit.record is None:
            continue
        name, key = tables.get(unit.name, "id"), "id"
        if unit.name not in tables:
            name, key = unit.watches[0].table, unit.watches[0].key
        table = getattr(perfex.tables, name)
        with perfex.engine.connect() as conn:
            first = conn.execute(sa.select(sa.func.min(table.c[key]))).scalar()
        if first is None:
            continue
        summary = dashboard_queries.perfex_summary(perfex, unit.name, str(first))
        assert summary and summary.get("id") == first, unit.name
        summarised.append(unit.name)
    assert {"invoices", "payments", "credit-notes", "expenses"} <= set(summarised)
    assert dashboard_queries.perfex_summary(perfex, "accounts", "1") is None
    perfex.engine.dispose()


def test_each_entity_is_one_folder_registered_by_the_folder():
    """Every folder of entities/ holds a unit whose step lives in that folder."""
    folders = sorted(
        p.name
        for p in (PACKAGE / "sync" / "entities").iterdir()
        if (p / "__init__.py").exists()
    )
    assert sorted(u.name.replace("-", "_") for u in REGISTRY) == folders
    for unit in REGISTRY:
        folder = unit.name.replace("-", "_")
        assert unit.step == f"pxflask.sync.entities.{folder}.step"
        assert (PACKAGE / "sync" / "entities" / folder / "step.py").exists()
    assert not (PACKAGE / "sync" / "steps" / "invoices.py").exists()


def test_steps_do_not_import_each_other():
    """A step reaches another entity's work through the step services only."""
    found = []
    for path in sorted((PACKAGE / "sync" / "entities").rglob("*.py")):
        mine = path.parent.name
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = (
                [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            )
            targets = [f"{module}.{n}" for n in names] + [module or ""]
            for target in targets:
                parts = target.split(".")
                if parts[:3] == ["pxflask", "sync", "entities"] and len(parts) > 4:
                    if parts[3] != mine and parts[4] != "mapper":
                        found.append(f"{path.parent.name}/{path.name}: {target}")
    assert found == []


def test_a_dry_run_names_documents_and_payments_by_number(seeded_sync_perfex):
    """Records without a payload are named by number (payments: amount on date)."""
    perfex = PerfexDB.connect(f"sqlite:///{seeded_sync_perfex}")
    invoice = reads.read_invoices(perfex)[0]
    payment = reads.read_payments(perfex)[0]
    note = reads.read_credit_notes(perfex)[0]
    actions = [
        PlannedAction("credit-notes", str(note.id), "void"),
        PlannedAction("invoices", str(invoice.id), "void"),
        PlannedAction("payments", str(payment.id), "delete"),
        PlannedAction("customers", "1", "update"),
        PlannedAction("bananas", "1", "update"),
    ]
    assert perfex_numbers(perfex, actions) == {
        ("invoices", str(invoice.id)): invoice.formatted_number,
        ("payments", str(payment.id)): f"{payment.amount} on {payment.date}",
        ("credit-notes", str(note.id)): note.formatted_number,
    }
    perfex.engine.dispose()


def test_yes_no_settings_are_unit_facts():
    """Each pull or e-mail switch is declared once, on its unit; the rest derive."""
    from pxflask.blueprints.settings import FORM_KEYS

    switches = REGISTRY.switches()
    assert {s.key: s.default_value for s in switches} == {
        "contacts_from_xero": "no",
        "xero_emails_invoices": "no",
        "payments_from_xero": "yes",
        "refunds_from_xero": "no",
        "documents_from_xero": "no",
        "expenses_from_xero": "no",
    }
    for switch in switches:
        assert settings.FIXED_KEYS[switch.key][1] == switch.default_value
        assert switch.key in FORM_KEYS
        assert switch.is_on({switch.key: "On "}) and not switch.is_on({switch.key: "0"})
        assert switch.is_on({}) is switch.default
