"""`pxflask sync ENTITY --repost [--dry-run] [--yes]`: preview, confirm, re-post.

Uses click (not Flask); pxflask/cli/ wires the session, Perfex DB and gateway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import click

from pxflask.dbtypes import SessionLike
from pxflask.perfex.db import PerfexDB
from pxflask.sync import repost
from pxflask.sync.context import Gateway

EXIT_OK = 0


def preview_lines(plan: repost.RepostPreview) -> list[str]:
    """One line per record: action, key, what it is, the change, why not."""
    if not plan.items:
        return [f"re-post: every {plan.entity} record in Xero has the current mapping"]
    out = [
        f"re-post {plan.entity}: {len(plan.reposts)} to re-post,"
        f" {len(plan.skips)} left alone"
    ]
    for item in plan.items:
        why = f" ({item.reason})" if item.reason else ""
        out.append(
            f"  {item.action:<7} {item.key:>8}  {item.label}: {item.change}{why}"
        )
    return out


def chosen_entity(entities: Sequence[str]) -> str:
    """The one entity to re-post (default payments); a usage error otherwise."""
    if len(entities) > 1:
        raise click.BadParameter("re-post one entity at a time", param_hint="ENTITY")
    try:
        return repost.check_entity(entities[0] if entities else "payments")
    except repost.RepostRefused as exc:
        raise click.BadParameter(str(exc), param_hint="ENTITY") from None


def run_repost(
    session: SessionLike,
    perfex: PerfexDB,
    gateway: Gateway,
    settings: Mapping[str, str],
    entities: Sequence[str],
    *,
    dry_run: bool,
    yes: bool,
    sync: Callable[[str, list[str]], int],
) -> int:
    """Preview; with --dry-run stop there; else confirm, flag, and sync the keys.

    `sync(entity, keys)` runs the targeted foreground sync and returns its exit
    status.
    """
    entity = chosen_entity(entities)
    plan = repost.preview(session, perfex, gateway, settings, entity)
    for line in preview_lines(plan):
        click.echo(line)
    if dry_run or not plan.reposts:
        return EXIT_OK
    if not yes:
        click.confirm(
            f"Re-post {len(plan.reposts)} {entity} record(s) with the current"
            " mappings (deleted and created again in Xero)?",
            abort=True,
        )
    flagged = repost.mark(session, entity, [i.key for i in plan.reposts])
    if not flagged:
        click.echo("re-post: nothing left to re-post")
        return EXIT_OK
    return sync(entity, flagged)
