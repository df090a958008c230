"""Perfex catalogue items -> Xero Items (Code <= 30, Name <= 50)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from pxflask.perfex.records import Item, Tax
from pxflask.sync.mappers.common import Mapped, clip, dec, decimals_needed, strip_html
from pxflask.sync.mappers.taxes import TaxKey, tax_key

CODE_MAX = 30
NAME_MAX = 50
DESCRIPTION_MAX = 4000
_NOT_CODE = re.compile(r"[^A-Z0-9]+")


def _ascii(text: str) -> str:
    """Text folded to ASCII (accents dropped)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def item_code(item_id: int, description: str) -> str:
    """A readable, unique, stable Code: 'WEB-DESIGN-17' (slug + '-' + id, ≤ 30)."""
    suffix = f"-{item_id}"
    slug = _NOT_CODE.sub("-", _ascii(strip_html(description)).upper()).strip("-")
    slug = slug[: CODE_MAX - len(suffix)].rstrip("-")
    return f"{slug}{suffix}" if slug else f"ITEM{suffix}"


def item_names(items: Iterable[Item]) -> dict[int, str]:
    """Unique Names per item id: the description cut to 50; a clash adds ' #id'.

    The lowest id keeps the plain name, so adding items never renames old ones.
    """
    names: dict[int, str] = {}
    taken: set[str] = set()
    for item in sorted(items, key=lambda i: i.id):
        base = " ".join(strip_html(item.description).split()) or f"Item {item.id}"
        name = clip(base, NAME_MAX)
        if name.casefold() in taken:
            suffix = f" #{item.id}"
            name = clip(base, NAME_MAX - len(suffix)) + suffix
        taken.add(name.casefold())
        names[item.id] = name
    return names


def map_item(
    item: Item,
    *,
    name: str,
    sales_account: str,
    taxes: Mapping[int, Tax],
    resolve_tax: Callable[[TaxKey], str],
    no_tax_type: str = "NONE",
) -> Mapped:
    """Map a Perfex item to a Xero Item sold on the sales account."""
    key = tax_key(taxes[t] for t in item.tax_ids if t in taxes)
    missing = [t for t in item.tax_ids if t and t not in taxes]
    parts = (strip_html(item.description), strip_html(item.long_description))
    description = "\n".join(p for p in parts if p)
    price: Decimal = dec(item.rate)
    payload: dict[str, Any] = {
        "Code": item_code(item.id, item.description),
        "Name": name,
        "Description": clip(description or name, DESCRIPTION_MAX),
        "IsSold": True,
        "IsPurchased": False,
        "SalesDetails": {
            "UnitPrice": price,
            "AccountCode": sales_account,
            "TaxType": resolve_tax(key) if key else no_tax_type,
        },
    }
    notes = tuple(f"tax id {t} does not exist: ignored" for t in missing)
    return Mapped(
        key=str(item.id),
        payload=payload,
        unitdp4=decimals_needed(price) > 2,
        notes=notes,
    )
