"""Thin views. Each module here exposes `bp`; the factory registers this list."""

BLUEPRINTS: list[str] = [
    "health",
    "auth",
    "dashboard",
    "connection",
    "sync",
    "repost",
    "settings",
    "reset",
    "hooks",
    "webhooks",
    "reconcile",
]
