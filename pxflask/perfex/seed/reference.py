"""Reference data: countries, currencies, taxes, modes, items, options and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import LineTax
from pxflask.perfex.seed.catalogue import (
    COUNTRIES,
    CURRENCIES,
    DEFAULT_ADMIN_EMAIL,
    EXPENSE_CATEGORIES,
    INACTIVE_ADMIN_EMAIL,
    ITEM_GROUPS,
    ITEMS,
    NON_AUTOLOAD,
    OPTIONS,
    PAYMENT_MODES,
    STAFF_EMAIL,
    TAXES,
    ZERO,
    D,
)
from pxflask.perfex.seed.rows import ensure_rows


@dataclass
class Ref:
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


def reference_data(
    conn: sa.Connection, db: PerfexDB, now: datetime, password_hash: str
) -> Ref:
    """Countries, currencies, taxes, modes, categories, items, options and staff."""
    countries = ensure_rows(
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
    currencies = ensure_rows(
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
    tax_ids = ensure_rows(
        conn,
        db,
        "taxes",
        ["name", "taxrate"],
        [{"name": n, "taxrate": r} for n, r in TAXES],
    )
    taxes = {n: LineTax(n, r) for n, r in TAXES}
    modes = ensure_rows(
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
    categories = ensure_rows(
        conn,
        db,
        "expenses_categories",
        ["name"],
        [{"name": n, "description": d} for n, d in EXPENSE_CATEGORIES],
    )
    groups = ensure_rows(
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
    ensure_rows(conn, db, "items", ["description"], item_rows)
    items = [
        (desc, long_desc, D(rate), unit, tuple(taxes[n] for n in names))
        for desc, long_desc, rate, unit, names, _ in ITEMS
    ]
    ensure_rows(
        conn,
        db,
        "options",
        ["name"],
        [
            {"name": k, "value": v, "autoload": 0 if k in NON_AUTOLOAD else 1}
            for k, v in OPTIONS.items()
        ],
    )
    staff = ensure_rows(
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
    return Ref(
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
