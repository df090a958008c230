"""Taxes: Perfex taxes and combined line taxes -> the organisation's Xero rates.

The resolver learns the organisation (its country, from the run's one GET
/Organisation, read only to create a rate) and its rates (at most one GET
/TaxRates per run; a run whose taxes are all linked or set trusts the cache the
last read left, so a run with nothing new makes no tax call) and gives each tax
key a TaxType, separately for sales (invoices, credit notes, items: rates that
can apply to revenue) and for expenses (rates that can apply to expenses). The
rule is in mappers/tax_match.py. Order of precedence:

1. an explicit setting: `tax_rate.<perfex tax id>` (sales),
   `expense_tax_rate.<perfex tax id>` (expenses), `no_tax_type` (lines without
   tax and the Adjustment / Discount / Rounding lines); a TaxType the
   organisation does not have, or cannot use there, fails the records with the
   setting's name;
2. the link of a key matched or created earlier, while Xero still has it;
3. a unique match; else a new rate, with the ReportTaxType the country needs.

A key that cannot be resolved (several rates fit, Xero refused the create, a
bad setting) never stops the run: it gets a placeholder TaxType and a reason;
`problem()` finds it in a mapped document and the step fails that record alone
with the reason. The taxes step lists those keys as failed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pxflask.perfex import reads, writes
from pxflask.perfex.records import Tax
from pxflask.sync import taxrates
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.links import FAILED, SYNCED, LinkStore, LogEntry, Outcome, write_log
from pxflask.sync.mappers.common import Mapped, failed
from pxflask.sync.mappers.tax_match import (
    EXPENSES,
    SALES,
    Choice,
    XeroRate,
    key_text,
    match,
    no_tax_choice,
    report_tax_type,
)
from pxflask.sync.mappers.taxes import (
    NO_TAX,
    TaxKey,
    key_rate,
    map_tax_rate,
    tax_key,
    tax_rate_name,
    tax_rate_to_perfex,
)
from pxflask.sync.organisation import country
from pxflask.xero.errors import RateLimited, XeroUnavailable

ENTITY = "taxes"
PLACEHOLDER = "(unresolved: "
WHERE = "Settings → Taxes"
WHERE_EXPENSES = "Settings → Expenses"


def describe(key: TaxKey) -> str:
    """'Perfex tax 'Exempt' (0%)' or 'Perfex taxes 'VAT 20% + Eco 2%''."""
    if len(key) == 1:
        name, rate = key[0]
        return f"Perfex tax {name!r} ({format(rate.normalize(), 'f')}%)"
    return f"Perfex taxes {tax_rate_name(key)!r}"


class TaxResolver:
    """Tax key -> Xero TaxType for sales or expenses (see the module docstring)."""

    def __init__(self, ctx: StepContext):
        """Read Perfex's taxes; Xero's rates and country are read on first need."""
        self.ctx = ctx
        self.store = LinkStore(ctx.session, ENTITY)
        self.perfex: dict[TaxKey, Tax] = {}
        for tax in reads.read_taxes(ctx.perfex):
            self.perfex.setdefault(tax_key([tax]), tax)
        self._rates: list[XeroRate] | None = None
        self._fresh = False
        """True once this run read Xero's rates (not only the cache)."""
        self._effective: dict[str, Decimal] = {}
        self.by_key: dict[tuple[str, TaxKey], str] = {}
        self.problems: dict[str, str] = {}
        """Placeholder TaxType -> why the key has no Xero rate (what to do)."""
        self.questions: dict[str, Choice] = {}
        """Key text -> the ambiguous choice (candidates, proposal)."""
        self.report = StepReport(ENTITY)
        self.logs: list[LogEntry] = []
        self.outcomes: dict[str, Outcome] = {}

    # -- what Xero has ------------------------------------------------------

    @property
    def xero_rates(self) -> list[XeroRate]:
        """The organisation's rates: the cache of the last read, else Xero's."""
        if self._rates is None:
            cached = [] if self.ctx.full else taxrates.cached_rates(self.ctx.session)
            if cached and taxrates.SHARED not in self.ctx.shared:
                self._load(cached, fresh=False)
            else:
                self.refresh()
        assert self._rates is not None  # noqa: S101 - set just above
        return self._rates

    def refresh(self) -> list[XeroRate]:
        """Read Xero's rates now (once per run) unless this run already did."""
        if not self._fresh:
            rates = [XeroRate.of(r) for r in taxrates.read_rates(self.ctx)]
            self._load(rates, fresh=True)
        assert self._rates is not None  # noqa: S101 - set just above
        return self._rates

    def _load(self, rates: list[XeroRate], fresh: bool) -> None:
        """Use these rates; the TaxType -> rate map is updated in place."""
        self._rates, self._fresh = rates, fresh
        for r in rates:
            if r.tax_type:
                self._effective[r.tax_type] = r.rate

    @property
    def xero(self) -> list[dict[str, Any]]:
        """Xero's active tax rates as Xero sent them."""
        return [
            r
            for r in taxrates.read_rates(self.ctx)
            if str(r.get("Status") or "ACTIVE").upper() == "ACTIVE"
        ]

    @property
    def rates(self) -> dict[str, Decimal]:
        """TaxType -> effective rate (a placeholder: its Perfex taxes' sum)."""
        _ = self.xero_rates
        return self._effective

    def _usable(self, tax_type: str, use: str, fresh: bool = False) -> XeroRate | None:
        """The org's rate of this TaxType when it can be used for `use`.

        `fresh`: when the cache says no, ask Xero (this run's one read) first.
        """
        found = _find(self.xero_rates, tax_type, use)
        if found is None and fresh and not self._fresh:
            found = _find(self.refresh(), tax_type, use)
        return found

    # -- resolution ---------------------------------------------------------

    def __call__(self, key: TaxKey) -> str:
        """The TaxType of a key on sales lines (a placeholder when unresolved)."""
        return self.resolve(key, SALES)

    def for_expenses(self, key: TaxKey) -> str:
        """The TaxType of a key on expense lines (a placeholder when unresolved)."""
        return self.resolve(key, EXPENSES)

    def resolve(self, key: TaxKey, use: str) -> str:
        """The TaxType of a key for a use: setting, link, match, else created."""
        if not key:
            return self.no_tax_type(use)
        if (use, key) in self.by_key:
            return self.by_key[(use, key)]
        tax_type = self._resolve(key, use)
        self.by_key[(use, key)] = tax_type
        return tax_type

    def _resolve(self, key: TaxKey, use: str) -> str:
        """resolve, uncached."""
        text = key_text(key, use)
        setting = self._setting_key(key, use)
        chosen = (self.ctx.settings.raw.get(setting) or "").strip() if setting else ""
        if chosen:
            return self._chosen(text, key, chosen, setting or "", use)
        link = self.store.get(text)
        if link is not None and link.xero_number:
            if self._usable(link.xero_number, use) is not None:
                return link.xero_number
        choice = match(key, self.refresh(), use)
        if choice.tax_type:
            self._settle(text, choice.tax_type)
            return choice.tax_type
        if choice.create:
            return self._create(key, use)
        self.questions[text] = choice
        return self._unresolved(text, key, self._ambiguous(key, choice, setting, use))

    def _setting_key(self, key: TaxKey, use: str) -> str | None:
        """The setting that maps a single Perfex tax for this use, if any."""
        tax = self.perfex.get(key) if len(key) == 1 else None
        if tax is None:
            return None
        return f"{'tax_rate' if use == SALES else 'expense_tax_rate'}.{tax.id}"

    def _chosen(
        self, text: str, key: TaxKey, chosen: str, setting: str, use: str
    ) -> str:
        """A TaxType chosen in a setting, when the org can use it; else a failure."""
        if self._usable(chosen, use, fresh=True) is None:
            return self._unresolved(text, key, self._bad_setting(setting, chosen, use))
        self._settle(text, None)
        return chosen

    def _bad_setting(self, setting: str, chosen: str, use: str) -> str:
        """Why a chosen TaxType cannot be used, naming the setting."""
        known = any(r.tax_type == chosen for r in self.xero_rates)
        lines = "sales (revenue)" if use == SALES else "expense"
        why = (
            f"cannot be used on {lines} lines"
            if known
            else "is not a tax rate of this Xero organisation"
        )
        where = _where(use)
        return f"setting {setting} = {chosen}: {chosen} {why}; choose one on {where}"

    def _ambiguous(
        self, key: TaxKey, choice: Choice, setting: str | None, use: str
    ) -> str:
        """The reason of an ambiguous key: the candidates and what to do."""
        names = ", ".join(f"{r.tax_type} {r.name!r}" for r in choice.candidates)
        if setting:
            todo = f"map it to a Xero rate on {_where(use)} ({setting})"
        else:
            todo = (
                "create a Xero rate named"
                f" {tax_rate_name(key)!r} with these taxes as components"
            )
        if choice.proposal:
            todo += f"; proposed: {choice.proposal}"
        lines = "" if use == SALES else " on expenses"
        return f"{describe(key)}{lines}: {choice.problem} ({names}): {todo}"

    def _unresolved(self, text: str, key: TaxKey, reason: str) -> str:
        """A placeholder TaxType standing for a key without a usable rate."""
        placeholder = f"{PLACEHOLDER}{text})"
        self.problems[placeholder] = reason
        self._effective[placeholder] = key_rate(key)
        if text not in self.outcomes or self.outcomes[text].state != FAILED:
            self.outcomes[text] = Outcome(text, FAILED, error=reason)
            self.report.failed += 1
            self.report.errors.append((text, reason))
            self.logs.append(LogEntry(text, "map", FAILED, reason))
        return placeholder

    def _settle(self, text: str, tax_type: str | None) -> None:
        """Link a key to the TaxType it matched (or clear an old failure)."""
        link = self.store.get(text)
        if tax_type is None:
            if link is not None and link.state == FAILED:
                self.outcomes[text] = Outcome(text, SYNCED)
            return
        if link is None or link.xero_number != tax_type or link.state != SYNCED:
            self.outcomes[text] = Outcome(text, SYNCED, tax_type, tax_type)

    def _create(self, key: TaxKey, use: str) -> str:
        """Create a TaxRate for a key (dry run: a placeholder TaxType)."""
        text = key_text(key, use)
        report_type = self.ctx.settings.raw.get("report_tax_type") or report_tax_type(
            country(self.ctx), use
        )
        payload = map_tax_rate(key, report_type)
        if use == EXPENSES:
            payload["Name"] = tax_rate_name(key)[:38] + " (expenses)"
        self.report.planned.append(PlannedAction(ENTITY, text, "create", payload))
        if self.ctx.dry_run:
            self.report.created += 1
            tax_type = f"(new: {payload['Name']})"
            self._effective[tax_type] = key_rate(key)
            return tax_type
        try:
            r = self.ctx.gateway.create_tax_rate(
                payload, run_key=self.ctx.run_key, ref=text
            )
        except (XeroUnavailable, RateLimited) as exc:
            reason = f"Xero did not answer ({exc}): the next run tries again"
            return self._refused(text, key, payload, reason)
        tax_type = str((r.raw or {}).get("TaxType") or r.xero_id or "") if r.ok else ""
        if not tax_type:
            error = "; ".join(r.errors) or "Xero refused the tax rate"
            return self._refused(text, key, payload, error)
        self.outcomes[text] = Outcome(text, SYNCED, tax_type, tax_type)
        self.logs.append(
            LogEntry(text, "create", SYNCED, None, tax_type, payload, r.raw)
        )
        self.report.created += 1
        record = dict(r.raw or {})
        record.setdefault("TaxType", tax_type)
        record.setdefault("Name", payload["Name"])
        record.setdefault("TaxComponents", payload["TaxComponents"])
        record.setdefault("ReportTaxType", report_type)
        if report_type:  # Xero derives where a reporting rate applies from it
            record.setdefault("CanApplyToRevenue", use == SALES)
            record.setdefault("CanApplyToExpenses", use == EXPENSES)
        taxrates.remember_created(self.ctx, record)
        self.xero_rates.append(XeroRate.of(record))
        self._effective[tax_type] = key_rate(key)
        return tax_type

    def _refused(
        self, text: str, key: TaxKey, payload: dict[str, Any], error: str
    ) -> str:
        """A create Xero refused: the key's records fail with the reason."""
        reason = (
            f"Xero did not create tax rate {payload['Name']!r} for {describe(key)}:"
            f" {error}"
        )
        setting = self._setting_key(key, SALES)
        if setting:
            reason += f" (or map it to an existing Xero rate on {WHERE}, {setting})"
        self.logs.append(LogEntry(text, "create", FAILED, reason, payload=payload))
        return self._unresolved(text, key, reason)

    # -- lines without tax --------------------------------------------------

    def no_tax_type(self, use: str = SALES) -> str:
        """The TaxType of lines without tax: setting, the org's NONE, else asked."""
        if (use, NO_TAX) in self.by_key:
            return self.by_key[(use, NO_TAX)]
        tax_type = self._no_tax(use)
        self.by_key[(use, NO_TAX)] = tax_type
        self._effective.setdefault(tax_type, Decimal(0))
        return tax_type

    def _no_tax(self, use: str) -> str:
        """no_tax_type, uncached."""
        setting = "no_tax_type" if use == SALES else "expense_no_tax_type"
        chosen = (self.ctx.settings.raw.get(setting) or "").strip()
        if not chosen and use == EXPENSES:
            sales = (self.ctx.settings.raw.get("no_tax_type") or "").strip()
            chosen = sales if sales and self._usable(sales, EXPENSES, True) else ""
        text = key_text(NO_TAX, use)
        if chosen:
            return self._chosen(text, NO_TAX, chosen, setting, use)
        choice = no_tax_choice(self.xero_rates, use)
        if not choice.tax_type:
            choice = no_tax_choice(self.refresh(), use)
        if choice.tax_type:
            self._settle(text, None)
            return choice.tax_type
        self.questions[text] = choice
        names = ", ".join(f"{r.tax_type} {r.name!r}" for r in choice.candidates)
        lines = "sales" if use == SALES else "expense"
        reason = (
            f"{lines} lines without tax need a Xero rate: {choice.problem}"
            f" ({names}): choose one on {_where(use)} ({setting})"
        )
        if choice.proposal:
            reason += f"; proposed: {choice.proposal}"
        return self._unresolved(text, NO_TAX, reason)

    # -- for the steps ------------------------------------------------------

    def problem(self, payload: dict[str, Any] | None) -> str | None:
        """The reason a mapped document cannot be sent (an unresolved TaxType)."""
        if not payload or not self.problems:
            return None
        for line in payload.get("LineItems") or []:
            reason = self.problems.get(str(line.get("TaxType")))
            if reason:
                return reason
        return None

    def checked(self, m: Mapped) -> Mapped:
        """The mapped record, or its failure when a line has no usable TaxType."""
        reason = self.problem(m.payload)
        return failed(m.key, reason) if reason else m

    def flush(self) -> None:
        """Store the keys' links (matched, created, failed); write the log rows."""
        if self.outcomes and not self.ctx.dry_run:
            self.store.record(self.outcomes.values())
        self.outcomes = {}
        if self.logs and not self.ctx.dry_run:
            write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []


def _where(use: str) -> str:
    """Where on the settings page a use's taxes are mapped."""
    return WHERE if use == SALES else WHERE_EXPENSES


def _find(rates: list[XeroRate], tax_type: str, use: str) -> XeroRate | None:
    """The rate of this TaxType among rates when it can be used for `use`."""
    return next((r for r in rates if r.tax_type == tax_type and r.usable(use)), None)


def resolver(ctx: StepContext) -> TaxResolver:
    """The run's shared tax resolver (built on first use)."""
    if "taxes" not in ctx.shared:
        ctx.shared["taxes"] = TaxResolver(ctx)
    return ctx.shared["taxes"]


def run(ctx: StepContext) -> StepReport:
    """Every Perfex tax gets a Xero rate; optionally Xero rates come to Perfex."""
    res = resolver(ctx)
    res.no_tax_type(SALES)
    for key in res.perfex:
        res(key)
    if ctx.settings.import_xero_taxes:
        _import(ctx, res)
    res.flush()
    report, res.report = res.report, StepReport(ENTITY)
    return report


def _import(ctx: StepContext, res: TaxResolver) -> None:
    """Xero's revenue rates that Perfex lacks become Perfex taxes.

    Only rates that can apply to revenue (Perfex taxes are for sales documents),
    not combined ones, and not 0% ones: those are the ambiguous kind (zero
    rated, exempt, no VAT) that a Perfex tax of the same name cannot tell apart.
    A rate a Perfex tax already maps to (OUTPUT2 for "VAT 20%") is not imported
    again under Xero's name.
    """
    known = set(res.perfex)
    mapped = {t for (use, _), t in res.by_key.items() if use == SALES}
    for rate in res.xero:
        if rate.get("CanApplyToRevenue") is False or rate.get("TaxType") in mapped:
            continue
        wanted: dict[str, Any] | None = tax_rate_to_perfex(rate)
        if wanted is None:
            continue
        key = tax_key([Tax(0, wanted["name"], wanted["taxrate"])])
        if key in known:
            continue
        known.add(key)
        res.report.planned.append(PlannedAction(ENTITY, key_text(key), "pull", wanted))
        if not ctx.dry_run:
            writes.upsert_tax(ctx.perfex, wanted["name"], wanted["taxrate"])
        res.report.pulled += 1
