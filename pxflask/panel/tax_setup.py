"""The panel's read model of the tax set-up: which Perfex taxes need a Xero rate.

From the cache a run filled (the organisation's rates and country) and the Perfex
taxes, with the same rule the sync applies (sync/mappers/tax_match.py), so the
dashboard and the settings page ask exactly what the next run would fail on,
without calling Xero. No Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pxflask.dbtypes import SessionLike
from pxflask.perfex.records import Tax
from pxflask.sync.mappers.tax_match import (
    EXPENSES,
    SALES,
    Choice,
    XeroRate,
    match,
    no_tax_choice,
    report_tax_type,
    usable_rates,
)
from pxflask.sync.mappers.taxes import tax_key, tax_rate_name
from pxflask.sync.organisation import cached_country
from pxflask.sync.taxrates import cached_rates


@dataclass(frozen=True)
class TaxQuestion:
    """One setting the admin must choose: a Perfex tax, or lines without tax."""

    setting: str
    label: str
    reason: str
    choices: tuple[XeroRate, ...]
    proposal: str | None = None


@dataclass
class TaxSetup:
    """The organisation's rates for the selects and the open questions."""

    known: bool
    country: str | None = None
    sales_rates: list[XeroRate] = field(default_factory=list)
    expense_rates: list[XeroRate] = field(default_factory=list)
    questions: list[TaxQuestion] = field(default_factory=list)
    automatic: dict[str, str] = field(default_factory=dict)
    """Setting -> what leaving it empty does ('automatic: 20% (VAT on Income)')."""

    def proposal(self, setting: str) -> str | None:
        """The proposed TaxType of an open question, if any."""
        found = next((q for q in self.questions if q.setting == setting), None)
        return found.proposal if found else None

    @property
    def open_taxes(self) -> int:
        """How many Perfex taxes (not the no-tax lines) need a Xero rate."""
        return sum(1 for q in self.questions if q.setting.startswith("tax_rate."))


def _automatic(
    choice: Choice, rates: list[XeroRate], key: tuple, use: str, setup: TaxSetup
) -> str:
    """What an empty setting does: the matched rate, or the rate to create."""
    if choice.tax_type:
        found = next((r for r in rates if r.tax_type == choice.tax_type), None)
        return f"automatic: {found.label if found else choice.tax_type}"
    report = report_tax_type(setup.country, use)
    made = f"automatic: a new rate {tax_rate_name(key)!r}"
    return f"{made} ({report})" if report else made


def _types(rates: Iterable[XeroRate]) -> set[str]:
    """The TaxTypes of rates."""
    return {r.tax_type for r in rates}


def _label(tax: Tax) -> str:
    """'Exempt (0%)'."""
    return f"{tax.name} ({format(tax.rate.normalize(), 'f')}%)"


def _question(
    setting: str, label: str, choice: Choice, rates: list[XeroRate]
) -> TaxQuestion:
    """A question from an ambiguous choice: every usable rate, proposal first."""
    names = ", ".join(r.name for r in choice.candidates)
    reason = f"{choice.problem}: {names}" if names else choice.problem or ""
    return TaxQuestion(setting, label, reason, tuple(rates), choice.proposal)


def _bad(setting: str, label: str, value: str, rates: list[XeroRate]) -> TaxQuestion:
    """A question for a setting the organisation cannot use."""
    reason = f"{value} is not one of the organisation's usable rates"
    return TaxQuestion(setting, label, reason, tuple(rates))


def _ask(
    setting: str,
    label: str,
    value: str,
    rates: list[XeroRate],
    choice: Choice | None,
) -> TaxQuestion | None:
    """The question for one setting, or None when the next run can resolve it."""
    if value:
        return None if value in _types(rates) else _bad(setting, label, value, rates)
    if choice is None or not choice.ambiguous:
        return None
    return _question(setting, label, choice, rates)


def tax_setup(
    session: SessionLike,
    perfex_taxes: Iterable[Tax],
    settings: Mapping[str, str],
    with_expenses: bool = False,
) -> TaxSetup:
    """The tax questions the next run would fail on (empty until rates are cached)."""
    rates = cached_rates(session)
    if not rates:
        return TaxSetup(known=False)
    setup = TaxSetup(
        known=True,
        country=cached_country(session),
        sales_rates=usable_rates(rates, SALES),
        expense_rates=usable_rates(rates, EXPENSES),
    )
    uses = [(SALES, "tax_rate", "no_tax_type", setup.sales_rates)]
    if with_expenses:
        uses.append(
            (EXPENSES, "expense_tax_rate", "expense_no_tax_type", setup.expense_rates)
        )
    taxes = list(perfex_taxes)
    for use, prefix, no_tax, usable in uses:
        on = "" if use == SALES else " on expenses"
        value = (settings.get(no_tax) or "").strip()
        sales_value = (settings.get("no_tax_type") or "").strip()
        if not value and use == EXPENSES and sales_value in _types(usable):
            value = sales_value  # the sync uses the sales one where it fits
        found = _ask(
            no_tax,
            f"Lines without tax{on}",
            value,
            usable,
            None if value else no_tax_choice(rates, use),
        )
        if found is not None:
            setup.questions.append(found)
        seen: set[tuple] = set()
        for tax in taxes:
            key = tax_key([tax])
            if not key or key in seen:
                continue
            seen.add(key)
            setting = f"{prefix}.{tax.id}"
            value = (settings.get(setting) or "").strip()
            choice = None if value else match(key, rates, use)
            found = _ask(setting, f"{_label(tax)}{on}", value, usable, choice)
            if found is not None:
                setup.questions.append(found)
            elif choice is not None:
                setup.automatic[setting] = _automatic(choice, rates, key, use, setup)
    return setup
