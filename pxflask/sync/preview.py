"""What a dry run would do, record by record: for the CLI and the panel.

A dry run returns the engine's PlannedActions; this module turns them into rows
(entity, Perfex key, number, action, reason), lists them per entity capped with a
count of the rest, and keeps the last dry runs' rows in the instance folder so
the panel can show them (a dry run writes nothing to the module's tables).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pxflask.perfex.db import PerfexDB
from pxflask.sync.context import PlannedAction, SyncResult
from pxflask.sync.registry import REGISTRY, Record

CAP = 20
"""Rows listed per entity before "… and N more"."""
KEEP = 20
"""Dry-run previews kept in the instance folder (the newest)."""
FOLDER = "dry-runs"

_DEFAULT_REASONS = {
    "create": "not in Xero yet",
    "update": "changed in Perfex",
    "delete": "deleted in Perfex",
    "void": "cancelled or deleted in Perfex",
}


@dataclass(frozen=True)
class PreviewRow:
    """One record a dry run would touch: what, and why."""

    entity: str
    key: str
    number: str
    action: str
    reason: str


def number_of(payload: dict[str, Any] | None) -> str:
    """The number a person knows the record by, from its payload ('' if none)."""
    if not payload:
        return ""
    for field in ("InvoiceNumber", "CreditNoteNumber", "ContactNumber", "Code"):
        if payload.get(field):
            return str(payload[field])
    if "Amount" in payload and "Date" in payload:
        return f"{payload['Amount']} on {payload['Date']}"
    for field in ("Reference", "Name", "name"):
        if payload.get(field):
            return str(payload[field])
    return ""


def rows(
    actions: Iterable[PlannedAction], numbers: Mapping[tuple[str, str], str] = {}
) -> list[PreviewRow]:
    """One row per planned action, in the engine's order.

    `numbers` ((entity, key) -> number, see perfex_numbers) names records whose
    action carries no payload (a skip).
    """
    return [
        PreviewRow(
            a.entity,
            a.key,
            number_of(a.payload) or numbers.get((a.entity, a.key), ""),
            a.action,
            a.reason or _DEFAULT_REASONS.get(a.action, ""),
        )
        for a in actions
    ]


def perfex_numbers(
    perfex: PerfexDB, actions: Iterable[PlannedAction]
) -> dict[tuple[str, str], str]:
    """Perfex's number of each invoice, credit note and payment without a payload."""
    wanted: dict[str, list[int]] = {}
    for a in actions:
        if a.payload is None and a.key.isdigit() and _numbering(a.entity):
            wanted.setdefault(a.entity, []).append(int(a.key))
    found: dict[tuple[str, str], str] = {}
    for entity, ids in wanted.items():
        record = _numbering(entity)
        if record is None:
            continue
        for one in record.read_many(perfex, ids):
            found[entity, str(one.id)] = record.numbered(one)
    return found


def _numbering(entity: str) -> Record | None:
    """How a dry run names the entity's records by number (None: it does not)."""
    record = REGISTRY.get(entity).record if entity in REGISTRY else None
    return record if record is not None and record.number is not None else None


def by_entity(found: Sequence[PreviewRow]) -> dict[str, list[PreviewRow]]:
    """Rows grouped by entity, entities in the order they first appear."""
    groups: dict[str, list[PreviewRow]] = {}
    for row in found:
        groups.setdefault(row.entity, []).append(row)
    return groups


def counts(found: Sequence[PreviewRow]) -> dict[str, int]:
    """How many rows per action."""
    out: dict[str, int] = {}
    for row in found:
        out[row.action] = out.get(row.action, 0) + 1
    return out


def lines(
    result: SyncResult,
    numbers: Mapping[tuple[str, str], str] = {},
    cap: int = CAP,
) -> list[str]:
    """The dry-run listing: per entity its counts, then up to `cap` rows."""
    groups = by_entity(rows(result.planned, numbers))
    if not groups:
        return ["dry run: nothing to create, update, delete or skip"]
    out: list[str] = []
    for entity, found in groups.items():
        summary = ", ".join(f"{n} {action}" for action, n in counts(found).items())
        out.append(f"dry run: {entity}: {summary}")
        width = max(len(r.number) for r in found[:cap]) if found else 0
        for r in found[:cap]:
            number = f"{r.number:<{width}}  " if width else ""
            out.append(f"  {r.action:<8} {r.key:>8}  {number}{r.reason}".rstrip())
        if len(found) > cap:
            out.append(f"  … and {len(found) - cap} more (--out FILE lists them all)")
    return out


def save(
    instance_path: str | Path,
    run_id: int,
    result: SyncResult,
    numbers: Mapping[tuple[str, str], str] = {},
) -> Path:
    """Keep a dry run's rows for the panel; only the newest KEEP are kept."""
    folder = Path(instance_path) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"run-{int(run_id)}.json"
    data = [asdict(r) for r in rows(result.planned, numbers)]
    target.write_text(json.dumps(data, ensure_ascii=False))
    kept = sorted(folder.glob("run-*.json"), key=_run_number)
    for old in kept[:-KEEP]:
        old.unlink(missing_ok=True)
    return target


def load(instance_path: str | Path, run_id: int) -> list[PreviewRow] | None:
    """A kept dry run's rows, or None when there is none (or it is unreadable)."""
    target = Path(instance_path) / FOLDER / f"run-{int(run_id)}.json"
    try:
        data = json.loads(target.read_text())
        return [PreviewRow(**item) for item in data]
    except (OSError, ValueError, TypeError):
        return None


def _run_number(path: Path) -> int:
    """The run id in a kept file's name."""
    digits = path.stem.removeprefix("run-")
    return int(digits) if digits.isdigit() else 0
