"""A stateful stand-in for Xero (identity + accounting) for tests and the demo."""

from __future__ import annotations

from .app import create_sandbox_app, get_sandbox
from .core import Sandbox
from .options import DEMO_TENANT_ID, SECOND_TENANT_ID, SandboxOptions, TenantSeed

__all__ = [
    "DEMO_TENANT_ID",
    "SECOND_TENANT_ID",
    "Sandbox",
    "SandboxOptions",
    "TenantSeed",
    "create_sandbox_app",
    "get_sandbox",
]
