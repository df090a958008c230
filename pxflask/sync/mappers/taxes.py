"""Perfex taxes <-> Xero TaxRates, and the combined-tax key of a line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from pxflask.perfex.records import LineTax
from pxflask.sync.mappers.common import CENT, ZERO, clip, dec, decimals_needed

TaxKey = tuple[tuple[str, Decimal], ...]
"""Sorted, de-duplicated (name, rate) pairs: one Xero tax rate per distinct key."""

NO_TAX: TaxKey = ()
TAX_RATE_NAME_MAX = 50


class _NamedRate(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def rate(self) -> Decimal: ...


def _rate(value: object) -> Decimal:
    """A rate with 2 decimals (20.00), or more only when it has them (9.975)."""
    rate = dec(value)
    return rate.quantize(CENT) if decimals_needed(rate) <= 2 else rate.normalize()


def tax_key(taxes: Iterable[_NamedRate]) -> TaxKey:
    """The combined key of a line's taxes: sorted and unique (0% rates kept)."""
    if type(taxes) is tuple and all(type(t) is LineTax for t in taxes):
        return _tuple_key(taxes)  # frozen; invoice lines share few distinct tuples
    return _key(taxes)


def _key(taxes: Iterable[_NamedRate]) -> TaxKey:
    """tax_key, computed."""
    return tuple(sorted({(t.name.strip(), _rate(t.rate)) for t in taxes}))


@lru_cache(maxsize=4096)
def _tuple_key(taxes: tuple[LineTax, ...]) -> TaxKey:
    """tax_key of an immutable tuple of taxes, remembered."""
    return _key(taxes)


def key_rate(key: TaxKey) -> Decimal:
    """The effective rate of a key: Perfex taxes are compound-free, so the sum."""
    return sum((rate for _, rate in key), ZERO)


def _rate_text(rate: Decimal) -> str:
    """A rate without useless trailing zeros: 20, 7.5, 2.25."""
    return format(rate.normalize(), "f")


def tax_rate_name(key: TaxKey) -> str:
    """A readable Xero TaxRate name for a key, e.g. 'VAT 20% + Eco 2%' (≤ 50)."""
    if not key:
        return "No tax"
    return clip(" + ".join(f"{n} {_rate_text(r)}%" for n, r in key), TAX_RATE_NAME_MAX)


def map_tax_rate(key: TaxKey, report_tax_type: str | None = None) -> dict[str, Any]:
    """A Xero TaxRate payload for a key: one component per Perfex tax."""
    if not key:
        raise ValueError("the empty tax key maps to the no-tax type, not a TaxRate")
    payload: dict[str, Any] = {
        "Name": tax_rate_name(key),
        "TaxComponents": [
            {"Name": clip(name, 50), "Rate": rate, "IsCompound": False}
            for name, rate in key
        ],
    }
    if report_tax_type:
        payload["ReportTaxType"] = report_tax_type
    return payload


def xero_rate_of(tax_rate: Mapping[str, Any]) -> Decimal:
    """The effective rate of a Xero TaxRate dict (EffectiveRate or its components)."""
    for field_name in ("EffectiveRate", "DisplayTaxRate"):
        if tax_rate.get(field_name) is not None:
            return dec(tax_rate[field_name])
    components = tax_rate.get("TaxComponents") or []
    return sum((dec(c.get("Rate")) for c in components), ZERO)


def xero_rate_key(tax_rate: Mapping[str, Any]) -> TaxKey:
    """The key a Xero TaxRate stands for, from its components (or its name/rate)."""
    components = tax_rate.get("TaxComponents") or []
    pairs = {
        (str(c.get("Name") or "").strip(), _rate(c.get("Rate"))) for c in components
    }
    if not pairs:
        pairs = {
            (str(tax_rate.get("Name") or "").strip(), _rate(xero_rate_of(tax_rate)))
        }
    return tuple(sorted(pairs))


def tax_rate_to_perfex(tax_rate: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Perfex tax (name, taxrate) for a Xero TaxRate; None for none or combined."""
    if str(tax_rate.get("Status") or "ACTIVE").upper() != "ACTIVE":
        return None
    components = [c for c in tax_rate.get("TaxComponents") or [] if dec(c.get("Rate"))]
    if len(components) > 1:
        return None
    rate = xero_rate_of(tax_rate).quantize(CENT)
    if rate == 0:
        return None
    name = clip(str(tax_rate.get("Name") or "").strip(), 100)
    return {"name": name, "taxrate": rate}
