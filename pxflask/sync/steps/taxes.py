"""Taxes: Perfex taxes and combined line taxes -> Xero TaxRates (and back)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pxflask.perfex import reads, writes

from ..engine import PlannedAction, StepContext, StepReport
from ..links import SYNCED, LinkStore, LogEntry, Outcome, write_log
from ..mappers.taxes import (
    TaxKey,
    key_rate,
    map_tax_rate,
    tax_key,
    tax_rate_name,
    tax_rate_to_perfex,
    xero_rate_key,
    xero_rate_of,
)

ENTITY = "taxes"


def key_text(key: TaxKey) -> str:
    """The link key of a tax key: 'Eco@2.00+VAT@20.00'."""
    return "+".join(f"{name}@{rate}" for name, rate in key)


class TaxResolver:
    """Tax key -> Xero TaxType: setting, link, matching Xero rate, else created."""

    def __init__(self, ctx: StepContext):
        """Read Perfex's taxes; Xero's tax rates are read on first need (one call)."""
        self.ctx = ctx
        self.store = LinkStore(ctx.session, ENTITY)
        self._xero: list[dict[str, Any]] | None = None
        self._rates: dict[str, Decimal] = {}
        self.by_key: dict[TaxKey, str] = {}
        self.perfex_ids: dict[TaxKey, int] = {}
        for tax in reads.read_taxes(ctx.perfex):
            self.perfex_ids.setdefault(tax_key([tax]), tax.id)
        self.report = StepReport(ENTITY)
        self.logs: list[LogEntry] = []
        self.matched: list[Outcome] = []

    @property
    def xero(self) -> list[dict[str, Any]]:
        """Xero's active tax rates (read once per run, when first needed)."""
        if self._xero is None:
            self._xero = [
                r
                for r in self.ctx.gateway.read_all("tax_rates")
                if str(r.get("Status") or "ACTIVE").upper() == "ACTIVE"
            ]
            for r in self._xero:
                if r.get("TaxType"):
                    tax_type = str(r["TaxType"])
                    self._rates.setdefault(tax_type, xero_rate_of(r))
                    self.by_key.setdefault(xero_rate_key(r), tax_type)
        return self._xero

    @property
    def rates(self) -> dict[str, Decimal]:
        """TaxType -> effective rate of every Xero rate (reads Xero once)."""
        _ = self.xero
        self._rates.setdefault(self.ctx.settings.no_tax_type, Decimal(0))
        return self._rates

    def __call__(self, key: TaxKey) -> str:
        """The TaxType for a key (creating the Xero rate once when needed)."""
        if len(key) == 1 and key in self.perfex_ids:
            chosen = self.ctx.settings.tax_type_for(self.perfex_ids[key])
            if chosen:
                return chosen
        text = key_text(key)
        link = self.store.get(text)
        if link is not None and link.xero_number:
            return link.xero_number
        _ = self.xero
        if key in self.by_key:
            tax_type = self.by_key[key]
            if not self.ctx.dry_run:
                self.matched.append(Outcome(text, SYNCED, tax_type, tax_type))
            return tax_type
        return self._create(key)

    def _create(self, key: TaxKey) -> str:
        """Create a TaxRate for a key (dry run: a placeholder TaxType)."""
        payload = map_tax_rate(key, self.ctx.settings.raw.get("report_tax_type"))
        text = key_text(key)
        self.report.planned.append(PlannedAction(ENTITY, text, "create", payload))
        if self.ctx.dry_run:
            tax_type = f"(new: {tax_rate_name(key)})"
            self.report.created += 1
        else:
            r = self.ctx.gateway.create_tax_rate(
                payload, run_key=self.ctx.run_key, ref=text
            )
            if not r.ok:
                error = "; ".join(r.errors) or "Xero refused the tax rate"
                self.report.failed += 1
                self.report.errors.append((text, error))
                self.logs.append(
                    LogEntry(text, "create", "failed", error, payload=payload)
                )
                raise TaxRateError(
                    f"cannot create Xero tax rate {payload['Name']!r}: {error}"
                )
            tax_type = str((r.raw or {}).get("TaxType") or r.xero_id or "")
            self.store.record([Outcome(text, SYNCED, tax_type, tax_type)])
            self.logs.append(
                LogEntry(text, "create", SYNCED, None, tax_type, payload, r.raw)
            )
            self.report.created += 1
        self.by_key[key] = tax_type
        self._rates[tax_type] = key_rate(key)
        return tax_type

    def flush(self) -> None:
        """Link the keys matched to existing Xero rates; write the log rows."""
        if self.matched and not self.ctx.dry_run:
            self.store.record(self.matched)
            self.matched = []
        if self.logs and not self.ctx.dry_run:
            write_log(self.ctx.session, ENTITY, self.logs, run_id=self.ctx.run_id)
        self.logs = []


class TaxRateError(RuntimeError):
    """Xero refused to create a tax rate a record needs."""


def resolver(ctx: StepContext) -> TaxResolver:
    """The run's shared tax resolver (built on first use)."""
    if "taxes" not in ctx.shared:
        ctx.shared["taxes"] = TaxResolver(ctx)
    return ctx.shared["taxes"]


def run(ctx: StepContext) -> StepReport:
    """Every Perfex tax gets a Xero rate; optionally Xero rates come to Perfex."""
    res = resolver(ctx)
    for tax in reads.read_taxes(ctx.perfex):
        try:
            res(tax_key([tax]))
        except TaxRateError:
            continue
    if ctx.settings.import_xero_taxes:
        known = set(res.perfex_ids)
        for rate in res.xero:
            wanted: dict[str, Any] | None = tax_rate_to_perfex(rate)
            if wanted is None:
                continue
            key = tax_key([_Named(wanted["name"], wanted["taxrate"])])
            if key in known:
                continue
            res.report.planned.append(
                PlannedAction(ENTITY, key_text(key), "pull", wanted)
            )
            if not ctx.dry_run:
                writes.upsert_tax(ctx.perfex, wanted["name"], wanted["taxrate"])
            res.report.pulled += 1
    res.flush()
    report, res.report = res.report, StepReport(ENTITY)
    return report


class _Named:
    """A (name, rate) pair with attribute access."""

    def __init__(self, name: str, rate: Decimal):
        self.name, self.rate = name, rate
