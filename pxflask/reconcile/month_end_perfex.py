"""What the month-end views read from Perfex and the sync's settings beyond the report.

Payment-mode names (``tblpayment_modes``; gateways keep their id), applied credits
with their dates (``tblcredits``), the tax of each invoice per combined line tax
(``tblitemable``/``tblitem_tax``, computed like ``perfex/totals.py``) and the Xero
names of things: the bank account of a mode (``payment_account.<mode>``, else
``payment_account.default``, named from the cached chart) and the TaxType of a
Perfex tax key (``tax_rate.<id>``, else the sync's tax link, as the sync decides).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, XeroAccount
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.perfex_side import cents
from pxflask.sync.mappers.tax_match import XeroRate, key_text, match, no_tax_choice
from pxflask.sync.mappers.taxes import TaxKey, _rate, key_rate, tax_rate_name
from pxflask.sync.settings import load_settings
from pxflask.sync.taxrates import cached_rates

__all__ = [
    "NO_TAX_LABEL",
    "account_names",
    "credits",
    "mode_account",
    "mode_names",
    "tax_lines",
    "tax_types",
]

NO_TAX_LABEL = "No tax"
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def mode_names(db: PerfexDB) -> dict[str, str]:
    """Payment-mode id (text) -> its name; gateways are not in the table."""
    modes = db.tables.payment_modes
    with db.engine.connect() as conn:
        return {
            str(i): str(n) for i, n in conn.execute(sa.select(modes.c.id, modes.c.name))
        }


def credits(db: PerfexDB) -> pd.DataFrame:
    """Applied credits: perfex_invoice_id, date, amount_cents."""
    cr = db.tables.credits
    stmt = sa.select(cr.c.invoice_id, cr.c.date, cr.c.amount)
    with db.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(
        {
            "perfex_invoice_id": pd.Series([int(r[0]) for r in rows], dtype="int64"),
            "date": pd.to_datetime(pd.Series([r[1] for r in rows], dtype="object")),
            "amount_cents": pd.Series([cents(r[2]) for r in rows], dtype="int64"),
        }
    )


def account_names(session: SessionLike) -> dict[str, str]:
    """Account code -> 'code name' from the cached chart of accounts."""
    rows = session.execute(sa.select(XeroAccount.code, XeroAccount.name)).all()
    return {str(c): f"{c} {n}" for c, n in rows if c}


def mode_account(settings: dict[str, str], mode: str | None) -> str:
    """The Xero account code the sync posts a mode's payments to ('' if none)."""
    key = f"payment_account.{mode}" if mode else ""
    return (settings.get(key) or settings.get("payment_account.default") or "").strip()


def _round(value: Decimal) -> int:
    """Cents of an unrounded amount, half away from zero."""
    return cents(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _line_taxes(
    db: PerfexDB, conn: sa.Connection
) -> dict[int, list[tuple[str, Decimal]]]:
    """Line id -> its taxes (name, rate)."""
    tax = db.tables.item_tax
    out: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    stmt = sa.select(tax.c.itemid, tax.c.taxname, tax.c.taxrate).where(
        tax.c.rel_type == "invoice"
    )
    for item, name, rate in conn.execute(stmt):
        out[int(item)].append((str(name).strip(), Decimal(str(rate))))
    return out


def tax_lines(db: PerfexDB, invoices: pd.DataFrame) -> pd.DataFrame:
    """Net and tax of each invoice per combined line tax key (cents).

    ``invoices`` carries perfex_id and total_cents; a before-tax discount reduces
    net and tax in proportion; whatever the total holds beyond the taxed lines and
    their tax (untaxed lines, an after-tax discount, the adjustment) is 'no tax'.
    """
    inv, items = db.tables.invoices, db.tables.itemable
    wanted = {
        int(i): int(t)
        for i, t in zip(invoices["perfex_id"], invoices["total_cents"], strict=True)
    }
    cols = [items.c.id, items.c.rel_id, items.c.qty, items.c.rate]
    optional = db.has_optional_lines
    if optional:
        cols += [items.c.is_optional, items.c.is_selected]
    with db.engine.connect() as conn:
        heads = {
            int(r[0]): r[1:]
            for r in conn.execute(
                sa.select(
                    inv.c.id,
                    inv.c.discount_type,
                    inv.c.discount_percent,
                    inv.c.discount_total,
                    inv.c.subtotal,
                )
            )
        }
        taxes = _line_taxes(db, conn)
        lines = conn.execute(
            sa.select(*cols).where(items.c.rel_type == "invoice")
        ).all()
    per: dict[int, dict[TaxKey, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in lines:
        rel = int(row[1])
        if rel not in wanted or (optional and row[4] and not row[5]):
            continue
        net = (Decimal(str(row[2])) * Decimal(str(row[3]))).quantize(
            _CENT, ROUND_HALF_UP
        )
        key = tuple(sorted({(n, _rate(r)) for n, r in taxes.get(int(row[0]), [])}))
        per[rel][key] += net
    rows = []
    for rel, keys in per.items():
        kind, pct, fixed, subtotal = heads.get(rel, ("", 0, 0, 0))
        pct, fixed, subtotal = (Decimal(str(v or 0)) for v in (pct, fixed, subtotal))
        factor = Decimal(1)
        if kind == "before_tax" and pct:
            factor -= pct / _HUNDRED
        elif kind == "before_tax" and fixed and subtotal:
            factor -= fixed / subtotal
        taxed_total = 0
        for key, net in keys.items():
            if not key:
                continue
            net_c = _round(net * factor)
            tax_c = _round(net * factor * key_rate(key) / _HUNDRED)
            taxed_total += net_c + tax_c
            rows.append((rel, key, net_c, tax_c))
        rest = wanted[rel] - taxed_total
        if rest or () in keys:
            rows.append((rel, (), rest, 0))
    return pd.DataFrame(rows, columns=["perfex_id", "key", "net_cents", "tax_cents"])


def tax_types(
    session: SessionLike, db: PerfexDB, keys: set[TaxKey]
) -> dict[TaxKey, str]:
    """Each Perfex tax key's Xero TaxType as the sync chose it ('' when unknown)."""
    settings = load_settings(session)
    taxes = db.tables.taxes
    with db.engine.connect() as conn:
        ids = {
            (str(n).strip(), _rate(r)): int(i)
            for i, n, r in conn.execute(
                sa.select(taxes.c.id, taxes.c.name, taxes.c.taxrate)
            )
        }
    links = dict(
        session.execute(
            sa.select(Link.perfex_key, Link.xero_number).where(Link.entity == "taxes")
        ).all()
    )
    rates = cached_rates(session)
    out = {}
    for key in keys:
        setting = ""
        if not key:
            setting = settings.get("no_tax_type") or ""
        elif len(key) == 1 and key[0] in ids:
            setting = settings.get(f"tax_rate.{ids[key[0]]}") or ""
        out[key] = (
            setting.strip()
            or (links.get(key_text(key)) or "")
            or _matched(key, rates)
            or ("NONE" if not key and not rates else "")
        )
    return out


def _matched(key: TaxKey, rates: list[XeroRate]) -> str:
    """The rate the sync's matcher picks among the cached Xero rates ('' if none)."""
    if not rates:
        return ""
    choice = match(key, rates) if key else no_tax_choice(rates)
    return choice.tax_type or ""


def key_label(key: TaxKey) -> str:
    """'VAT 20%', 'VAT 20% + City Tax 5%' or 'No tax'."""
    return tax_rate_name(key) if key else NO_TAX_LABEL
