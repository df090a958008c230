"""The link store: Perfex key <-> Xero id, change hash and state, over a Session.

A link is written *before* a create call (state pending + idempotency key) and again
after it, so a crash between the two never loses track: the next run sees a pending
link without a Xero id and looks the record up in Xero before creating it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pxflask.models import Link, SyncLog, utcnow

from .hashing import canonical_json

SYNCED = "synced"
PENDING = "pending"
FAILED = "failed"
SKIPPED = "skipped"
DELETED = "deleted"
VOIDED = "voided"
LOCKED = "locked"
STATES = (SYNCED, PENDING, FAILED, SKIPPED, DELETED, VOIDED, LOCKED)
FROZEN = frozenset({DELETED, VOIDED, LOCKED})
"""States whose records are never re-sent silently (only after `release`)."""

LOG_TEXT_MAX = 60_000
SOURCE_PREFIX = "src:"
"""`Link.idempotency_key` holds the run key while a write is pending, and
'src:<fingerprint>' of the Perfex source once the record is settled: a record whose
source fingerprint is unchanged is neither read, mapped nor hashed again."""
CURSOR_ENTITY = "_cursor"
"""Links of this entity hold sync cursors (name -> ISO timestamp in xero_number)."""


class Action(StrEnum):
    """What to do with one record."""

    CREATE = "create"
    UPDATE = "update"
    NONE = "none"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Decision:
    """The action for one record; `recover` means: look it up in Xero first."""

    key: str
    action: Action
    link: Link | None = None
    reason: str | None = None
    recover: bool = False

    @property
    def xero_id(self) -> str | None:
        """The Xero id of the linked record, if any."""
        return self.link.xero_id if self.link is not None else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one record, to store on its link."""

    key: str
    state: str
    xero_id: str | None = None
    xero_number: str | None = None
    payload_hash: str | None = None
    error: str | None = None
    source: str | None = None
    clear_id: bool = False


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One SyncLog row to write."""

    key: str | None
    action: str
    outcome: str
    message: str | None = None
    xero_id: str | None = None
    payload: Any = None
    response: Any = None


def _text(value: Any) -> str | None:
    """A log column text: strings kept, other values as canonical JSON, clipped."""
    if value is None:
        return None
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= LOG_TEXT_MAX else text[:LOG_TEXT_MAX] + "…"


class LinkStore:
    """The links of one entity, loaded once, decided per record, saved in bulk."""

    def __init__(self, session: Session, entity: str, *, autocommit: bool = True):
        """Bind to a session and an entity name; `autocommit` commits every save."""
        self.session = session
        self.entity = entity
        self.autocommit = autocommit
        self._links: dict[str, Link] | None = None

    @property
    def links(self) -> dict[str, Link]:
        """All links of the entity by Perfex key (loaded on first use)."""
        if self._links is None:
            return self.load()
        return self._links

    def load(self) -> dict[str, Link]:
        """(Re)load all links of the entity in one query."""
        rows = self.session.scalars(select(Link).where(Link.entity == self.entity))
        self._links = {link.perfex_key: link for link in rows}
        return self._links

    def get(self, key: str | int) -> Link | None:
        """The link of one Perfex key, or None."""
        return self.links.get(str(key))

    def xero_id(self, key: str | int) -> str | None:
        """The Xero id linked to a Perfex key (any state), or None."""
        link = self.get(key)
        return link.xero_id if link is not None else None

    def synced_ids(self) -> dict[str, str]:
        """Perfex key -> Xero id of every link that has a Xero id."""
        return {k: v.xero_id for k, v in self.links.items() if v.xero_id}

    def by_xero_id(self) -> dict[str, Link]:
        """Links by Xero id."""
        return {v.xero_id: v for v in self.links.values() if v.xero_id}

    def decide(self, key: str | int, new_hash: str, *, force: bool = False) -> Decision:
        """Create, update, nothing, or blocked (voided/deleted/locked) for a record."""
        key = str(key)
        link = self.links.get(key)
        if link is None:
            return Decision(key, Action.CREATE)
        unchanged = link.payload_hash == new_hash
        if link.state in FROZEN:
            if unchanged and not force:
                return Decision(key, Action.NONE, link)
            reason = f"link is {link.state}" + (
                f": {link.last_error}" if link.last_error else ""
            )
            return Decision(key, Action.BLOCKED, link, reason=reason)
        if link.state in (SYNCED, SKIPPED) and unchanged and not force:
            return Decision(key, Action.NONE, link)
        if link.xero_id:
            return Decision(key, Action.UPDATE, link)
        return Decision(key, Action.CREATE, link, recover=link.state != SKIPPED)

    def source_unchanged(self, key: str | int, source: str) -> bool:
        """True when a settled link was made from this very source fingerprint."""
        link = self.links.get(str(key))
        return (
            link is not None
            and link.state not in (PENDING, FAILED)
            and link.idempotency_key == source
        )

    def decide_all(
        self, hashes: Mapping[str, str], *, force: bool = False
    ) -> list[Decision]:
        """Decisions for many records (key -> new hash), in the given order."""
        return [self.decide(k, h, force=force) for k, h in hashes.items()]

    def _link(self, key: str) -> Link:
        """The link of a key, created (not yet flushed) when missing."""
        link = self.links.get(key)
        if link is None:
            link = Link(entity=self.entity, perfex_key=key, state=PENDING, attempts=0)
            self.session.add(link)
            self.links[key] = link
        return link

    def mark_pending(self, items: Iterable[tuple[str, str | None]]) -> None:
        """Before a write call: state pending + the batch's idempotency key."""
        for key, idempotency_key in items:
            link = self._link(str(key))
            link.state = PENDING
            link.idempotency_key = idempotency_key
        self._save()

    def record(self, outcomes: Iterable[Outcome]) -> None:
        """After a write call: store states, ids, hashes and errors in bulk."""
        now = utcnow()
        for outcome in outcomes:
            if outcome.state not in STATES:
                raise ValueError(f"unknown link state {outcome.state!r}")
            link = self._link(str(outcome.key))
            link.state = outcome.state
            if outcome.clear_id:
                link.xero_id = link.xero_number = link.payload_hash = None
            if outcome.source is not None:
                link.idempotency_key = outcome.source
            if outcome.xero_id:
                link.xero_id = outcome.xero_id
            if outcome.xero_number:
                link.xero_number = outcome.xero_number
            if outcome.state == FAILED:
                link.attempts = (link.attempts or 0) + 1
                link.last_error = outcome.error
            else:
                if outcome.payload_hash is not None:
                    link.payload_hash = outcome.payload_hash
                link.last_error = outcome.error
                if outcome.state == SYNCED:
                    link.attempts = 0
                    link.synced_at = now
        self._save()

    def set_sources(self, sources: Mapping[str, str]) -> None:
        """Store source fingerprints on existing links (nothing else changes)."""
        changed = False
        for key, source in sources.items():
            link = self.links.get(str(key))
            if link is not None and link.idempotency_key != source:
                link.idempotency_key = source
                changed = True
        if changed:
            self._save()

    def release(self, keys: Iterable[str | int]) -> int:
        """Unfreeze locked/voided/deleted links so their records are re-evaluated."""
        count = 0
        for key in keys:
            link = self.links.get(str(key))
            if link is not None and link.state in FROZEN:
                link.state = FAILED if link.xero_id else SKIPPED
                link.payload_hash = link.idempotency_key = None
                count += 1
        self._save()
        return count

    def forget(self, keys: Iterable[str | int]) -> int:
        """Delete links (the Xero record is gone or a reset); returns how many."""
        count = 0
        for key in keys:
            link = self.links.pop(str(key), None)
            if link is not None:
                self.session.delete(link)
                count += 1
        self._save()
        return count

    def _save(self) -> None:
        """Flush, and commit when autocommit is on."""
        if self.autocommit:
            self.session.commit()
        else:
            self.session.flush()


def read_cursor(session: Session, name: str) -> datetime | None:
    """A stored cursor (e.g. the last Xero UpdatedDateUTC seen), or None."""
    link = session.scalar(
        select(Link).where(Link.entity == CURSOR_ENTITY, Link.perfex_key == name)
    )
    if link is None or not link.xero_number:
        return None
    return datetime.fromisoformat(link.xero_number)


def write_cursor(session: Session, name: str, value: datetime) -> None:
    """Store a cursor (naive UTC) and commit."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    link = session.scalar(
        select(Link).where(Link.entity == CURSOR_ENTITY, Link.perfex_key == name)
    )
    if link is None:
        link = Link(entity=CURSOR_ENTITY, perfex_key=name, state=SYNCED, attempts=0)
        session.add(link)
    link.xero_number = value.isoformat()
    link.synced_at = utcnow()
    session.commit()


def write_log(
    session: Session,
    entity: str,
    entries: Iterable[LogEntry],
    *,
    run_id: int | None = None,
    commit: bool = True,
) -> int:
    """Add one SyncLog row per entry (one bulk INSERT); returns how many."""
    now = utcnow()
    rows = [
        {
            "run_id": run_id,
            "entity": entity,
            "perfex_key": e.key,
            "xero_id": e.xero_id,
            "action": e.action,
            "outcome": e.outcome,
            "message": e.message,
            "payload": _text(e.payload),
            "response": _text(e.response),
            "created_at": now,
        }
        for e in entries
    ]
    if rows:
        session.execute(insert(SyncLog), rows)
    if commit:
        session.commit()
    else:
        session.flush()
    return len(rows)
