"""What the dashboard and the settings page share: entity labels, tax questions."""

from __future__ import annotations

from pxflask.extensions import db
from pxflask.panel.tax_setup import TaxSetup, tax_setup
from pxflask.perfex.db import PerfexError
from pxflask.perfex.reads import read_taxes
from pxflask.sync.registry import REGISTRY
from pxflask.sync.settings import enabled_entities
from pxflask.web.runtime import perfex_db


def entity_labels() -> list[tuple[str, str]]:
    """(name, label) of the entities to show, from the sync registry."""
    return [(unit.name, unit.label) for unit in REGISTRY]


def tax_questions(settings: dict[str, str], taxes: list | None = None) -> TaxSetup:
    """The open tax questions, from the cached rates (no Xero call)."""
    if taxes is None:
        try:
            taxes = read_taxes(perfex_db())
        except PerfexError:
            taxes = []
    expenses = "expenses" in enabled_entities(settings)
    return tax_setup(db.session, taxes, settings, with_expenses=expenses)
