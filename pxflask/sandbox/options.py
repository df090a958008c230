"""Configuration of a sandbox instance."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .regions import DEFAULT_REGION, profile

DEMO_TENANT_ID = "3f5c1d2e-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
SECOND_TENANT_ID = "8b9a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"


@dataclass
class TenantSeed:
    """One organisation to seed: id, name, base currency and subscriptions."""

    tenant_id: str = DEMO_TENANT_ID
    name: str = "Demo Company (Global)"
    base_currency: str = "USD"
    currencies: tuple[str, ...] = ("EUR", "GBP", "AUD", "NZD", "CAD")
    country_code: str = "US"
    region: str = "global"
    """The region profile whose chart and tax rates the organisation gets."""


@dataclass
class SandboxOptions:
    """All knobs of the sandbox; every field has a Xero-like default."""

    client_id: str = "SANDBOXCLIENTID0000000000000000A"
    client_secret: str = "sandbox-client-secret-0123456789abcdef"  # noqa: S105
    access_ttl_s: int = 1800
    refresh_ttl_s: int = 60 * 24 * 3600
    refresh_grace_s: int = 1800
    code_ttl_s: int = 300
    calls_per_window: int = 60
    window_s: float = 60.0
    concurrent_limit: int = 5
    day_limit: int = 5000
    day_window_s: float = 86400.0
    app_calls_per_window: int = 10000
    idempotency_ttl_s: float = 360.0
    email_day_limit: int = 1000
    """Invoice e-mails an organisation may send per day (Xero's figure unverified)."""
    contract_mode: bool = False
    tenants: list[TenantSeed] | None = None
    region: str = DEFAULT_REGION
    """uk, au, nz, us or global: the demo organisation's country and tax rules."""
    base_currency: str | None = None
    """None: the region's currency (GBP for uk)."""
    second_tenant: bool = False
    auto_approve: bool = False
    webhook_key: str = "sandbox-webhook-key"
    extra: dict[str, Any] = field(default_factory=dict)

    def tenant_seeds(self) -> list[TenantSeed]:
        """The organisations to seed, honouring base_currency/second_tenant."""
        if self.tenants:
            return list(self.tenants)
        region = profile(self.region)
        base = self.base_currency or region.base_currency
        others = ("USD", "EUR", "GBP", "AUD", "NZD", "CAD")
        seeds = [
            TenantSeed(
                name=region.name,
                base_currency=base,
                currencies=tuple(c for c in others if c != base),
                country_code=region.country_code,
                region=region.code,
            )
        ]
        if self.second_tenant:
            seeds.append(
                TenantSeed(
                    tenant_id=SECOND_TENANT_ID,
                    name="Second Sandbox Ltd",
                    base_currency="GBP",
                    currencies=("USD", "EUR", "AUD", "NZD"),
                    country_code="GB",
                    region="uk",
                )
            )
        return seeds

    def replace(self, **changes: Any) -> SandboxOptions:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)
