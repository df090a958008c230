"""Rules of the contacts pull: the fields, their fingerprints, which side wins.

Which side wins, per field (Name, FirstName, LastName, EmailAddress, Phone,
Mobile, POBOX address, STREET address, TaxNumber), comparing the Xero contact
with the customer's push mapping (what pxflask would send):

- both say the same: nothing to write; both are remembered as the new base.
- the field changed in Xero since the base and Perfex did not change it since
  pxflask last sent it: Xero wins, the value is written into Perfex.
- both changed it: Perfex wins, nothing is written to Perfex, the log says so
  (the next push sends Perfex's value to Xero).
- only Perfex changed it: nothing here (the push sends it).

"Perfex changed it" means: the customer has an unsent change (its push mapping no
longer hashes to the customers link) and this field differs from the base. The
base is a fingerprint per field of each side at their last agreement (kept on a
`customers-pull` link: payload_hash for Xero, source_hash for Perfex); with no
base yet, a customer with no unsent change counts as unchanged in Perfex.
An archived Xero contact is never deleted nor deactivated in Perfex: logged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pxflask.perfex.customer_updates import FieldWrite
from pxflask.perfex.records import Customer
from pxflask.sync.entities.customers import SWITCH

ENTITY = "customers"
BASES = "customers-pull"
"""Link entity of the per-field bases (one link per linked customer)."""
CURSOR = "xero.contacts.modified"
FIELDS = (
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "Phone",
    "Mobile",
    "POBOX",
    "STREET",
    "TaxNumber",
)
FP = 7
"""Hex digits of one field's fingerprint (9 fields x 7 fit a 64-character column)."""

SAME, XERO, CONFLICT, PERFEX = "same", "xero", "conflict", "perfex"
ARCHIVED = "archived in Xero: the Perfex customer is kept (nothing deleted)"
ADDRESS_KEYS = (
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "AddressLine4",
    "City",
    "Region",
    "PostalCode",
    "Country",
)


def enabled(settings: Mapping[str, str]) -> bool:
    """True when contacts changed in Xero update the linked Perfex customers."""
    return SWITCH.is_on(settings)


def _clean(value: Any) -> str:
    """Text with blanks squashed ('' for None)."""
    return " ".join(str(value or "").split())


def _phone(phone: Mapping[str, Any]) -> str:
    """A Xero phone as one text: country code, area code, number."""
    parts = (phone.get(k) for k in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber"))
    return " ".join(_clean(p) for p in parts if _clean(p))


def _address(address: Mapping[str, Any] | None) -> str:
    """A Xero address as canonical text ('' when empty)."""
    if not address:
        return ""
    kept = {k: _clean(address.get(k)) for k in ADDRESS_KEYS if _clean(address.get(k))}
    return json.dumps(kept, sort_keys=True) if kept else ""


def contact_fields(contact: Mapping[str, Any]) -> dict[str, str]:
    """The pulled fields of a Xero-shaped contact (Xero's or a push payload)."""
    phones = {p.get("PhoneType"): _phone(p) for p in contact.get("Phones") or []}
    addresses = {a.get("AddressType"): a for a in contact.get("Addresses") or []}
    return {
        "Name": _clean(contact.get("Name")),
        "FirstName": _clean(contact.get("FirstName")),
        "LastName": _clean(contact.get("LastName")),
        "EmailAddress": _clean(contact.get("EmailAddress")),
        "Phone": phones.get("DEFAULT", ""),
        "Mobile": phones.get("MOBILE", ""),
        "POBOX": _address(addresses.get("POBOX")),
        "STREET": _address(addresses.get("STREET")),
        "TaxNumber": _clean(contact.get("TaxNumber")),
    }


def fingerprint(value: str) -> str:
    """The short fingerprint of one field's value."""
    return hashlib.blake2b(value.encode(), digest_size=4).hexdigest()[:FP]


def fingerprints(fields: Mapping[str, str]) -> str:
    """Every field's fingerprint, concatenated in FIELDS order (63 characters)."""
    return "".join(fingerprint(fields.get(name, "")) for name in FIELDS)


def parse(stored: str | None) -> dict[str, str] | None:
    """Field -> fingerprint from a stored base, or None when there is none."""
    if not stored or len(stored) != FP * len(FIELDS):
        return None
    return {name: stored[i * FP : (i + 1) * FP] for i, name in enumerate(FIELDS)}


def verdict(
    name: str,
    xero: str,
    perfex: str,
    base_x: Mapping[str, str] | None,
    base_p: Mapping[str, str] | None,
    unsent: bool,
) -> str:
    """SAME, XERO (write into Perfex), CONFLICT (Perfex wins) or PERFEX (push sends)."""
    if xero == perfex:
        return SAME
    if base_x is None or base_p is None:
        return CONFLICT if unsent else XERO
    if fingerprint(xero) == base_x[name]:
        return PERFEX
    perfex_changed = unsent and fingerprint(perfex) != base_p[name]
    return CONFLICT if perfex_changed else XERO


def _address_write(prefix: str, text: str) -> dict[str, Any]:
    """The tblclients columns of one address from its canonical text."""
    parts: dict[str, str] = json.loads(text) if text else {}
    lines = [parts[k] for k in ADDRESS_KEYS[:4] if parts.get(k)]
    return {
        f"{prefix}_street": "\n".join(lines),
        f"{prefix}_city": parts.get("City", ""),
        f"{prefix}_state": parts.get("Region", ""),
        f"{prefix}_zip": parts.get("PostalCode", ""),
        f"{prefix}_country": parts.get("Country", ""),
    }


def field_write(name: str, value: str, customer: Customer) -> FieldWrite | None:
    """The Perfex columns a Xero field's value goes to; None when it has none.

    Name is the company (an individual's name comes from the person: not written);
    the DEFAULT phone is the company phone (the person's when the company has none
    and the person has one, as the push chose it); MOBILE is the person's phone.
    """
    person = customer.primary_contact
    if name == "Name":
        return None if customer.is_individual else FieldWrite(client={"company": value})
    if name in ("FirstName", "LastName", "EmailAddress", "Mobile"):
        column = {
            "FirstName": "firstname",
            "LastName": "lastname",
            "EmailAddress": "email",
            "Mobile": "phonenumber",
        }[name]
        return FieldWrite(contact={column: value})
    if name == "Phone":
        own = ((person.phone if person else None) or "").strip()
        if not (customer.phone or "").strip() and own:
            return FieldWrite(contact={"phonenumber": value})
        return FieldWrite(client={"phonenumber": value})
    if name == "POBOX":
        return FieldWrite(client=_address_write("billing", value))
    if name == "STREET":
        return FieldWrite(client=_address_write("shipping", value))
    return FieldWrite(client={"vat": value})


def shown(name: str, value: str) -> str:
    """A field's value as the log and a dry run show it."""
    if name in ("POBOX", "STREET") and value:
        return ", ".join(json.loads(value).values())
    return value
