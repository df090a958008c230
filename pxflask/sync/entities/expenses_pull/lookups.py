"""The reverse mappings of the expenses pull: Xero codes -> Perfex ids.

Each is the push's own mapping read backwards, never a guess:
- account code -> the expense category whose `expense_account.<id>` setting, else
  expense-categories link, names that code (one category, else a failure);
- TaxType -> the Perfex tax(es) whose `expense_tax_rate.<id>` setting, else the
  taxes link of their key on expenses, names it, with the same total rate as
  Xero's; the expense no-tax type -> no tax;
- bank account -> the payment mode whose `payment_account.<id>` setting, else
  payment-modes link, names it (the lowest id when several do; the default
  account is no mode's mapping);
- currency code -> the tblcurrencies row of that ISO code.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from itertools import combinations
from typing import Any

from pxflask.perfex import reads
from pxflask.perfex.records import Tax
from pxflask.sync.context import StepContext
from pxflask.sync.entities.expenses_pull.mapper import Taxes
from pxflask.sync.links import LinkStore
from pxflask.sync.mappers.common import ZERO
from pxflask.sync.mappers.tax_match import EXPENSES, key_text
from pxflask.sync.mappers.taxes import tax_key
from pxflask.sync.steps.services import TaxResolver, services

EXPENSES_PAGE = "Settings → Expenses"


class Lookups:
    """Settings, links and Perfex's tables, read once a run."""

    def __init__(self, ctx: StepContext):
        """Read the links and Perfex's categories, taxes, modes and currencies."""
        self.ctx = ctx
        self.raw = ctx.settings.raw
        session = ctx.session
        self.category_links = LinkStore(session, "expense-categories").links
        self.mode_links = LinkStore(session, "payment-modes").links
        self.tax_links = LinkStore(session, "taxes").links
        self.categories = {c.id: c for c in reads.read_expense_categories(ctx.perfex)}
        self.modes = {str(m.id): m for m in reads.read_payment_modes(ctx.perfex)}
        self.perfex_taxes: list[Tax] = reads.read_taxes(ctx.perfex)
        self.currencies = {
            c.code.strip().upper(): c.id for c in reads.read_currencies(ctx.perfex)
        }
        self._resolver: TaxResolver | None = None
        self._taxes: dict[str, tuple[Taxes | None, str | None]] = {}

    @property
    def resolver(self) -> TaxResolver:
        """The run's tax resolver (Xero's rates, the no-tax type), on first need."""
        if self._resolver is None:
            self._resolver = services(self.ctx).taxes()
        return self._resolver

    # -- account -> category ------------------------------------------------

    def _category_code(self, category: int) -> str:
        """The account code the push sends a category to (setting, then link)."""
        code = (self.raw.get(f"expense_account.{category}") or "").strip()
        if code:
            return code
        link = self.category_links.get(str(category))
        return (link.xero_number or "") if link is not None and link.xero_id else ""

    def category(self, code: str) -> tuple[int | None, str | None]:
        """The one Perfex category mapped to a Xero account code."""
        found = sorted(c for c in self.categories if self._category_code(c) == code)
        if len(found) == 1:
            return found[0], None
        if found:
            names = ", ".join(f"{c} {self.categories[c].name!r}" for c in found)
            return None, (
                f"Xero account {code} is mapped to several Perfex expense categories"
                f" ({names}): map only one to it on {EXPENSES_PAGE}"
            )
        return None, (
            f"Xero account {code} has no Perfex expense category: pull expense"
            " categories from Xero, or set expense_account.<category id> ="
            f" {code} on {EXPENSES_PAGE}"
        )

    # -- TaxType -> taxes -----------------------------------------------------

    def _tax_type_of(self, taxes: tuple[Tax, ...]) -> str:
        """The TaxType the push uses on expenses for these taxes (setting, link)."""
        if len(taxes) == 1:
            chosen = (self.raw.get(f"expense_tax_rate.{taxes[0].id}") or "").strip()
            if chosen:
                return chosen
        link = self.tax_links.get(key_text(tax_key(taxes), EXPENSES))
        return (link.xero_number or "") if link is not None else ""

    def taxes(self, tax_type: str | None) -> tuple[Taxes | None, str | None]:
        """The Perfex taxes mapped to a TaxType on expenses, or why there are none."""
        if tax_type is None:
            return Taxes(), None
        if tax_type not in self._taxes:
            self._taxes[tax_type] = self._find_taxes(tax_type)
        return self._taxes[tax_type]

    def _find_taxes(self, tax_type: str) -> tuple[Taxes | None, str | None]:
        """taxes(), uncached."""
        resolver = self.resolver
        if tax_type == resolver.no_tax_type(EXPENSES):
            return Taxes(), None
        by_key: dict[Any, tuple[Tax, ...]] = {}
        singles = [(t,) for t in self.perfex_taxes]
        pairs = list(combinations(self.perfex_taxes, 2))
        for group in [*singles, *pairs]:
            if self._tax_type_of(group) == tax_type:
                by_key.setdefault(tax_key(group), group)
        xero_rate = resolver.rates.get(tax_type)
        if not by_key:
            rate = "" if xero_rate is None else f" ({_pct(xero_rate)}%)"
            extra = " or expense_no_tax_type" if xero_rate == ZERO else ""
            return None, (
                f"Xero tax rate {tax_type}{rate} has no Perfex tax: set"
                f" expense_tax_rate.<perfex tax id> = {tax_type}{extra} on"
                f" {EXPENSES_PAGE}"
            )
        if len(by_key) > 1:
            names = "; ".join(
                " + ".join(f"{t.id} {t.name!r}" for t in g) for g in by_key.values()
            )
            return None, (
                f"Xero tax rate {tax_type} is mapped from several Perfex taxes"
                f" ({names}): keep one on {EXPENSES_PAGE}"
            )
        [group] = by_key.values()
        rates = tuple(Decimal(t.rate) for t in group)
        if xero_rate is None:
            return None, f"Xero tax rate {tax_type} is not one of Xero's active rates"
        if sum(rates, ZERO) != xero_rate:
            names = " + ".join(f"{t.name!r} ({_pct(t.rate)}%)" for t in group)
            return None, (
                f"Xero tax rate {tax_type} is {_pct(xero_rate)}% but its Perfex"
                f" tax {names} is {_pct(sum(rates, ZERO))}%: Perfex would compute"
                " another tax; map a Perfex tax of the same rate"
            )
        return Taxes(tuple(t.id for t in group), rates), None

    # -- bank account -> payment mode ---------------------------------------

    def _mode_matches(self, mode: str, code: str, account_id: str) -> bool:
        """True when the push pays a mode from this account (setting, then link)."""
        chosen = (self.raw.get(f"payment_account.{mode}") or "").strip()
        if chosen:
            return chosen == code
        link = self.mode_links.get(mode)
        if link is None or not link.xero_id:
            return False
        return str(link.xero_id).lower() == account_id or (
            bool(code) and link.xero_number == code
        )

    def mode(self, bank: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """The Perfex payment mode paid from a Xero bank account (lowest id)."""
        code = str(bank.get("Code") or "").strip()
        account_id = str(bank.get("AccountID") or "").lower()
        found = sorted(
            (m for m in self.modes if self._mode_matches(m, code, account_id)),
            key=int,
        )
        if found:
            return found[0], None
        name = code or str(bank.get("Name") or account_id)
        return None, (
            f"Xero bank account {name} has no Perfex payment mode: link one to it"
            f" (set payment_account.<mode id> = {name} on Settings → Payments)"
        )

    # -- currency -------------------------------------------------------------

    def currency(self, code: str) -> tuple[int | None, str | None]:
        """The tblcurrencies id of an ISO code."""
        found = self.currencies.get(code.strip().upper())
        if found is not None:
            return found, None
        return None, (
            f"currency {code or '(none)'} is not a Perfex currency: add it in Perfex"
            " (Setup → Finance → Currencies)"
        )


def _pct(rate: Decimal) -> str:
    """A rate without trailing zeros (20, 7.5)."""
    return format(Decimal(rate).normalize(), "f")
