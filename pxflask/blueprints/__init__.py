"""Thin views. Each module here exposes `bp`; the factory registers this list."""

BLUEPRINTS: list[str] = [
    "health",
    "auth",
    "sso",
    "dashboard",
    "connection",
    "sync",
    "repost",
    "settings",
    "reset",
    "hooks",
    "webhooks",
    "reconcile",
    "reconcile_history",
    "month_end",
]
