"""What the pulls from Xero share: a record skipped with its reason, logged once."""

from __future__ import annotations

from pxflask.sync.context import PlannedAction, StepContext, StepReport
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import SKIPPED, LinkStore, LogEntry, Outcome


def skip_once(
    ctx: StepContext,
    store: LinkStore,
    report: StepReport,
    logs: list[LogEntry],
    key: str,
    reason: str,
    xero_id: str | None = None,
) -> None:
    """Count, remember and log why a Xero record is not pulled (once per reason)."""
    h = payload_hash({"skip": reason})
    link = store.get(key)
    if link is not None and link.state == SKIPPED and link.payload_hash == h:
        report.unchanged += 1
        return
    report.skipped += 1
    report.planned.append(PlannedAction(store.entity, key, "skip", None, reason))
    if ctx.dry_run:
        return
    store.record([Outcome(key, SKIPPED, payload_hash=h, error=reason)])
    logs.append(LogEntry(key, "pull", SKIPPED, reason, xero_id))
