"""Xero Accounting API emulation (/api.xro/2.0)."""

from __future__ import annotations

from .registry import RESOURCES

__all__ = ["RESOURCES"]
