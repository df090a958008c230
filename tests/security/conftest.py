"""Fixtures of the security tests: the panel with hook secrets, signed in or not."""

from __future__ import annotations

from tests.web.conftest import HOOK_TOKEN, SECRETS, WEBHOOK_KEY, admin, app

__all__ = ["HOOK_TOKEN", "SECRETS", "WEBHOOK_KEY", "admin", "app"]
