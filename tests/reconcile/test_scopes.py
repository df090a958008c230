"""The reconciliation's scopes come from the sync registry; every output knows them."""

from __future__ import annotations

import dataclasses

from pxflask.reconcile.export import SHEETS
from pxflask.reconcile.reasons import SCOPES
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.scopes import ALL_SCOPES, CORE_SCOPES, OPTIONAL_SCOPES
from pxflask.sync.registry import REGISTRY


def test_scopes_are_the_registry_units_scopes():
    """Each scope is named by a registered unit; the core two come first."""
    named = {unit.reconcile_scope for unit in REGISTRY if unit.reconcile_scope}
    assert set(ALL_SCOPES) == named
    assert ALL_SCOPES[:2] == CORE_SCOPES == ("invoices", "payments")
    assert {"expenses", "credit_notes", "refunds"} <= set(OPTIONAL_SCOPES)


def test_every_optional_scope_has_a_frame_a_sheet_and_reasons():
    """A scope the registry names has a report field, an XLSX sheet and links."""
    fields = {field.name for field in dataclasses.fields(ReconciliationReport)}
    assert set(ALL_SCOPES) <= fields
    assert set(SHEETS) == set(OPTIONAL_SCOPES)
    assert set(ALL_SCOPES) <= set(SCOPES)
