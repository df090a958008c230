"""Settings from the environment and the instance file (README: Configuration)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_SCOPES = (
    "offline_access accounting.invoices accounting.payments "
    "accounting.banktransactions accounting.contacts accounting.settings"
)
LEGACY_SCOPES = (
    "offline_access accounting.transactions accounting.contacts accounting.settings"
)

# Every operator-facing key with its default; env vars and instance/pxflask.toml
# may set any of them.
DEFAULTS: dict[str, Any] = {
    "PXFLASK_DATABASE_URL": None,
    "PERFEX_DATABASE_URL": None,
    "PERFEX_TABLE_PREFIX": "tbl",
    "PERFEX_URL": None,  # e.g. https://crm.example.com: links to Perfex admin pages
    "REDIS_URL": None,
    "XERO_CLIENT_ID": None,
    "XERO_CLIENT_SECRET": None,
    "XERO_GRANT": "authorization_code",
    "XERO_REDIRECT_URI": None,
    "XERO_SCOPES": DEFAULT_SCOPES,
    "XERO_API_URL": "https://api.xero.com/api.xro/2.0",
    "XERO_LOGIN_URL": "https://login.xero.com/identity/connect/authorize",
    "XERO_TOKEN_URL": "https://identity.xero.com/connect/token",
    "XERO_REVOKE_URL": "https://identity.xero.com/connect/revocation",
    "XERO_CONNECTIONS_URL": "https://api.xero.com/connections",
    "XERO_WEBHOOK_KEY": None,
    "XERO_DAY_LIMIT": 5000,
    "PXFLASK_SECRET_KEY": None,
    "PXFLASK_ENCRYPTION_KEY": None,
    "PXFLASK_HOOK_TOKEN": None,
    "PXFLASK_SSO_SECRET": None,  # shared with the Perfex module: /sso tokens
    "PERFEX_MODULE_URL": None,  # the module's API: payments recorded through Perfex
    "PXFLASK_QUEUE_PREFIX": "",
    "PXFLASK_LOG_FILE": None,
    "PXFLASK_DEMO": False,
    "PXFLASK_FRAME_ANCESTORS": "",
    "PXFLASK_TRUSTED_PROXIES": 0,  # reverse proxies in front whose X-Forwarded-* count
    "PXFLASK_INSECURE_COOKIES": False,  # session cookie over plain HTTP (trusted LAN)
}
MAX_PROXIES = 5

CONFIG_FILE = "pxflask.toml"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which."""


def load_settings(
    instance_path: str | Path, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge defaults, the instance TOML file, the environment and overrides."""
    settings = dict(DEFAULTS)
    settings.update(_read_instance_file(Path(instance_path) / CONFIG_FILE))
    for key in DEFAULTS:
        if key in os.environ and os.environ[key] != "":
            settings[key] = os.environ[key]
    settings.update(overrides or {})
    settings["PXFLASK_DEMO"] = _truthy(settings.get("PXFLASK_DEMO"))
    insecure = settings.get("PXFLASK_INSECURE_COOKIES")
    settings["PXFLASK_INSECURE_COOKIES"] = _truthy(insecure)
    settings["PXFLASK_TRUSTED_PROXIES"] = _proxies(settings["PXFLASK_TRUSTED_PROXIES"])
    if not settings["PXFLASK_DATABASE_URL"]:
        db_file = Path(instance_path) / "pxflask.db"
        settings["PXFLASK_DATABASE_URL"] = f"sqlite:///{db_file}"
    settings["XERO_DAY_LIMIT"] = _day_limit(settings["XERO_DAY_LIMIT"])
    if settings["XERO_GRANT"] not in ("authorization_code", "client_credentials"):
        raise ConfigError(
            "XERO_GRANT must be 'authorization_code' or 'client_credentials', "
            f"not {settings['XERO_GRANT']!r}"
        )
    return settings


def _day_limit(value: Any) -> int:
    """Xero calls per tenant per day: 5,000 (1,000 on the Starter tier)."""
    try:
        limit = int(str(value).strip())
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1_000_000:
        raise ConfigError(
            f"XERO_DAY_LIMIT must be a whole number of calls per day, not {value!r} "
            "(5000, or 1000 for a Xero app on the Starter tier)"
        )
    return limit


def _proxies(value: Any) -> int:
    """How many reverse proxies in front are trusted to set X-Forwarded-* (0: none)."""
    text = str(value if value is not None else 0).strip()
    if not text.isdigit() or int(text) > MAX_PROXIES:
        raise ConfigError(
            "PXFLASK_TRUSTED_PROXIES must be the number of reverse proxies in front of "
            f"pxflask (0 to {MAX_PROXIES}; 1 for one nginx), not {value!r}"
        )
    return int(text)


def require_secrets(settings: dict[str, Any]) -> None:
    """Refuse to serve a real deployment without its session and encryption keys."""
    if settings.get("TESTING") or settings.get("PXFLASK_DEMO"):
        return
    required = ("PXFLASK_SECRET_KEY", "PXFLASK_ENCRYPTION_KEY", "PERFEX_DATABASE_URL")
    missing = [key for key in required if not settings.get(key)]
    if missing:
        raise ConfigError(
            "missing required setting(s): "
            + ", ".join(missing)
            + " (set them in the environment or instance/pxflask.toml)"
        )


def _read_instance_file(path: Path) -> dict[str, Any]:
    """Read instance/pxflask.toml when it exists."""
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return {key.upper(): value for key, value in data.items()}


def _truthy(value: Any) -> bool:
    """Read a flag from env-style text or a bool."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
