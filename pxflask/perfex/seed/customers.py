"""Demo customers (companies and individuals) and their contacts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pxflask.perfex.seed.catalogue import (
    CITIES,
    COUNTRIES,
    CURRENCY_BY_COUNTRY,
    FIRST_NAMES,
    HISTORY_DAYS,
    LAST_NAMES,
    NAME_A,
    NAME_B,
    SPECIAL_CUSTOMERS,
    STREETS,
    SUFFIX_BY_COUNTRY,
)
from pxflask.perfex.seed.reference import Ref
from pxflask.perfex.seed.rows import random_phone, slug

# ---------------------------------------------------------------------- customers


@dataclass
class Customer:
    """What invoices need to know about a seeded customer."""

    id: int
    currency_id: int
    country_id: int
    street: str
    city: str
    zip: str
    created: datetime


def seed_customers(
    rng: random.Random,
    ref: Ref,
    count: int,
    first_id: int,
    first_contact: int,
    today: date,
) -> tuple[list[Customer], list[dict], list[dict]]:
    """Customer and contact rows."""
    specs = list(SPECIAL_CUSTOMERS[:count])
    isos = [c[0] for c in COUNTRIES]
    while len(specs) < count:
        iso = rng.choice(isos)
        if rng.random() < 0.15:
            specs.append(
                ("", iso, None, (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)))
            )
        else:
            name = (
                f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} "
                f"{rng.choice(SUFFIX_BY_COUNTRY[iso])}"
            )
            specs.append((name, iso, CURRENCY_BY_COUNTRY.get(iso), None))
    customers, client_rows, contact_rows = [], [], []
    contact_id = first_contact
    for offset, (company, iso, code, person) in enumerate(specs):
        cid = first_id + offset
        country_id = ref.countries[iso]
        currency_id = ref.currencies[code] if code and code != ref.base_currency else 0
        created = datetime.combine(
            today - timedelta(days=HISTORY_DAYS + 30 + rng.randint(0, 300)),
            time(9, 0),
        ) + timedelta(minutes=rng.randint(0, 600))
        street = f"{rng.randint(1, 250)} {rng.choice(STREETS)}"
        city = CITIES.get(iso, "Springfield")
        zip_code = f"{rng.randint(10000, 99999)}"
        domain = f"{slug(company or ''.join(person or ()))}{cid}.example"
        client_rows.append(
            {
                "userid": cid,
                "company": company,
                "vat": f"{iso}{rng.randint(100000000, 999999999)}" if company else None,
                "phonenumber": random_phone(rng),
                "country": country_id,
                "city": city,
                "zip": zip_code,
                "state": None,
                "address": street,
                "website": f"https://www.{domain}" if company else None,
                "datecreated": created,
                "active": 0 if rng.random() < 0.05 else 1,
                "leadid": None,
                "billing_street": street,
                "billing_city": city,
                "billing_state": None,
                "billing_zip": zip_code,
                "billing_country": country_id,
                "shipping_street": None,
                "shipping_city": None,
                "shipping_state": None,
                "shipping_zip": None,
                "shipping_country": 0,
                "longitude": None,
                "latitude": None,
                "default_language": "",
                "default_currency": currency_id,
                "show_primary_contact": 0,
                "stripe_id": None,
                "registration_confirmed": 1,
                "addedfrom": ref.admin_id,
            }
        )
        people = [person or (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))]
        people += [
            (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            for _ in range(rng.choice([0, 0, 1, 2]))
        ]
        for index, (first, last) in enumerate(people):
            contact_rows.append(
                {
                    "id": contact_id,
                    "userid": cid,
                    "is_primary": int(index == 0),
                    "firstname": first,
                    "lastname": last,
                    "email": f"{slug(first)}.{slug(last)}{contact_id}@{domain}",
                    "phonenumber": random_phone(rng),
                    "title": rng.choice([None, "CEO", "Accounts", "Office manager"]),
                    "datecreated": created,
                    "password": None,
                    "active": 1,
                    "invoice_emails": 1,
                    "estimate_emails": 1,
                    "credit_note_emails": 1,
                    "contract_emails": 1,
                    "task_emails": 1,
                    "project_emails": 1,
                    "ticket_emails": 1,
                }
            )
            contact_id += 1
        customers.append(
            Customer(
                cid,
                currency_id or ref.currencies[ref.base_currency],
                country_id,
                street,
                city,
                zip_code,
                created,
            )
        )
    return customers, client_rows, contact_rows


# ----------------------------------------------------------------------- documents
