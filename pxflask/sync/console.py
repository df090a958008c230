"""The foreground `pxflask sync` run: progress bar, summary table, exit status.

Uses click (not Flask): pxflask/cli/ only wires the app's session, Perfex DB
and gateway into `run_foreground`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.sync import preview
from pxflask.sync.context import Gateway, SyncResult
from pxflask.sync.engine import run_sync
from pxflask.sync.hashing import canonical_json
from pxflask.sync.problems import Labeller, labeller
from pxflask.sync.problems import summary_lines as problem_lines
from pxflask.sync.registry import REGISTRY, RegistryError

ONLINE_CURSOR = "online-links.foreground"
"""When a foreground sync last read its share of online invoice links."""
ONLINE_PACE = timedelta(minutes=1)

EXIT_OK, EXIT_FAILURES, EXIT_ERROR = 0, 1, 2
COLUMNS = ("created", "updated", "unchanged", "skipped", "blocked", "failed")


def parse_since(value: str | None) -> date | None:
    """--since YYYY-MM-DD (a usage error otherwise)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2025-01-31", param_hint="--since"
        ) from None


def check_entities(names: Sequence[str]) -> list[str] | None:
    """The chosen entity names (None: all enabled); unknown ones are usage errors."""
    if not names:
        return None
    for name in names:
        try:
            REGISTRY.get(name)
        except RegistryError as exc:
            raise click.BadParameter(str(exc), param_hint="ENTITY") from None
    return list(names)


class ProgressBars:
    """One click progress bar per entity, fed by run_sync's progress callback."""

    def __init__(self) -> None:
        """No bar yet."""
        self.entity: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, entity: str, done: int, total: int) -> None:
        """Advance the bar of `entity` to `done` of `total`."""
        if entity != self.entity:
            self.close()
            self.entity, self.done = entity, 0
            self.bar = click.progressbar(length=max(total, 1), label=f"{entity:>16}")
            self.bar.__enter__()
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        """Finish the current bar."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def summary_lines(result: SyncResult, labels: Labeller | None = None) -> list[str]:
    """The per-entity table, then the records not synced, grouped by reason."""
    head = f"{'entity':<20}" + "".join(f"{c:>11}" for c in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in result.reports:
        lines.append(
            f"{r.entity:<20}" + "".join(f"{getattr(r, c):>11}" for c in COLUMNS)
        )
    return lines + problem_lines(result, labels)


def planned_actions(result: SyncResult) -> list[dict[str, Any]]:
    """Every planned action of a dry run as plain JSON-ready dicts."""
    return [
        {
            "entity": a.entity,
            "key": a.key,
            "action": a.action,
            "payload": json.loads(canonical_json(a.payload)) if a.payload else None,
            "reason": a.reason,
        }
        for a in result.planned
    ]


def run_foreground(
    session: SessionLike,
    perfex: PerfexDB,
    gateway: Gateway,
    settings: Mapping[str, str],
    entities: Sequence[str],
    *,
    full: bool = False,
    since: str | None = None,
    dry_run: bool = False,
    out: str | None = None,
    record_keys: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Run a sync with progress and summary; the README's exit status."""
    chosen = check_entities(entities)
    day = parse_since(since)
    bars = ProgressBars()
    try:
        result = run_sync(
            session,
            perfex,
            gateway,
            settings,
            entities=chosen,
            full=full,
            since=day,
            dry_run=dry_run,
            progress=bars,
            record_keys=record_keys,
        )
    finally:
        bars.close()
    if dry_run:
        actions = planned_actions(result)
        if out:
            Path(out).write_text(json.dumps(actions, indent=2, ensure_ascii=False))
            click.echo(f"dry run: {len(actions)} action(s) written to {out}")
        else:
            numbers = preview.perfex_numbers(perfex, result.planned)
            for line in preview.lines(result, numbers):
                click.echo(line)
    if not dry_run:  # before the summary, whose last line names the run's log
        online_links(session, gateway)
    for line in summary_lines(result, labeller(perfex, session)):
        click.echo(line)
    return EXIT_OK if result.ok else EXIT_FAILURES


def online_links(session: SessionLike, gateway: Gateway) -> None:
    """Read a few wanted online invoice URLs, as the queued job does after a sync.

    A cron-driven `pxflask sync` has no queue to run the online-links job: each
    foreground run reads its share (10), at most once a minute as the job does, so
    the links still arrive over time and runs in a row never wait on Xero's limit.
    """
    from pxflask.models import utcnow
    from pxflask.sync.entities.invoices.online_urls import fetch_online_urls, pending
    from pxflask.sync.links import read_cursor, write_cursor

    if not pending(session):
        return
    now = utcnow()
    last = read_cursor(session, ONLINE_CURSOR)
    if last is not None and now - last < ONLINE_PACE:
        return
    found = fetch_online_urls(session, gateway)
    write_cursor(session, ONLINE_CURSOR, now)
    left = " (more are read by the next sync)" if pending(session) else ""
    click.echo(f"online invoice links: {found.read} read{left}")
    if found.stopped:
        click.echo(f"online invoice links: {found.stopped}")
