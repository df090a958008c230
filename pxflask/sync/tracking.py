"""Tracking categories: a Perfex dimension as a Xero tracking option on every line.

The setting `tracking` names the dimension (none, project, sale_agent or
custom:<Perfex custom field name>) and `tracking_category` the Xero category (empty:
"Project", "Sales agent" or the field's name). A step hooks in twice:

- `Tracker.tag` (before planning, no Xero call) puts `Tracking: [{Name, Option}]` on
  every line of each document that has a value, in the payload and in the content
  that is hashed, so turning tracking on, off or to another dimension re-sends each
  affected document once; `Tracker.mark` is the value for a step that skips
  unchanged rows by a source fingerprint (invoices).
- `ensure` (after planning, before writing) makes sure the options of the documents
  about to be written exist: one read of the categories per run (shared by the
  steps), the category created when missing, and one PUT of all new options of the
  step. Nothing is written in a dry run; a run with nothing to write calls nothing.

Quotes (estimates) hook in the same way: `Tracker(ctx, "estimates").tag(...)` before
planning and `ensure(ctx, pusher)` before writing (perfex.dimensions knows their
custom fields, `fieldto` estimate, and reads project_id / sale_agent when the table
has them).

Xero's limits: 2 active categories per organisation, names of at most 100
characters, 100 active options per category, archived options cannot be used.
A document whose option cannot be used fails alone with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pxflask.perfex.dimensions import CUSTOM, PROJECT, SALE_AGENT, dimension_values
from pxflask.sync.context import PlannedAction, StepContext
from pxflask.sync.links import Outcome
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.steps.base import Pending, Pusher

SETTING = "tracking"
CATEGORY_SETTING = "tracking_category"
CUSTOM_PREFIX = "custom:"
NAME_MAX = 100
MAX_ACTIVE = 2
MAX_OPTIONS = 100
DEFAULT_NAMES = {PROJECT: "Project", SALE_AGENT: "Sales agent"}
SHARED = "tracking"
"""ctx.shared key of the run's Xero category state."""


@dataclass(frozen=True)
class Choice:
    """The dimension chosen in the settings and the Xero category it fills."""

    dimension: str
    field: str
    category: str


def choice(raw: Mapping[str, str]) -> Choice | None:
    """The tracking setting, or None when tracking is off."""
    value = (raw.get(SETTING) or "none").strip()
    field = ""
    if value.startswith(CUSTOM_PREFIX):
        value, field = CUSTOM, value[len(CUSTOM_PREFIX) :].strip()
        if not field:
            return None
    elif value not in DEFAULT_NAMES:
        return None
    name = (raw.get(CATEGORY_SETTING) or "").strip() or DEFAULT_NAMES.get(value, field)
    return Choice(value, field, option_name(name))


def option_name(value: str) -> str:
    """A name as Xero takes it: at most NAME_MAX characters, no outer spaces."""
    return value.strip()[:NAME_MAX].strip()


def _lines_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The line items of a payload."""
    return [line for line in payload.get("LineItems") or [] if isinstance(line, dict)]


def option_of(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(category, option) that tag() put on a payload's lines, or None."""
    for line in _lines_of(payload):
        for t in line.get("Tracking") or []:
            return str(t["Name"]), str(t["Option"])
    return None


class Tracker:
    """The tracking of one document type (a Perfex table) in one step."""

    def __init__(self, ctx: StepContext, table: str) -> None:
        """Read the setting; values are read on first need (one query)."""
        self.ctx = ctx
        self.table = table
        self.choice = choice(ctx.settings.raw)
        self._values: dict[int, str] | None = None

    def values(self) -> dict[int, str]:
        """Document id -> its option name (documents without a value absent)."""
        if self._values is None:
            c = self.choice
            found = (
                {}
                if c is None
                else dimension_values(self.ctx.perfex, self.table, c.dimension, c.field)
            )
            self._values = {k: n for k, v in found.items() if (n := option_name(v))}
        return self._values

    def mark(self, doc_id: int) -> str:
        """What tracking adds to a document's source fingerprint ('' when none)."""
        value = self.values().get(doc_id) if self.choice is not None else None
        if self.choice is None or value is None:
            return ""
        return f"|tracking:{self.choice.category}={value}"

    def tag(self, mapped: Iterable[Mapped], content: dict[str, Any]) -> list[Mapped]:
        """The mapped documents, their lines tracked (payload and hashed content)."""
        out = list(mapped)
        if self.choice is None:
            return out
        values = self.values()
        for m in out:
            value = values.get(int(m.key)) if m.key.isdigit() else None
            if m.payload is None or value is None:
                continue
            tracking = [{"Name": self.choice.category, "Option": value}]
            for payload in (m.payload, content.get(m.key)):
                for line in _lines_of(payload or {}):
                    line["Tracking"] = [dict(t) for t in tracking]
        return out


class Category:
    """The run's Xero tracking category: read once, options made as needed."""

    def __init__(self, ctx: StepContext, name: str) -> None:
        """Bind to a run; nothing is read before the first need."""
        self.ctx = ctx
        self.name = name
        self.category_id: str | None = None
        self.options: dict[str, tuple[str, str]] = {}
        """Option name (casefolded) -> (name, status) as Xero holds it."""
        self.problem: str | None = None
        self._loaded = False

    def load(self, planned: list[PlannedAction], entity: str) -> None:
        """Read the categories once; create ours when missing and allowed."""
        if self._loaded:
            return
        self._loaded = True
        categories = self.ctx.gateway.read_tracking_categories()
        mine = [
            c
            for c in categories
            if str(c.get("Name", "")).casefold() == self.name.casefold()
            and c.get("Status") != "DELETED"
        ]
        if mine:
            self._adopt(mine[0])
            return
        active = [str(c.get("Name")) for c in categories if c.get("Status") == "ACTIVE"]
        if len(active) >= MAX_ACTIVE:
            self.problem = (
                f"Xero allows {MAX_ACTIVE} active tracking categories and the"
                f" organisation has {len(active)} ({', '.join(sorted(active))}):"
                f" tracking category {self.name!r} cannot be created; archive one"
                " in Xero, or name one of them as the tracking category in the"
                " settings"
            )
            return
        planned.append(
            PlannedAction(
                entity, f"tracking:{self.name}", "create", {"Name": self.name}
            )
        )
        if self.ctx.dry_run:
            return
        answer = self.ctx.gateway.create_tracking_category(
            self.name, run_key=self.ctx.run_key
        )
        if not answer.ok or not answer.records:
            why = "; ".join(answer.errors) or "no answer"
            self.problem = f"Xero refused tracking category {self.name!r}: {why}"
            return
        self._adopt(answer.records[0])

    def _adopt(self, record: dict[str, Any]) -> None:
        """Take Xero's category and its options."""
        if record.get("Status") == "ARCHIVED":
            self.problem = (
                f"tracking category {self.name!r} is archived in Xero: restore it"
                " there, or choose another name in the settings"
            )
            return
        self.category_id = str(record.get("TrackingCategoryID"))
        for o in record.get("Options") or []:
            name = str(o.get("Name", ""))
            self.options[name.casefold()] = (name, str(o.get("Status") or "ACTIVE"))

    def ensure(
        self, names: set[str], planned: list[PlannedAction], entity: str
    ) -> dict[str, str]:
        """Why some options cannot be used, by casefolded name (empty: all can)."""
        self.load(planned, entity)
        wanted = {n.casefold(): n for n in sorted(names)}
        if self.problem is not None:
            return dict.fromkeys(wanted, self.problem)
        problems: dict[str, str] = {}
        fresh: list[str] = []
        for key, name in wanted.items():
            held = self.options.get(key)
            if held is None:
                fresh.append(name)
            elif held[1] != "ACTIVE":
                problems[key] = (
                    f"option {held[0]!r} of tracking category {self.name!r} is"
                    " archived in Xero: restore it there to send this document"
                )
        active = sum(1 for _, status in self.options.values() if status == "ACTIVE")
        room = max(MAX_OPTIONS - active, 0)
        for name in fresh[room:]:
            problems[name.casefold()] = (
                f"tracking category {self.name!r} has {MAX_OPTIONS} active options,"
                f" Xero's limit: archive unused ones in Xero to add {name!r}"
            )
        if fresh[:room]:
            self._create(fresh[:room], planned, entity, problems)
        return problems

    def _create(
        self,
        names: list[str],
        planned: list[PlannedAction],
        entity: str,
        problems: dict[str, str],
    ) -> None:
        """One PUT of the new options (none in a dry run)."""
        for name in names:
            body = {"Name": name, "TrackingCategory": self.name}
            planned.append(PlannedAction(entity, f"tracking:{name}", "create", body))
        if self.ctx.dry_run or self.category_id is None:
            return
        answer = self.ctx.gateway.create_tracking_options(
            self.category_id, names, run_key=self.ctx.run_key
        )
        if not answer.ok:
            why = "; ".join(answer.errors) or "no answer"
            for name in names:
                problems[name.casefold()] = (
                    f"Xero refused tracking option {name!r}: {why}"
                )
            return
        for o in answer.records:
            name = str(o.get("Name", ""))
            self.options[name.casefold()] = (name, str(o.get("Status") or "ACTIVE"))


def _category(ctx: StepContext, name: str) -> Category:
    """The run's category state (shared by the steps of the run)."""
    found = ctx.shared.get(SHARED)
    if not isinstance(found, Category) or found.name != name:
        found = Category(ctx, name)
        ctx.shared[SHARED] = found
    return found


def ensure(ctx: StepContext, pusher: Pusher) -> None:
    """Make the options of the documents about to be written exist in Xero.

    A document whose option cannot be made (or is archived) is taken out of the
    writes and fails alone with the reason.
    """
    c = choice(ctx.settings.raw)
    pending = pusher.creates + pusher.updates
    wanted: dict[str, str] = {}
    for p in pending:
        found = option_of(p.payload)
        if c is not None and found is not None and found[0] == c.category:
            wanted[p.key] = found[1]
    if c is None or not wanted:
        return
    category = _category(ctx, c.category)
    problems = category.ensure(
        set(wanted.values()), pusher.report.planned, pusher.entity
    )
    if not problems:
        return
    refused: dict[str, str] = {
        key: problems[option.casefold()]
        for key, option in wanted.items()
        if option.casefold() in problems
    }
    outcomes: list[Outcome] = []
    for p in pending:
        if p.key in refused:
            pusher.fail_unsent(p.key, refused[p.key], outcomes)
    pusher.creates = _without(pusher.creates, refused)
    pusher.updates = _without(pusher.updates, refused)
    if outcomes and not ctx.dry_run:
        pusher.store.record(outcomes)


def _without(items: list[Pending], keys: Mapping[str, str]) -> list[Pending]:
    """The pending writes except those of keys."""
    return [p for p in items if p.key not in keys]
