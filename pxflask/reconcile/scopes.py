"""The reconciliation's scopes, from the sync registry (each unit names its own)."""

from __future__ import annotations

from pxflask.sync.registry import REGISTRY

__all__ = ["ALL_SCOPES", "CORE_SCOPES", "OPTIONAL_SCOPES"]

CORE_SCOPES = ("invoices", "payments")
"""Always compared: every report has these two frames."""
OPTIONAL_SCOPES = tuple(s for s in REGISTRY.reconcile_scopes() if s not in CORE_SCOPES)
"""Compared when their entity is on; the report's frame is None otherwise."""
ALL_SCOPES = CORE_SCOPES + OPTIONAL_SCOPES
"""Every scope a report can hold, in the registry's order."""
