"""Which Xero tax rate fits a Perfex tax (or combination), for sales or expenses.

Pure functions over the organisation's rates (as Xero sends them, or as cached):

- Only rates that can apply to the use are candidates: `CanApplyToRevenue` for
  invoices and credit notes, `CanApplyToExpenses` for expenses. Xero refuses the
  others on such lines ("The TaxType code 'INPUT2' does not exist or cannot be
  used for this type of transaction"), so "VAT 20%" never lands on INPUT2.
- The rule, in order: (1) a candidate with the same taxes (components of the same
  names and rates, e.g. a rate pxflask created) or whose Name is the Perfex tax's
  name (case and spaces ignored); exactly one such candidate wins. (2) Otherwise
  exactly one candidate with the same effective rate wins. (3) Several candidates
  with the same effective rate (0% in every VAT/GST region: zero-rated, exempt,
  no VAT, BAS excluded) is ambiguous: a set-up step, with a proposal (the
  candidate whose name shares most words with the Perfex tax, then Xero's own
  types before created ones). Nothing is guessed silently. (4) No candidate: a
  rate is created (see `report_tax_type`).
- Rates of special regimes (EC acquisitions and services, reverse charge, imports,
  capital goods, exports: see SPECIAL_REPORT_TYPES) are matched only by name or
  by their own components: a plain Perfex "VAT 20%" is an ordinary sale or
  purchase, so in a UK organisation it is INPUT2 on expenses, not "EC Acquisitions
  (20%)" or "Reverse Charge Expenses (20%)". They stay on the set-up page's list.

ReportTaxType of a created rate (Xero's docs: "Required for AU, NZ, and UK
organisations (US and Global do not support this element)"; the standard rates
there report sales as OUTPUT and purchases as INPUT, e.g. NZ OUTPUT2 "15% GST on
Income" has ReportTaxType OUTPUT and INPUT2 has INPUT): OUTPUT for sales and INPUT
for expenses in GB, AU and NZ; none elsewhere.

Lines without tax: the organisation's own revenue rate `NONE` ("No VAT", "No
GST", "Tax Exempt") when it has one; an AU organisation has none ("No GST" was
archived in 2013 and replaced by "BAS Excluded" and "GST Free"), so the no-tax
type there is a set-up step proposing `EXEMPTOUTPUT` ("GST Free Income", which
counts in the BAS's total sales, G1) rather than `BASEXCLUDED`, which leaves the
sale out of the BAS altogether. For expenses: `NONE`, else `EXEMPTEXPENSES`
("GST Free Expenses", G11) proposed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pxflask.sync.mappers.common import dec
from pxflask.sync.mappers.taxes import (
    TaxKey,
    _rate,
    key_rate,
    xero_rate_key,
    xero_rate_of,
)

SALES = "sales"
EXPENSES = "expenses"
SPECIAL_REPORT_TYPES = frozenset(
    {
        "ECINPUT",
        "ECOUTPUT",
        "ECOUTPUTSERVICES",
        "ECACQUISITIONS",
        "REVERSECHARGES",
        "MOSSSALES",
        "GSTONIMPORTS",
        "GSTONCAPIMPORTS",
        "GSTONCAPITALIMPORTS",
        "CAPITALEXINPUT",
        "CAPITALSALESOUTPUT",
        "CAPITALEXPENSESINPUT",
        "EXEMPTCAPITAL",
        "EXEMPTEXPORT",
        "DRCHARGE",
        "DRCHARGESUPPLY",
    }
)
"""Report types of regimes a plain Perfex tax never means (matched by name only)."""
REPORTING_COUNTRIES = frozenset({"GB", "AU", "NZ"})
"""Countries whose new tax rates need a ReportTaxType."""
REPORT_TYPE = {SALES: "OUTPUT", EXPENSES: "INPUT"}
NO_TAX = "NONE"
NO_TAX_PROPOSAL = {
    SALES: ("EXEMPTOUTPUT", "BASEXCLUDED"),
    EXPENSES: ("EXEMPTEXPENSES",),
}
ZERO_PREFERENCE = (
    "ZERORATEDOUTPUT",
    "ZERORATED",
    "EXEMPTOUTPUT",
    "NONE",
    "BASEXCLUDED",
    "ZERORATEDINPUT",
    "EXEMPTINPUT",
    "EXEMPTEXPENSES",
)
"""Tie-break of a proposal among 0% rates whose names say nothing."""
_WORD = re.compile(r"[a-z0-9]+")
_NOISE = frozenset({"on", "of", "the", "vat", "gst", "tax", "rate", "rated", "income"})


@dataclass(frozen=True)
class XeroRate:
    """One Xero TaxRate as matching needs it."""

    tax_type: str
    name: str
    rate: Decimal
    report_tax_type: str | None
    revenue: bool
    expenses: bool
    key: TaxKey
    active: bool = True

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> XeroRate:
        """From a TaxRate dict as Xero sends it."""
        return cls(
            tax_type=str(record.get("TaxType") or ""),
            name=str(record.get("Name") or "").strip(),
            rate=_rate(xero_rate_of(record)),
            report_tax_type=record.get("ReportTaxType") or None,
            revenue=record.get("CanApplyToRevenue") is not False,
            expenses=record.get("CanApplyToExpenses") is not False,
            key=xero_rate_key(record),
            active=str(record.get("Status") or "ACTIVE").upper() == "ACTIVE",
        )

    def usable(self, use: str) -> bool:
        """True when active and Xero accepts it on lines of this use."""
        return self.active and (self.revenue if use == SALES else self.expenses)

    @property
    def label(self) -> str:
        """'20% (VAT on Income) — 20% — OUTPUT' for a select."""
        rate = format(self.rate.normalize(), "f")
        return f"{self.name} — {rate}% — {self.report_tax_type or 'no report type'}"


@dataclass(frozen=True)
class Choice:
    """How one key resolves: a TaxType, a rate to create, or a question."""

    tax_type: str | None = None
    create: bool = False
    candidates: tuple[XeroRate, ...] = ()
    proposal: str | None = None
    problem: str | None = None

    @property
    def ambiguous(self) -> bool:
        """True when the admin must choose among several rates."""
        return self.tax_type is None and not self.create


def usable_rates(rates: Iterable[XeroRate], use: str) -> list[XeroRate]:
    """The rates Xero accepts on lines of this use."""
    return [r for r in rates if r.tax_type and r.usable(use)]


def _norm(text: str) -> str:
    """Lower case, single spaces."""
    return " ".join(text.lower().split())


def _words(text: str) -> set[str]:
    """The meaningful words of a name."""
    return set(_WORD.findall(text.lower())) - _NOISE


def _same_taxes(rate: XeroRate, key: TaxKey) -> bool:
    """True when the rate stands for exactly these Perfex taxes (by name)."""
    if rate.key == key:
        return True
    if len(key) == 1:
        return _norm(rate.name) == _norm(key[0][0])
    return False


def _special(rate: XeroRate) -> bool:
    """True for a rate of a special regime (EC, reverse charge, imports...)."""
    return (rate.report_tax_type or "").upper() in SPECIAL_REPORT_TYPES


def propose(candidates: Iterable[XeroRate], name: str) -> str | None:
    """The most plausible candidate for a Perfex tax name (a proposal only)."""
    words = _words(name)

    def score(r: XeroRate) -> tuple[int, int, int]:
        shared = len(words & _words(r.name))
        order = (
            ZERO_PREFERENCE.index(r.tax_type)
            if r.tax_type in ZERO_PREFERENCE
            else len(ZERO_PREFERENCE)
        )
        created = 1 if re.fullmatch(r"TAX\d+", r.tax_type) else 0
        return (-shared, created, order)

    ranked = sorted(candidates, key=score)
    return ranked[0].tax_type if ranked else None


def match(key: TaxKey, rates: Iterable[XeroRate], use: str = SALES) -> Choice:
    """The Xero rate for a non-empty key (see the module's rule)."""
    effective = _rate(key_rate(key))
    usable = usable_rates(rates, use)
    same = [r for r in usable if _same_taxes(r, key) and r.rate == effective]
    if len(same) > 1:
        same = [r for r in same if not _special(r)] or same
    if len(same) == 1:
        return Choice(tax_type=same[0].tax_type)
    candidates = same or [r for r in usable if r.rate == effective and not _special(r)]
    if len(candidates) == 1:
        return Choice(tax_type=candidates[0].tax_type)
    if not candidates:
        return Choice(create=True)
    name = " ".join(n for n, _ in key)
    return Choice(
        candidates=tuple(candidates),
        proposal=propose(candidates, name),
        problem=f"{len(candidates)} Xero rates of {_pct(effective)}% fit",
    )


def no_tax_choice(rates: Iterable[XeroRate], use: str = SALES) -> Choice:
    """The TaxType of lines without tax: the org's NONE, else a question."""
    usable = usable_rates(rates, use)
    by_type = {r.tax_type: r for r in usable}
    if NO_TAX in by_type:
        return Choice(tax_type=NO_TAX)
    zero = [r for r in usable if r.rate == 0]
    proposal = next((t for t in NO_TAX_PROPOSAL[use] if t in by_type), None)
    return Choice(
        candidates=tuple(zero),
        proposal=proposal or propose(zero, "free"),
        problem=f"the organisation has no {NO_TAX} rate",
    )


def report_tax_type(country: str | None, use: str = SALES) -> str | None:
    """The ReportTaxType a created rate needs in this country (None: not sent)."""
    if (country or "").upper() in REPORTING_COUNTRIES:
        return REPORT_TYPE[use]
    return None


def _pct(rate: Decimal) -> str:
    """20, 7.5."""
    return format(dec(rate).normalize(), "f")


def key_text(key: TaxKey, use: str = SALES) -> str:
    """The link key of a tax key: 'Eco@2.00+VAT@20.00' ('expenses:...' for those)."""
    text = "+".join(f"{name}@{rate}" for name, rate in key) or "no-tax"
    return text if use == SALES else f"{use}:{text}"
