"""The push machinery shared by the Perfex -> Xero steps."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pxflask.perfex import damage
from pxflask.sync.advice import Advisor, tax_setting_finder
from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.failures import describe, is_fatal
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import (
    FAILED,
    FROZEN,
    SKIPPED,
    SYNCED,
    Action,
    Decision,
    LinkStore,
    LogEntry,
    Outcome,
    write_log,
)
from pxflask.sync.mappers.common import Mapped, failed
from pxflask.xero.errors import RetriesExhausted
from pxflask.xero.gateway import ElementResult

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """A record to write: its decision, mapping and payload hash."""

    decision: Decision
    mapped: Mapped
    hash: str
    xero_id: str | None = None

    @property
    def key(self) -> str:
        """The Perfex key."""
        return self.mapped.key

    @property
    def payload(self) -> dict[str, Any]:
        """The payload to send (never None for a pending write)."""
        assert self.mapped.payload is not None  # noqa: S101 - invariant
        return self.mapped.payload


class Pusher:
    """Plans and writes one entity: decide, skip, create, update, record, log."""

    def __init__(self, ctx: StepContext, entity: str, kind: str, id_field: str):
        """Bind to a run context, entity name, gateway kind and Xero id field."""
        self.ctx = ctx
        self.entity = entity
        self.kind = kind
        self.id_field = id_field
        self.store = LinkStore(ctx.session, entity, keys=ctx.keys_of(entity))
        self.report = StepReport(entity)
        self.logs: list[LogEntry] = []
        self.creates: list[Pending] = []
        self.updates: list[Pending] = []
        self.sources: dict[str, str] = {}
        """Perfex key -> source fingerprint, stored on the link once settled."""
        self.on_written: Callable[[dict[str, Any]], None] | None = None
        """Called with each record Xero accepted, as Xero answered it."""
        self.hints: dict[str, dict[str, str]] = {}
        """Perfex key -> what the step knows for advice (e.g. payment `mode`)."""
        self._advisor: Advisor | None = None
        self._tax_finder: Callable[[str], list[str]] | None = None
        self.uncertain: set[str] = set()
        """Keys whose write got no answer in this run (Xero may hold them)."""

    # -- planning ---------------------------------------------------------------

    def plan(
        self,
        mapped: Iterable[Mapped],
        force: frozenset[str] = frozenset(),
        content: Mapping[str, Any] | None = None,
    ) -> None:
        """Decide each record: skip, nothing, blocked, create or update.

        `content` (key -> the payload with every mapping replaced by what it maps
        from, see history.py) is what is hashed: a mapping change alone never
        re-sends a record Xero has. A --full run re-evaluates every record not in
        Xero, but re-sends one Xero has only when its content changed.
        """
        skips: list[Outcome] = []
        settled: dict[str, str] = {}
        upgraded: dict[str, str] = {}
        for m in mapped:
            if m.error is not None:
                self.fail_unsent(m.key, m.error, skips)
                continue
            if m.payload is None:
                self._plan_skip(m, skips)
                continue
            h = compare = payload_hash(m.payload)
            link = self.store.get(m.key)
            if content is not None and m.key in content:
                whole, h = h, payload_hash(content[m.key])
                if link is not None and link.payload_hash == whole != h:
                    compare = whole  # hashed by an earlier version: whole payload
                else:
                    compare = h
            in_xero = link is not None and link.state == SYNCED and bool(link.xero_id)
            again = m.key in force or (self.ctx.full and not in_xero)
            d = self.store.decide(m.key, compare, force=again)
            if d.action is Action.NONE and compare != h:
                upgraded[m.key] = h  # same content, same mappings: adopt the new hash
            if d.action is Action.NONE:
                self.report.unchanged += 1
            elif d.action is Action.BLOCKED:
                self.block(m.key, d.reason or "blocked", m.payload)
            elif d.action is Action.CREATE:
                self.creates.append(Pending(d, m, h))
                continue
            else:
                self.updates.append(Pending(d, m, h, d.xero_id))
                continue
            if m.key in self.sources:
                settled[m.key] = self.sources[m.key]
        if self.ctx.dry_run:
            return
        if skips:
            self.store.record(skips)
        if upgraded:
            self.store.set_hashes(upgraded)
        if settled:
            self.store.set_sources(settled)

    def fail_unsent(self, key: str, error: str, outcomes: list[Outcome]) -> None:
        """A record that cannot be sent yet: it fails with the reason, alone."""
        self.report.failed += 1
        self.report.errors.append((key, error))
        self.report.planned.append(PlannedAction(self.entity, key, "fail", None, error))
        self.logs.append(LogEntry(key, "map", FAILED, error))
        link = self.store.get(key)
        if link is None or link.state not in FROZEN:
            outcomes.append(Outcome(key, FAILED, error=error))

    def _plan_skip(self, m: Mapped, skips: list[Outcome]) -> None:
        """A record the mapper refused: remember the reason (once per change)."""
        h = payload_hash({"skip": m.skip})
        link = self.store.get(m.key)
        if link is not None and (link.state in FROZEN or link.payload_hash == h):
            self.report.unchanged += 1
            if m.key in self.sources and not self.ctx.dry_run:
                self.store.set_sources({m.key: self.sources[m.key]})
            return
        self.report.skipped += 1
        self.report.planned.append(
            PlannedAction(self.entity, m.key, "skip", None, m.skip)
        )
        self.logs.append(LogEntry(m.key, "skip", SKIPPED, m.skip))
        if link is None or not link.xero_id:
            skips.append(
                Outcome(
                    m.key,
                    SKIPPED,
                    payload_hash=h,
                    error=m.skip,
                    source=self.sources.get(m.key),
                )
            )

    def block(self, key: str, reason: str, payload: Any = None) -> None:
        """Count and log a record that will not be sent, with the reason."""
        self.report.blocked += 1
        self.report.planned.append(
            PlannedAction(self.entity, key, "blocked", None, reason)
        )
        self.logs.append(LogEntry(key, "update", "blocked", reason, payload=payload))

    def refuse(self, p: Pending, reason: str) -> Outcome | None:
        """A planned write Xero would refuse: skipped with the reason, logged.

        None (counted unchanged) when the link already says so for this payload.
        """
        link = self.store.get(p.key)
        if (
            link is not None
            and link.state == SKIPPED
            and link.payload_hash == p.hash
            and link.last_error == reason
        ):
            self.report.unchanged += 1
            return None
        self.report.skipped += 1
        self.report.planned.append(
            PlannedAction(self.entity, p.key, "skip", None, reason)
        )
        self.logs.append(LogEntry(p.key, "skip", SKIPPED, reason))
        return Outcome(p.key, SKIPPED, payload_hash=p.hash, error=reason)

    # -- adopting what a crashed run created ----------------------------------

    def recovering(self) -> list[Pending]:
        """Creates a crashed run may have sent already (none in a dry run)."""
        if self.ctx.dry_run:
            return []
        return [p for p in self.creates if p.decision.recover]

    def adopt(self, p: Pending, xero_id: str) -> None:
        """A create found in Xero (sent by a crashed run): update it instead."""
        self.creates.remove(p)
        p.xero_id = xero_id
        p.decision = Decision(p.key, Action.UPDATE, p.decision.link)
        self.updates.append(p)

    def adopt_by(
        self, field: str, same: Callable[[Pending, dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Adopt the creates Xero holds by `field` (and `same`); their records."""
        maybe = self.recovering()
        if not maybe:
            return []
        found = lookup(self.ctx, self.kind, field, [p.payload[field] for p in maybe])
        adopted = []
        for p in maybe:
            record = found.get(p.payload[field])
            if record and (same is None or same(p, record)):
                adopted.append(record)
                self.adopt(p, str(record[self.id_field]))
        return adopted

    # -- writing ----------------------------------------------------------------

    def write_creates(self, unitdp: int | None = None) -> list[Pending]:
        """Create the planned records (link written before and after each call)."""
        return self._write(self.creates, "create", unitdp)

    def write_updates(self, unitdp: int | None = None) -> list[Pending]:
        """Update the planned records (POST with the Xero id)."""
        return self._write(self.updates, "upsert", unitdp)

    def _write(
        self, items: list[Pending], mode: str, unitdp: int | None
    ) -> list[Pending]:
        """Send items; returns those that failed (already recorded and logged)."""
        action = "create" if mode == "create" else "update"
        for p in items:
            self.report.planned.append(
                PlannedAction(self.entity, p.key, action, self._body(p, mode))
            )
        if self.ctx.dry_run or not items:
            if self.ctx.dry_run:
                counter = "created" if mode == "create" else "updated"
                setattr(
                    self.report, counter, getattr(self.report, counter) + len(items)
                )
            return []
        if mode == "create":
            self.store.mark_pending((p.key, self.ctx.run_key) for p in items)
        if unitdp is None and any(p.mapped.unitdp4 for p in items):
            unitdp = 4
        by_key = {p.key: p for p in items}
        failed: list[Pending] = []
        done = 0
        batches = self.ctx.gateway.iter_write(
            self.kind,
            [(p.key, self._body(p, mode)) for p in items],
            run_key=self.ctx.run_key,
            mode=mode,
            unitdp=unitdp,
        )
        for batch in batches:
            outcomes = []
            for r in batch:
                p = by_key[str(r.ref)]
                if r.ok:
                    outcomes.append(
                        Outcome(
                            p.key,
                            SYNCED,
                            r.xero_id,
                            r.number,
                            p.hash,
                            source=self.sources.get(p.key),
                        )
                    )
                    if self.on_written is not None and r.raw:
                        self.on_written(r.raw)
                    if mode == "create":
                        self.report.created += 1
                    else:
                        self.report.updated += 1
                    self.logs.append(
                        LogEntry(p.key, action, SYNCED, _notes(p, r), r.xero_id)
                    )
                else:
                    if getattr(r, "uncertain", False):
                        self.uncertain.add(p.key)
                    error = self.explain(
                        p.key, "; ".join(r.errors) or "Xero refused it"
                    )
                    outcomes.append(Outcome(p.key, FAILED, error=error))
                    failed.append(p)
                    p.mapped = Mapped(p.key, p.mapped.payload, error, p.mapped.unitdp4)
                    self.logs.append(
                        LogEntry(
                            p.key,
                            action,
                            FAILED,
                            error,
                            None,
                            self._body(p, mode),
                            r.raw,
                        )
                    )
            self.store.record(outcomes)
            self.flush_logs()
            done += len(batch)
            self.ctx.tick(self.entity, done, len(items))
        return failed

    def _body(self, p: Pending, mode: str) -> dict[str, Any]:
        """The payload, with the Xero id for an update."""
        if mode == "upsert" and p.xero_id:
            return {self.id_field: p.xero_id, **p.payload}
        return p.payload

    def fail(self, p: Pending, error: str) -> None:
        """Record a final failure of a planned record."""
        self.report.failed += 1
        self.report.errors.append((p.key, error))

    def send_changes(
        self,
        elements: list[tuple[str, dict[str, Any]]],
        action: str,
        refusal: str,
        done: Callable[[str, ElementResult], Outcome],
    ) -> list[Outcome]:
        """Send status changes (void, delete) in batches: each changed or refused.

        ``done`` gives the outcome of an element Xero accepted; a refused one fails
        with Xero's message (``refusal`` when it gave none).
        """
        outcomes: list[Outcome] = []
        for batch in self.ctx.gateway.iter_write(
            self.kind, elements, run_key=self.ctx.run_key, mode="upsert"
        ):
            for r in batch:
                key = str(r.ref)
                if r.ok:
                    outcomes.append(self.changed(done(key, r), action, r.xero_id))
                else:
                    error = "; ".join(r.errors) or refusal
                    outcomes.append(self.refused(key, action, error))
        return outcomes

    def changed(self, outcome: Outcome, action: str, xero_id: str | None) -> Outcome:
        """Log and count a status change Xero made (void, delete); the outcome."""
        self.logs.append(LogEntry(outcome.key, action, outcome.state, None, xero_id))
        self.report.updated += 1
        return outcome

    def refused(
        self, key: str, action: str, error: str, xero_id: str | None = None
    ) -> Outcome:
        """Log and count a status change Xero refused; the failed outcome."""
        error = self.explain(key, error)
        self.logs.append(LogEntry(key, action, FAILED, error, xero_id))
        self.report.failed += 1
        self.report.errors.append((key, error))
        return Outcome(key, FAILED, error=error)

    def explain(self, key: str, error: str) -> str:
        """Xero's refusal of one record with what to do next (pxflask.sync.advice)."""
        if self._advisor is None:
            self._advisor = Advisor(self.ctx.settings.raw, self._tax_settings)
        return self._advisor.explain(error, self.hints.get(key))

    def _tax_settings(self, tax_type: str) -> list[str]:
        """`tax_rate.<id>` keys of the Perfex taxes linked to a TaxType."""
        if self._tax_finder is None:
            from pxflask.perfex.reads import read_taxes
            from pxflask.sync.mappers.tax_match import key_text
            from pxflask.sync.mappers.taxes import tax_key

            store = LinkStore(self.ctx.session, "taxes")
            links = {k: v.xero_number for k, v in store.links.items()}
            taxes = []
            for t in read_taxes(self.ctx.perfex):
                name, _, rate = key_text(tax_key([t])).rpartition("@")
                taxes.append((t.id, name, rate))
            self._tax_finder = tax_setting_finder(links, taxes)
        return self._tax_finder(tax_type)

    def finish(self, failed: Iterable[Pending]) -> StepReport:
        """Count the final failures, flush the log, return the report."""
        for p in failed:
            self.fail(p, p.mapped.skip or "failed")
        self.flush_logs()
        return self.report

    def flush_logs(self) -> None:
        """Write the buffered SyncLog rows (not in a dry run)."""
        if self.logs and not self.ctx.dry_run:
            write_log(self.ctx.session, self.entity, self.logs, run_id=self.ctx.run_id)
        self.logs = []


def damaged_record(kind: str, label: object, key: str, reason: str) -> Mapped:
    """A record Perfex stores damaged (see perfex.damage): it fails alone."""
    return failed(key, damage.describe(kind, label, reason))


def map_guarded(
    key: str, mapper: Callable[..., Mapped], *args: Any, **kwargs: Any
) -> Mapped:
    """Map one record; a mapper error fails that record alone (logged in full)."""
    try:
        return mapper(*args, **kwargs)
    except Exception as exc:
        if is_fatal(exc):
            raise
        log.error("could not map record %s", key, exc_info=exc)
        return failed(key, f"could not be mapped: {describe(exc)}")


def single(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One single-record Xero write; an exhausted retry budget fails that record."""
    try:
        return call(*args, **kwargs)
    except RetriesExhausted as exc:
        return ElementResult(
            kwargs.get("ref"), False, errors=[str(exc)], uncertain=True
        )


def _notes(p: Pending, result: Any) -> str | None:
    """Mapper notes and Xero warnings as one log message."""
    parts = [*p.mapped.notes, *(getattr(result, "warnings", None) or [])]
    return "; ".join(parts) or None


def quote(value: str) -> str:
    """A string literal for a Xero `where` clause."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lookup(
    ctx: StepContext,
    kind: str,
    field: str,
    values: Iterable[str],
    chunk: int = 20,
) -> dict[str, dict[str, Any]]:
    """Xero records whose `field` equals one of values: value -> record."""
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(set(values))
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        where = " OR ".join(f"{field}=={quote(v)}" for v in part)
        for record in ctx.gateway.read_all(kind, where=where):
            value = record.get(field)
            if value in part:
                found.setdefault(str(value), record)
    return found


def by_guid(
    ctx: StepContext, kind: str, field: str, ids: Iterable[str], chunk: int = 20
) -> dict[str, dict[str, Any]]:
    """Xero records whose id `field` is one of ids, by lower-case id (chunked reads)."""
    wanted = sorted({i.lower() for i in ids})
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        where = " OR ".join(f"{field}==Guid({quote(i)})" for i in part)
        for record in ctx.gateway.read_all(kind, where=where):
            found[str(record.get(field)).lower()] = record
    return found
