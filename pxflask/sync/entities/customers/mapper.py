"""Perfex customers -> Xero Contacts, and the name clash disambiguation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pxflask.perfex.records import Contact, Customer
from pxflask.sync.mappers.common import Mapped, clip
from pxflask.sync.mappers.contacts import (
    NAME_MAX,
    deleted_contact_key,
    deleted_contact_number,
    map_deleted_customer,
    normalise_name,
    xero_address,
)

CONTACT_NUMBER_PREFIX = "PX-C-"
"""ContactNumber = 'PX-C-<tblclients.userid>': unique, readable, names its source."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def contact_number(customer_id: int) -> str:
    """The Xero ContactNumber of a Perfex customer: 'PX-C-123'."""
    return f"{CONTACT_NUMBER_PREFIX}{customer_id}"


def customer_id_from_number(number: str | None) -> int | None:
    """The Perfex customer id in a ContactNumber made by `contact_number`, or None."""
    if not number or not number.startswith(CONTACT_NUMBER_PREFIX):
        return None
    rest = number[len(CONTACT_NUMBER_PREFIX) :]
    return int(rest) if rest.isdigit() else None


def contact_name(customer: Customer) -> str:
    """Company name, the primary contact's name for individuals, else 'Customer N'."""
    if not customer.is_individual:
        return clip(" ".join((customer.company or "").split()), NAME_MAX)
    person = customer.primary_contact
    if person is not None:
        full = " ".join(f"{person.firstname} {person.lastname}".split())
        if full:
            return clip(full, NAME_MAX)
    return f"Customer {customer.id}"


def disambiguate_name(name: str, customer_id: int) -> str:
    """A clash-free readable name: 'Acme Ltd (PX-C-123)', at most 255 characters."""
    suffix = f" ({contact_number(customer_id)})"
    return clip(name, NAME_MAX - len(suffix)) + suffix


def _phones(customer: Customer, person: Contact | None) -> list[dict[str, Any]]:
    """DEFAULT phone (company, else person) and the person's as MOBILE if different."""
    company = (customer.phone or "").strip()
    own = ((person.phone if person else None) or "").strip()
    phones = []
    if company or own:
        phones.append({"PhoneType": "DEFAULT", "PhoneNumber": company or own})
    if company and own and own != company:
        phones.append({"PhoneType": "MOBILE", "PhoneNumber": own})
    return phones


def map_contact(
    customer: Customer,
    currencies: Mapping[int, str] | None = None,
    name: str | None = None,
) -> Mapped:
    """Map a Perfex customer to a Xero Contact (name may be a disambiguated one)."""
    payload: dict[str, Any] = {
        "Name": name or contact_name(customer),
        "ContactNumber": contact_number(customer.id),
    }
    notes: list[str] = []
    person = customer.primary_contact
    if person is not None:
        if person.firstname.strip():
            payload["FirstName"] = clip(person.firstname, 255)
        if person.lastname.strip():
            payload["LastName"] = clip(person.lastname, 255)
        email = (person.email or "").strip()
        if email and _EMAIL.match(email):
            payload["EmailAddress"] = email
        elif email:
            notes.append(f"email {email!r} is not valid: left out")
    phones = _phones(customer, person)
    if phones:
        payload["Phones"] = phones
    billing = xero_address(customer.billing, "POBOX") or xero_address(
        customer.address, "POBOX"
    )
    shipping = xero_address(customer.shipping, "STREET")
    addresses = [a for a in (billing, shipping) if a]
    if addresses:
        payload["Addresses"] = addresses
    if customer.vat and customer.vat.strip():
        payload["TaxNumber"] = clip(customer.vat, 50)
    code = (currencies or {}).get(customer.default_currency_id)
    if customer.default_currency_id and code:
        payload["DefaultCurrency"] = code
    return Mapped(key=str(customer.id), payload=payload, notes=tuple(notes))


def same_customer(xero_contact: Mapping[str, Any], customer: Customer) -> bool:
    """True when an existing Xero contact is this customer (number or email)."""
    number = xero_contact.get("ContactNumber")
    if number == contact_number(customer.id):
        return True
    if customer_id_from_number(number) is not None:
        return False
    email = (xero_contact.get("EmailAddress") or "").strip().casefold()
    person = customer.primary_contact
    return bool(email) and person is not None and email == person.email.casefold()


__all__ = [
    "deleted_contact_key",
    "deleted_contact_number",
    "map_deleted_customer",
    "normalise_name",
]
