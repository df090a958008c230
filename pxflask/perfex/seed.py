"""Realistic, deterministic demo data for a Perfex database (tables created if absent).

``seed_demo`` fills companies and individuals (unicode and duplicate names), contacts,
countries, three currencies (USD base, EUR, GBP), taxes (VAT 20, GST 10, City Tax 5,
Exempt 0) with two taxes on some lines, items, payment modes, invoices in every state
(draft, cancelled, unpaid, overdue, partly paid, paid; statuses consistent with the
payments and due dates as of ``today``), before/after-tax percent and fixed discounts,
adjustments, optional lines, payments by mode id and by gateway (stripe, paypal),
credit notes (some applied to invoices), expenses with categories, the options Perfex
needs and three staff accounts:

* ``admin@example.com``: active administrator, password ``admin_password``
  (default ``DEFAULT_ADMIN_PASSWORD`` = "demo-admin");
* ``staff@example.com``: active, not an administrator (same password);
* ``former.admin@example.com``: an inactive administrator (same password).

Stored subtotal/total_tax/discount_total/total are what Perfex stores (totals.py).
The same seed and ``today`` give the same data. Rows are inserted with executemany in
one transaction with explicit ids, so 10,000 invoices take a few seconds.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB, PerfexError
from pxflask.perfex.numbering import (
    FORMAT_NUMBER,
    FORMAT_NUMBER_MM_YYYY,
    FORMAT_YEAR,
    format_credit_note_number,
    format_invoice_number,
)
from pxflask.perfex.passwords import hash_password
from pxflask.perfex.records import (
    CREDIT_NOTE_CLOSED,
    CREDIT_NOTE_OPEN,
    CREDIT_NOTE_VOID,
    DRAFT_NUMBER,
    INVOICE_CANCELLED,
    INVOICE_DRAFT,
    Line,
    LineTax,
)
from pxflask.perfex.schema import create_tables
from pxflask.perfex.totals import InvoiceTotals, compute_totals, round_money
from pxflask.perfex.writes import invoice_status_for

DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "demo-admin"  # noqa: S105 - documented demo credential
STAFF_EMAIL = "staff@example.com"
INACTIVE_ADMIN_EMAIL = "former.admin@example.com"

PADDING = 6
INVOICE_PREFIX = "INV-"
CREDIT_NOTE_PREFIX = "CN-"
DUE_AFTER_DAYS = 30
HISTORY_DAYS = 540
ZERO = Decimal("0.00")
D = Decimal


class SeedRefused(PerfexError):
    """Seeding was refused: the database already holds invoices or staff."""


@dataclass(frozen=True)
class SeedSummary:
    """What seed_demo inserted."""

    customers: int
    contacts: int
    invoices: int
    lines: int
    line_taxes: int
    payments: int
    credit_notes: int
    expenses: int
    admin_email: str
    admin_password: str
    status_counts: dict[int, int] = field(default_factory=dict)


# ----------------------------------------------------------------- reference data

COUNTRIES = [
    # iso2, short name, long name, iso3, numcode, calling code, cctld
    ("AU", "Australia", "Commonwealth of Australia", "AUS", "036", "61", ".au"),
    ("CA", "Canada", "Canada", "CAN", "124", "1", ".ca"),
    ("FR", "France", "French Republic", "FRA", "250", "33", ".fr"),
    ("DE", "Germany", "Federal Republic of Germany", "DEU", "276", "49", ".de"),
    ("IE", "Ireland", "Ireland", "IRL", "372", "353", ".ie"),
    ("JP", "Japan", "Japan", "JPN", "392", "81", ".jp"),
    ("NL", "Netherlands", "Kingdom of the Netherlands", "NLD", "528", "31", ".nl"),
    ("NZ", "New Zealand", "New Zealand", "NZL", "554", "64", ".nz"),
    ("ES", "Spain", "Kingdom of Spain", "ESP", "724", "34", ".es"),
    ("SE", "Sweden", "Kingdom of Sweden", "SWE", "752", "46", ".se"),
    ("CH", "Switzerland", "Swiss Confederation", "CHE", "756", "41", ".ch"),
    (
        "GB",
        "United Kingdom",
        "United Kingdom of Great Britain",
        "GBR",
        "826",
        "44",
        ".uk",
    ),
    ("US", "United States", "United States of America", "USA", "840", "1", ".us"),
]

CURRENCIES = [
    # code, symbol, decimal sep, thousand sep, placement, is default
    ("USD", "$", ".", ",", "before", 1),
    ("EUR", "€", ",", ".", "before", 0),
    ("GBP", "£", ".", ",", "before", 0),
]

TAXES = [
    ("VAT", D("20.00")),
    ("GST", D("10.00")),
    ("City Tax", D("5.00")),
    ("Exempt", D("0.00")),
]

PAYMENT_MODES = [
    ("Bank", "Bank transfer to our main account"),
    ("Cash", None),
    ("Cheque", "Cheques payable to Demo Company Ltd"),
]
GATEWAYS = [("stripe", ("Visa", "Mastercard", "Amex")), ("paypal", ("",))]

EXPENSE_CATEGORIES = [
    ("Travel", "Flights, trains and hotels"),
    ("Office Supplies", None),
    ("Software", "Subscriptions and licences"),
    ("Rent", None),
    ("Meals & Entertainment", None),
]

ITEM_GROUPS = ["Services", "Products", "Hosting"]

ITEMS = [
    # description, long description, rate, unit, taxes, group index
    ("Web Design", "Responsive page design, per page", "450.00", "page", ["VAT"], 0),
    ("Consulting", "Senior consultant time", "120.00", "hour", ["VAT"], 0),
    ("Hosting (monthly)", "Managed hosting plan", "29.99", "month", ["VAT"], 2),
    ("Domain Registration", None, "14.50", "year", [], 2),
    ("SSL Certificate", "Extended validation", "69.00", "year", ["VAT", "City Tax"], 2),
    ("Support Retainer", "Up to 10 hours a month", "850.00", "month", ["GST"], 0),
    ("Laptop Stand", "Aluminium, adjustable", "39.95", "pc", ["VAT"], 1),
    ("USB-C Cable 2m", None, "9.49", "pc", ["VAT", "City Tax"], 1),
    (
        "Training Workshop",
        "Half-day on-site workshop",
        "1250.00",
        "day",
        ["GST", "City Tax"],
        0,
    ),
    ("Logo Design", None, "300.00", None, ["VAT"], 0),
    ("SEO Audit", "Technical and content audit", "780.00", None, [], 0),
    (
        "Café voucher «Grüße»",
        "Gutschein für Kaffee & Kuchen",
        "25.00",
        "pc",
        ["City Tax"],
        1,
    ),
]

OPTIONS = {
    "companyname": "Demo Company Ltd",
    "invoice_prefix": INVOICE_PREFIX,
    "invoice_number_format": "1",
    "next_invoice_number": "1",
    "number_padding_prefixes": str(PADDING),
    "invoice_number_decrement_on_delete": "1",
    "credit_note_prefix": CREDIT_NOTE_PREFIX,
    "credit_note_number_format": "1",
    "next_credit_note_number": "1",
    "decimal_separator": ".",
    "thousand_separator": ",",
    "default_tax": "a:0:{}",
    "show_tax_per_item": "1",
    "invoice_due_after": str(DUE_AFTER_DAYS),
    "last_cron_run": "",
    "cron_has_run_from_cli": "0",
}
NON_AUTOLOAD = {"next_invoice_number", "next_credit_note_number"}

# company, country iso2, currency code (None = base), individual contact name
SPECIAL_CUSTOMERS = [
    ("Müller & Söhne GmbH", "DE", "EUR", None),
    ("株式会社テスト", "JP", None, None),
    ("Acme Corporation", "US", None, None),
    ("Acme Corporation", "GB", "GBP", None),
    ("", "SE", "EUR", ("Zoë", "Ångström")),
    ("Café Olé SARL", "FR", "EUR", None),
    ("O'Brien & Daughters Ltd", "IE", "EUR", None),
    ("Kiwi Orchards Ltd", "NZ", None, None),
    ("", "ES", "EUR", ("José", "Álvarez")),
    ("Great Northern Widgets Ltd", "GB", "GBP", None),
]
NAME_A = [
    "Blue",
    "Silver",
    "Northern",
    "Bright",
    "Golden",
    "Red",
    "Quiet",
    "Swift",
    "Green",
    "Coastal",
    "Urban",
    "Alpine",
    "Harbour",
    "Summit",
    "Pixel",
]
NAME_B = [
    "River",
    "Oak",
    "Falcon",
    "Harbor",
    "Stone",
    "Lantern",
    "Meadow",
    "Forge",
    "Orbit",
    "Maple",
    "Anchor",
    "Beacon",
    "Cedar",
    "Willow",
    "Atlas",
]
SUFFIX_BY_COUNTRY = {
    "US": ["Inc.", "LLC", "Corp."],
    "GB": ["Ltd", "LLP", "plc"],
    "DE": ["GmbH", "AG", "KG"],
    "FR": ["SARL", "SAS"],
    "NL": ["B.V."],
    "AU": ["Pty Ltd"],
    "NZ": ["Ltd"],
    "CA": ["Inc.", "Ltd"],
    "IE": ["Ltd"],
    "CH": ["AG", "GmbH"],
    "SE": ["AB"],
    "ES": ["S.L.", "S.A."],
    "JP": ["K.K."],
}
CURRENCY_BY_COUNTRY = {
    "DE": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "IE": "EUR",
    "ES": "EUR",
    "GB": "GBP",
}
FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Elif",
    "François",
    "Grace",
    "Hiro",
    "Isabel",
    "Jürgen",
    "Kate",
    "Łukasz",
    "María",
    "Noah",
    "Olivia",
    "Priya",
    "Siobhán",
    "Tom",
    "Yuki",
    "Zoë",
]
LAST_NAMES = [
    "Smith",
    "García",
    "Müller",
    "Tanaka",
    "O'Neill",
    "Dubois",
    "Kowalski",
    "Johansson",
    "Rossi",
    "Brown",
    "Nguyen",
    "Patel",
    "Schmidt",
    "Wilson",
]
STREETS = [
    "Hauptstraße",
    "High Street",
    "Rue de la Paix",
    "Main Street",
    "Queen Street",
    "Calle Mayor",
    "Kungsgatan",
    "Bahnhofstrasse",
]
CITIES = {
    "US": "Springfield",
    "GB": "Manchester",
    "DE": "München",
    "FR": "Lyon",
    "JP": "東京",
    "AU": "Sydney",
    "NZ": "Auckland",
    "CA": "Toronto",
    "IE": "Dublin",
    "NL": "Utrecht",
    "ES": "Sevilla",
    "SE": "Göteborg",
    "CH": "Zürich",
}
CUSTOM_LINES = [
    "Custom development – sprint",
    "Rush delivery surcharge",
    "Data migration",
    "On-site visit (travel included)",
    "Licence renewal",
    "Übersetzung / translation",
]
QTY_HOURLY = [D("1"), D("1.5"), D("2"), D("2.25"), D("7.5"), D("10"), D("0.33")]
ADJUSTMENTS = [D("-0.01"), D("0.01"), D("-0.02"), D("0.05"), D("-5.00"), D("2.50")]
PERCENTS = [D("5.00"), D("10.00"), D("12.50"), D("15.00")]
FIXED = [D("10.00"), D("25.00"), D("50.00"), D("99.99")]


# ---------------------------------------------------------------------- helpers


def _slug(text: str) -> str:
    """ASCII letters/digits of a name, lower-case, for emails and websites."""
    plain = unicodedata.normalize("NFKD", text.lower())
    out = "".join(ch for ch in plain if ch.isascii() and ch.isalnum())
    return out or "customer"


def _phone(rng: random.Random) -> str:
    """A made-up international phone number."""
    return f"+{rng.randint(1, 99)} {rng.randint(1000000, 9999999)}"


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount in [low, high] with cents."""
    return D(rng.randint(low * 100, high * 100)) / 100


def _serialize(values: Sequence[str]) -> str:
    """A PHP-serialized list of strings (allowed_payment_modes)."""
    parts = "".join(f'i:{i};s:{len(v.encode())}:"{v}";' for i, v in enumerate(values))
    return f"a:{len(values)}:{{{parts}}}"


def _next_id(conn: sa.Connection, table: sa.Table) -> int:
    """max(pk) + 1 for a table."""
    pk = next(iter(table.primary_key.columns))
    return (
        int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(pk), 0))).scalar()) + 1
    )


def _insert(conn: sa.Connection, db: PerfexDB, name: str, rows: list[dict]) -> None:
    """executemany insert, keeping only the columns this database has."""
    if not rows:
        return
    present = db.columns[name]
    keys = [key for key in rows[0] if key in present]
    if len(keys) != len(rows[0]):
        rows = [{key: row[key] for key in keys} for row in rows]
    conn.execute(db.tables.table(name).insert(), rows)


def _ensure_by(
    conn: sa.Connection,
    db: PerfexDB,
    name: str,
    key_cols: Sequence[str],
    rows: list[dict],
) -> dict[tuple, int]:
    """Insert rows whose key is absent; return key -> id for all given rows."""
    table = db.tables.table(name)
    pk = next(iter(table.primary_key.columns))
    cols = [table.c[c] for c in key_cols]
    existing: dict[tuple, int] = {}
    for row in conn.execute(sa.select(pk, *cols).order_by(pk)):
        existing.setdefault(tuple(row[1:]), row[0])
    missing = [r for r in rows if tuple(r[c] for c in key_cols) not in existing]
    next_id = _next_id(conn, table)
    for offset, row in enumerate(missing):
        row[pk.name] = next_id + offset
        existing[tuple(row[c] for c in key_cols)] = next_id + offset
    _insert(conn, db, name, missing)
    return {
        tuple(r[c] for c in key_cols): existing[tuple(r[c] for c in key_cols)]
        for r in rows
    }


@dataclass
class _Ref:
    """Ids of the reference data the documents point at."""

    countries: dict[str, int]
    currencies: dict[str, int]
    base_currency: str
    taxes: dict[str, LineTax]
    tax_ids: dict[str, int]
    mode_ids: list[int]
    category_ids: list[int]
    items: list[tuple[str, str | None, Decimal, str | None, tuple[LineTax, ...]]]
    admin_id: int
    staff_id: int


def _reference_data(
    conn: sa.Connection, db: PerfexDB, now: datetime, password_hash: str
) -> _Ref:
    """Countries, currencies, taxes, modes, categories, items, options and staff."""
    countries = _ensure_by(
        conn,
        db,
        "countries",
        ["iso2"],
        [
            {
                "iso2": c[0],
                "short_name": c[1],
                "long_name": c[2],
                "iso3": c[3],
                "numcode": c[4],
                "un_member": "yes",
                "calling_code": c[5],
                "cctld": c[6],
            }
            for c in COUNTRIES
        ],
    )
    has_default = conn.execute(
        sa.select(sa.func.count()).where(db.tables.currencies.c.isdefault == 1)
    ).scalar()
    currencies = _ensure_by(
        conn,
        db,
        "currencies",
        ["name"],
        [
            {
                "name": code,
                "symbol": sym,
                "decimal_separator": dec,
                "thousand_separator": th,
                "placement": place,
                "isdefault": 0 if has_default else default,
            }
            for code, sym, dec, th, place, default in CURRENCIES
        ],
    )
    cur = db.tables.currencies
    base = (
        conn.execute(
            sa.select(cur.c.name)
            .where(cur.c.isdefault == 1)
            .order_by(cur.c.id)
            .limit(1)
        ).scalar()
        or "USD"
    )
    tax_ids = _ensure_by(
        conn,
        db,
        "taxes",
        ["name", "taxrate"],
        [{"name": n, "taxrate": r} for n, r in TAXES],
    )
    taxes = {n: LineTax(n, r) for n, r in TAXES}
    modes = _ensure_by(
        conn,
        db,
        "payment_modes",
        ["name"],
        [
            {
                "name": n,
                "description": d,
                "show_on_pdf": 0,
                "invoices_only": 0,
                "expenses_only": 0,
                "selected_by_default": 1,
                "active": 1,
            }
            for n, d in PAYMENT_MODES
        ],
    )
    categories = _ensure_by(
        conn,
        db,
        "expenses_categories",
        ["name"],
        [{"name": n, "description": d} for n, d in EXPENSE_CATEGORIES],
    )
    groups = _ensure_by(
        conn, db, "items_groups", ["name"], [{"name": g} for g in ITEM_GROUPS]
    )
    item_rows = []
    for desc, long_desc, rate, unit, names, group in ITEMS:
        ids = [tax_ids[(n, dict(TAXES)[n])] for n in names]
        item_rows.append(
            {
                "description": desc,
                "long_description": long_desc,
                "rate": D(rate),
                "tax": ids[0] if ids else None,
                "tax2": ids[1] if len(ids) > 1 else None,
                "unit": unit,
                "group_id": groups[(ITEM_GROUPS[group],)],
            }
        )
    _ensure_by(conn, db, "items", ["description"], item_rows)
    items = [
        (desc, long_desc, D(rate), unit, tuple(taxes[n] for n in names))
        for desc, long_desc, rate, unit, names, _ in ITEMS
    ]
    _ensure_by(
        conn,
        db,
        "options",
        ["name"],
        [
            {"name": k, "value": v, "autoload": 0 if k in NON_AUTOLOAD else 1}
            for k, v in OPTIONS.items()
        ],
    )
    staff = _ensure_by(
        conn,
        db,
        "staff",
        ["email"],
        [
            {
                "email": email,
                "firstname": first,
                "lastname": last,
                "password": password_hash,
                "datecreated": now - timedelta(days=700),
                "admin": admin,
                "active": active,
                "is_not_staff": 0,
                "hourly_rate": ZERO,
                "two_factor_auth_enabled": 0,
            }
            for email, first, last, admin, active in [
                (DEFAULT_ADMIN_EMAIL, "Ada", "Admin", 1, 1),
                (STAFF_EMAIL, "Sam", "Staff", 0, 1),
                (INACTIVE_ADMIN_EMAIL, "Fritz", "Früher", 1, 0),
            ]
        ],
    )
    return _Ref(
        countries={k[0]: v for k, v in countries.items()},
        currencies={k[0]: v for k, v in currencies.items()},
        base_currency=base,
        taxes=taxes,
        tax_ids={k[0]: v for k, v in tax_ids.items()},
        mode_ids=list(modes.values()),
        category_ids=list(categories.values()),
        items=items,
        admin_id=staff[(DEFAULT_ADMIN_EMAIL,)],
        staff_id=staff[(STAFF_EMAIL,)],
    )


# ---------------------------------------------------------------------- customers


@dataclass
class _Customer:
    """What invoices need to know about a seeded customer."""

    id: int
    currency_id: int
    country_id: int
    street: str
    city: str
    zip: str
    created: datetime


def _customers(
    rng: random.Random,
    ref: _Ref,
    count: int,
    first_id: int,
    first_contact: int,
    today: date,
) -> tuple[list[_Customer], list[dict], list[dict]]:
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
        domain = f"{_slug(company or ''.join(person or ()))}{cid}.example"
        client_rows.append(
            {
                "userid": cid,
                "company": company,
                "vat": f"{iso}{rng.randint(100000000, 999999999)}" if company else None,
                "phonenumber": _phone(rng),
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
                    "email": f"{_slug(first)}.{_slug(last)}{contact_id}@{domain}",
                    "phonenumber": _phone(rng),
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
            _Customer(
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


@dataclass
class _Ids:
    """Next free ids per table."""

    invoice: int
    line: int
    payment: int
    credit_note: int
    credit: int
    expense: int
    invoice_number: int
    credit_note_number: int


def _lines(
    rng: random.Random,
    ref: _Ref,
    ids: _Ids,
    doc_id: int,
    rel_type: str,
    line_rows: list[dict],
    tax_rows: list[dict],
    optional_extra: bool,
) -> list[Line]:
    """Random lines for one document; rows appended to line_rows/tax_rows."""
    specs: list[
        tuple[
            str,
            str | None,
            Decimal,
            Decimal,
            str | None,
            tuple[LineTax, ...],
            bool,
            bool,
        ]
    ] = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])):
        if rng.random() < 0.85:
            desc, long_desc, rate, unit, taxes = rng.choice(ref.items)
        else:
            desc, long_desc, unit = rng.choice(CUSTOM_LINES), None, None
            rate = _money(rng, 5, 2000)
            taxes = (ref.taxes["VAT"],)
        if unit == "hour":
            qty = rng.choice(QTY_HOURLY)
        else:
            qty = D(rng.choice([1, 1, 1, 2, 3, 5, 10]))
        roll = rng.random()
        if roll < 0.08:
            taxes = ()
        elif roll < 0.12:
            taxes = (ref.taxes["Exempt"],)
        elif roll < 0.18:
            taxes = (ref.taxes["VAT"], ref.taxes["City Tax"])
        specs.append((desc, long_desc, qty, rate, unit, taxes, False, True))
    if optional_extra:
        specs.append(
            (
                "Optional: extended warranty",
                "Two more years of cover",
                D("1"),
                D("199.00"),
                None,
                (ref.taxes["VAT"],),
                True,
                rng.random() < 0.3,
            )
        )
    lines = []
    for order, (desc, long_desc, qty, rate, unit, taxes, opt, sel) in enumerate(
        specs, start=1
    ):
        line_id = ids.line
        ids.line += 1
        line_rows.append(
            {
                "id": line_id,
                "rel_id": doc_id,
                "rel_type": rel_type,
                "description": desc,
                "long_description": long_desc,
                "qty": qty,
                "rate": rate,
                "unit": unit,
                "item_order": order,
                "is_optional": int(opt),
                "is_selected": int(sel),
            }
        )
        for tax in taxes:
            tax_rows.append(
                {
                    "itemid": line_id,
                    "rel_id": doc_id,
                    "rel_type": rel_type,
                    "taxrate": tax.rate,
                    "taxname": tax.name,
                }
            )
        lines.append(
            Line(line_id, desc, long_desc, qty, rate, unit, order, taxes, opt, sel)
        )
    return lines


def _discount(rng: random.Random, lines: list[Line]) -> tuple[str, Decimal, Decimal]:
    """(discount_type, percent, fixed) for a document."""
    roll = rng.random()
    if roll < 0.10:
        return "before_tax", rng.choice(PERCENTS), ZERO
    if roll < 0.16:
        return "after_tax", rng.choice(PERCENTS), ZERO
    if roll < 0.24:
        subtotal = compute_totals(lines, "", ZERO, ZERO, ZERO).subtotal
        fixed = min(rng.choice(FIXED), round_money(subtotal / 2))
        if fixed > ZERO:
            return ("before_tax" if roll < 0.20 else "after_tax"), ZERO, fixed
    return "", ZERO, ZERO


def _document_row(
    customer: _Customer,
    currency_id: int,
    totals: InvoiceTotals,
    dtype: str,
    percent: Decimal,
    adjustment: Decimal,
) -> dict:
    """Columns shared by invoices and credit notes."""
    # Columns left out take their server default (NULL, 0 or 1, as Perfex's).
    return {
        "clientid": customer.id,
        "currency": currency_id,
        "subtotal": totals.subtotal,
        "total_tax": totals.total_tax,
        "total": totals.total,
        "adjustment": adjustment,
        "discount_percent": percent,
        "discount_total": totals.discount_total,
        "discount_type": dtype,
        "billing_street": customer.street,
        "billing_city": customer.city,
        "billing_zip": customer.zip,
        "billing_country": customer.country_id,
        "include_shipping": 0,
    }


def _split(rng: random.Random, amount: Decimal, parts: int) -> list[Decimal]:
    """Split an amount into `parts` positive cent amounts summing to it."""
    if parts <= 1 or amount < D("0.10"):
        return [amount]
    first = round_money(amount * D(rng.randint(30, 70)) / 100)
    return [first, amount - first]


@dataclass
class _Docs:
    """Rows of all documents, ready to insert."""

    invoices: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    taxes: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    credit_notes: list[dict] = field(default_factory=list)
    credits: list[dict] = field(default_factory=list)
    expenses: list[dict] = field(default_factory=list)
    status_counts: dict[int, int] = field(default_factory=dict)


def _payment_row(
    rng: random.Random,
    ref: _Ref,
    ids: _Ids,
    invoice_id: int,
    amount: Decimal,
    on: date,
) -> dict:
    """One payment, by offline mode id or by gateway."""
    roll = rng.random()
    if roll < 0.6:
        mode, method, txn = str(rng.choice(ref.mode_ids)), None, None
    else:
        gateway, methods = GATEWAYS[0] if roll < 0.85 else GATEWAYS[1]
        mode, method = gateway, rng.choice(methods)
        prefix = "ch_" if gateway == "stripe" else "PAYID-"
        txn = f"{prefix}{rng.getrandbits(64):016x}"
    row = {
        "id": ids.payment,
        "invoiceid": invoice_id,
        "amount": amount,
        "paymentmode": mode,
        "paymentmethod": method,
        "date": on,
        "daterecorded": datetime.combine(on, time(12, 0))
        + timedelta(minutes=rng.randint(0, 300)),
        "note": rng.choice(["", "", "Thank you!", "Ref. remittance advice"]),
        "transactionid": txn,
    }
    ids.payment += 1
    return row


def _invoices(
    rng: random.Random,
    ref: _Ref,
    ids: _Ids,
    customers: list[_Customer],
    count: int,
    today: date,
    docs: _Docs,
) -> None:
    """Invoices with lines, taxes, payments and applied credit notes."""
    plans = []
    for index in range(count):
        roll = rng.random()
        kind = "draft" if roll < 0.04 else "cancelled" if roll < 0.07 else "normal"
        back = rng.randint(0, 20) if kind == "draft" else rng.randint(0, HISTORY_DAYS)
        plans.append((today - timedelta(days=back), index, kind))
    plans.sort()
    allowed_modes = _serialize(
        [str(m) for m in ref.mode_ids] + [g for g, _ in GATEWAYS]
    )
    for on, _, kind in plans:
        customer = rng.choice(customers)
        invoice_id = ids.invoice
        ids.invoice += 1
        optional_extra = rng.random() < 0.05
        lines = _lines(
            rng, ref, ids, invoice_id, "invoice", docs.lines, docs.taxes, optional_extra
        )
        dtype, percent, fixed = _discount(rng, lines)
        adjustment = rng.choice(ADJUSTMENTS) if rng.random() < 0.08 else ZERO
        totals = compute_totals(lines, dtype, percent, fixed, adjustment)
        if totals.total < ZERO:  # a negative adjustment on a tiny invoice
            adjustment = ZERO
            totals = compute_totals(lines, dtype, percent, fixed, adjustment)
        fmt_roll = rng.random()
        number_format = (
            FORMAT_YEAR
            if fmt_roll < 0.03
            else FORMAT_NUMBER_MM_YYYY
            if fmt_roll < 0.05
            else FORMAT_NUMBER
        )
        if kind == "draft":
            number = DRAFT_NUMBER
        else:
            number = ids.invoice_number
            ids.invoice_number += 1
        duedate = on + timedelta(days=DUE_AFTER_DAYS) if rng.random() > 0.03 else None
        paid = ZERO
        if kind == "draft":
            status = INVOICE_DRAFT
        elif kind == "cancelled":
            status = INVOICE_CANCELLED
        else:
            paid = _settle(
                rng, ref, ids, invoice_id, customer, totals.total, on, today, docs
            )
            status = invoice_status_for(totals.total, paid, duedate, today)
        docs.status_counts[status] = docs.status_counts.get(status, 0) + 1
        created = datetime.combine(on, time(8, 0)) + timedelta(
            minutes=rng.randint(0, 600)
        )
        sent = kind != "draft" and rng.random() < 0.9
        row = _document_row(
            customer, customer.currency_id, totals, dtype, percent, adjustment
        )
        row.update(
            id=invoice_id,
            sent=int(sent),
            datesend=created + timedelta(hours=1) if sent else None,
            number=number,
            prefix=INVOICE_PREFIX,
            number_format=number_format,
            formatted_number=format_invoice_number(
                number, INVOICE_PREFIX, number_format, on, status, PADDING
            ),
            datecreated=created,
            date=on,
            duedate=duedate,
            addedfrom=ref.admin_id,
            hash=f"{rng.getrandbits(128):032x}",
            status=status,
            clientnote=rng.choice(
                [None, "Thank you for your business.", "Merci beaucoup ✓"]
            ),
            allowed_payment_modes=allowed_modes,
            terms="Payment due within 30 days.",
            sale_agent=rng.choice([0, ref.admin_id, ref.staff_id]),
        )
        docs.invoices.append(row)


def _settle(
    rng: random.Random,
    ref: _Ref,
    ids: _Ids,
    invoice_id: int,
    customer: _Customer,
    total: Decimal,
    on: date,
    today: date,
    docs: _Docs,
) -> Decimal:
    """Payments (and sometimes an applied credit note) for one invoice; sum paid."""
    if total <= ZERO:
        return ZERO
    age = (today - on).days
    roll = rng.random()
    if roll < (0.75 if age > 45 else 0.35):
        to_pay = total
    elif roll < (0.87 if age > 45 else 0.55):
        to_pay = round_money(total * D(rng.randint(20, 80)) / 100)
    else:
        return ZERO
    if to_pay <= ZERO:
        return ZERO
    received = ZERO
    if to_pay == total and total > D("20.00") and rng.random() < 0.04:
        credit = round_money(total * D(rng.randint(10, 30)) / 100)
        _credit_note(rng, ref, ids, customer, credit, on, docs, applied_to=invoice_id)
        received += credit
        to_pay -= credit
    parts = 2 if rng.random() < 0.2 else 1
    for amount in _split(rng, to_pay, parts):
        pay_day = min(today, on + timedelta(days=rng.randint(0, 40)))
        docs.payments.append(_payment_row(rng, ref, ids, invoice_id, amount, pay_day))
        received += amount
    return received


def _credit_note(
    rng: random.Random,
    ref: _Ref,
    ids: _Ids,
    customer: _Customer,
    amount: Decimal | None,
    on: date,
    docs: _Docs,
    applied_to: int | None = None,
) -> None:
    """A credit note: a fixed goodwill credit applied to an invoice, or item lines."""
    note_id = ids.credit_note
    ids.credit_note += 1
    if amount is not None:
        line_id = ids.line
        ids.line += 1
        docs.lines.append(
            {
                "id": line_id,
                "rel_id": note_id,
                "rel_type": "credit_note",
                "description": "Goodwill credit",
                "long_description": None,
                "qty": D("1"),
                "rate": amount,
                "unit": None,
                "item_order": 1,
                "is_optional": 0,
                "is_selected": 1,
            }
        )
        lines = [Line(line_id, "Goodwill credit", None, D("1"), amount, None, 1, ())]
        dtype, percent, fixed = "", ZERO, ZERO
    else:
        lines = _lines(
            rng, ref, ids, note_id, "credit_note", docs.lines, docs.taxes, False
        )
        dtype, percent, fixed = _discount(rng, lines)
    totals = compute_totals(lines, dtype, percent, fixed, ZERO)
    if applied_to is not None:
        status = CREDIT_NOTE_CLOSED
        docs.credits.append(
            {
                "id": ids.credit,
                "invoice_id": applied_to,
                "credit_id": note_id,
                "staff_id": ref.admin_id,
                "date": on,
                "date_applied": datetime.combine(on, time(15, 0)),
                "amount": totals.total,
            }
        )
        ids.credit += 1
    else:
        status = CREDIT_NOTE_VOID if rng.random() < 0.15 else CREDIT_NOTE_OPEN
    number = ids.credit_note_number
    ids.credit_note_number += 1
    row = _document_row(customer, customer.currency_id, totals, dtype, percent, ZERO)
    row.update(
        id=note_id,
        number=number,
        prefix=CREDIT_NOTE_PREFIX,
        number_format=FORMAT_NUMBER,
        formatted_number=format_credit_note_number(
            number, CREDIT_NOTE_PREFIX, FORMAT_NUMBER, on, PADDING
        ),
        datecreated=datetime.combine(on, time(14, 0)),
        date=on,
        addedfrom=ref.admin_id,
        status=status,
        reference_no=f"REF-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None,
    )
    docs.credit_notes.append(row)


def _expenses(
    rng: random.Random,
    ref: _Ref,
    ids: _Ids,
    customers: list[_Customer],
    count: int,
    today: date,
    docs: _Docs,
) -> None:
    """Expenses with categories, taxes by reference and payment modes."""
    for _ in range(count):
        on = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
        billable = rng.random() < 0.2
        roll = rng.random()
        tax = ref.tax_ids["VAT"] if roll < 0.5 else None
        tax2 = ref.tax_ids["City Tax"] if roll < 0.1 else 0
        docs.expenses.append(
            {
                "id": ids.expense,
                "category": rng.choice(ref.category_ids),
                "currency": ref.currencies[
                    rng.choice([ref.base_currency] * 6 + ["EUR", "GBP"])
                ],
                "amount": _money(rng, 5, 2000),
                "tax": tax,
                "tax2": tax2,
                "reference_no": f"EXP-{rng.randint(10000, 99999)}",
                "note": rng.choice([None, "Receipt attached", "Reisekosten München"]),
                "expense_name": rng.choice(
                    [
                        None,
                        "Team lunch",
                        "Train to Lyon",
                        "Cloud subscription",
                        "Printer paper",
                    ]
                ),
                "clientid": rng.choice(customers).id if billable else 0,
                "project_id": 0,
                "billable": int(billable),
                "invoiceid": None,
                "paymentmode": str(rng.choice(ref.mode_ids)),
                "date": on,
                "recurring_type": None,
                "repeat_every": None,
                "recurring": 0,
                "cycles": 0,
                "total_cycles": 0,
                "custom_recurring": 0,
                "last_recurring_date": None,
                "create_invoice_billable": 0,
                "send_invoice_to_customer": 0,
                "recurring_from": None,
                "dateadded": datetime.combine(on, time(18, 0)),
                "addedfrom": ref.admin_id,
            }
        )
        ids.expense += 1


def _set_option(conn: sa.Connection, db: PerfexDB, name: str, value: str) -> None:
    """Update an option's value."""
    opt = db.tables.options
    conn.execute(opt.update().where(opt.c.name == name).values(value=value))


# ------------------------------------------------------------------------ entry


def seed_demo(
    engine_or_url: sa.Engine | str,
    prefix: str = "tbl",
    customers: int = 40,
    invoices: int = 300,
    seed: int = 0,
    force: bool = False,
    *,
    admin_password: str = DEFAULT_ADMIN_PASSWORD,
    today: date | None = None,
) -> SeedSummary:
    """Create the Perfex tables if absent and fill them with demo data.

    Refuses (SeedRefused) when the database already has invoices or staff
    accounts (an install in use), unless force.
    Deterministic for a given seed and `today` (default: the current date).
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if invoices < 0:
        raise ValueError("invoices must not be negative")
    own_engine = isinstance(engine_or_url, str)
    engine = sa.create_engine(engine_or_url) if own_engine else engine_or_url
    try:
        return _seed(
            engine,
            prefix,
            customers,
            invoices,
            seed,
            force,
            admin_password,
            today or date.today(),
        )
    finally:
        if own_engine:
            engine.dispose()


def _seed(
    engine: sa.Engine,
    prefix: str,
    customer_count: int,
    invoice_count: int,
    seed: int,
    force: bool,
    admin_password: str,
    today: date,
) -> SeedSummary:
    """seed_demo on an engine."""
    create_tables(engine, prefix)
    db = PerfexDB.from_engine(engine, prefix)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    now = datetime.combine(today, time(10, 0))
    password_hash = hash_password(admin_password)
    t = db.tables
    with engine.begin() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(t.invoices))
        if existing.scalar() and not force:
            raise SeedRefused(
                f"the Perfex database already has invoices ({t.invoices.name}); "
                "refusing to seed it"
            )
        staff = conn.execute(sa.select(sa.func.count()).select_from(t.staff))
        if staff.scalar() and not force:  # an install in use: no known admin in it
            raise SeedRefused(
                f"the Perfex database already has staff accounts ({t.staff.name}); "
                "refusing to seed it"
            )
        ref = _reference_data(conn, db, now, password_hash)
        inv = t.invoices
        max_number = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(inv.c.number), 0)).where(
                inv.c.number < DRAFT_NUMBER
            )
        ).scalar()
        max_cn = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(t.creditnotes.c.number), 0))
        ).scalar()
        ids = _Ids(
            invoice=_next_id(conn, t.invoices),
            line=_next_id(conn, t.itemable),
            payment=_next_id(conn, t.invoicepaymentrecords),
            credit_note=_next_id(conn, t.creditnotes),
            credit=_next_id(conn, t.credits),
            expense=_next_id(conn, t.expenses),
            invoice_number=int(max_number) + 1,
            credit_note_number=int(max_cn) + 1,
        )
        seeded, client_rows, contact_rows = _customers(
            rng,
            ref,
            customer_count,
            _next_id(conn, t.clients),
            _next_id(conn, t.contacts),
            today,
        )
        docs = _Docs()
        _invoices(rng, ref, ids, seeded, invoice_count, today, docs)
        for _ in range(max(1, invoice_count // 40)):
            on = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
            _credit_note(rng, ref, ids, rng.choice(seeded), None, on, docs)
        _expenses(rng, ref, ids, seeded, max(5, invoice_count // 6), today, docs)

        _insert(conn, db, "clients", client_rows)
        _insert(conn, db, "contacts", contact_rows)
        _insert(conn, db, "invoices", docs.invoices)
        _insert(conn, db, "creditnotes", docs.credit_notes)
        _insert(conn, db, "itemable", docs.lines)
        _insert(conn, db, "item_tax", docs.taxes)
        _insert(conn, db, "invoicepaymentrecords", docs.payments)
        _insert(conn, db, "credits", docs.credits)
        _insert(conn, db, "expenses", docs.expenses)
        _set_option(conn, db, "next_invoice_number", str(ids.invoice_number))
        _set_option(conn, db, "next_credit_note_number", str(ids.credit_note_number))
    return SeedSummary(
        customers=len(client_rows),
        contacts=len(contact_rows),
        invoices=len(docs.invoices),
        lines=len(docs.lines),
        line_taxes=len(docs.taxes),
        payments=len(docs.payments),
        credit_notes=len(docs.credit_notes),
        expenses=len(docs.expenses),
        admin_email=DEFAULT_ADMIN_EMAIL,
        admin_password=admin_password,
        status_counts=dict(sorted(docs.status_counts.items())),
    )
