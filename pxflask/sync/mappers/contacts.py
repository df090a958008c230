"""Contact names and addresses, and the contact of a customer deleted in Perfex."""

from __future__ import annotations

import hashlib
from typing import Any

from pxflask.perfex.records import Address
from pxflask.sync.mappers.common import Mapped, clip, strip_html

NAME_MAX = 255
ADDRESS_LINE_MAX = 500


def normalise_name(name: str) -> str:
    """The form Xero compares contact names in: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def xero_address(address: Address | None, kind: str) -> dict[str, Any] | None:
    """A Xero address dict, or None when the Perfex address is empty."""
    if address is None:
        return None
    street = strip_html(address.street)
    lines = [line.strip() for line in street.split("\n") if line.strip()]
    if len(lines) > 4:
        lines = [*lines[:3], ", ".join(lines[3:])]
    out: dict[str, Any] = {"AddressType": kind}
    for i, line in enumerate(lines, start=1):
        out[f"AddressLine{i}"] = clip(line, ADDRESS_LINE_MAX)
    for field_name, value in (
        ("City", address.city),
        ("Region", address.state),
        ("PostalCode", address.zip),
    ):
        if value and value.strip():
            out[field_name] = value.strip()
    if address.country is not None and address.country.short_name:
        out["Country"] = address.country.short_name
    return out if len(out) > 1 else None


DELETED_NUMBER_PREFIX = "PX-D-"
"""ContactNumber of a deleted customer's contact: 'PX-D-<hash of the name>'."""
DELETED_KEY_PREFIX = "deleted:"
"""Link key of a deleted customer's contact: 'deleted:<name, case-folded>'."""
KEY_MAX = 100


def _name_digest(name: str) -> str:
    """12 hex digits naming a normalised customer name."""
    return hashlib.blake2b(normalise_name(name).encode(), digest_size=6).hexdigest()


def deleted_contact_key(name: str) -> str:
    """The link key shared by every document of one deleted customer name."""
    key = DELETED_KEY_PREFIX + normalise_name(name)
    if len(key) <= KEY_MAX:
        return key
    return key[: KEY_MAX - 13] + "~" + _name_digest(name)


def deleted_contact_number(name: str) -> str:
    """The ContactNumber of a deleted customer's contact: 'PX-D-1a2b3c4d5e6f'."""
    return DELETED_NUMBER_PREFIX + _name_digest(name)


def map_deleted_customer(
    name: str, billing: Address | None, unique_name: bool = False
) -> Mapped:
    """A contact for the documents of a customer deleted in Perfex.

    Named from the documents' `deleted_customer_name` (made unique with its
    ContactNumber when another contact has the name), with the billing address
    the document stored.
    """
    clean = clip(" ".join(name.split()), NAME_MAX)
    number = deleted_contact_number(name)
    if unique_name:
        suffix = f" ({number})"
        clean = clip(clean, NAME_MAX - len(suffix)) + suffix
    payload: dict[str, Any] = {"Name": clean, "ContactNumber": number}
    address = xero_address(billing, "POBOX")
    if address:
        payload["Addresses"] = [address]
    return Mapped(key=deleted_contact_key(name), payload=payload)
