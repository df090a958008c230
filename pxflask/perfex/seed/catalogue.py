"""The fixed lists the demo data draws from: accounts, countries, taxes, items."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "demo-admin"  # noqa: S105 - documented demo credential
STAFF_EMAIL = "staff@example.com"
INACTIVE_ADMIN_EMAIL = "former.admin@example.com"

PADDING = 6
INVOICE_PREFIX = "INV-"
CREDIT_NOTE_PREFIX = "CN-"
ESTIMATE_PREFIX = "EST-"
ESTIMATE_VALID_DAYS = 30
DUE_AFTER_DAYS = 30
HISTORY_DAYS = 540
ZERO = Decimal("0.00")
D = Decimal


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
    "estimate_prefix": ESTIMATE_PREFIX,
    "estimate_number_format": "1",
    "next_estimate_number": "1",
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
