"""The link store: Perfex key <-> Xero id, change hash and state, over a Session.

A link is written *before* a create call (state pending + idempotency key) and again
after it, so a crash between the two never loses track: the next run sees a pending
link without a Xero id and looks the record up in Xero before creating it again.

Links are plain rows in memory (`LinkRow`), loaded with one SELECT of the columns
and saved with one executemany INSERT (new keys) and one executemany UPDATE (known
keys) per save: no ORM unit of work for thousands of links.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from pxflask.dbtypes import SessionLike, rowcount, table_of
from pxflask.models import Link, SyncCursor, SyncLog, utcnow
from pxflask.sync.hashing import canonical_json

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
PULLED_FROM_XERO = "pulled-from-xero"
"""idempotency_key of a push-side link whose Perfex record was made in Xero and
written into Perfex by a pull (payments, refunds, documents, expenses, customers):
the reconciliation's `origin` and the record page read it."""

LOG_TEXT_MAX = 60_000
KEY_CHUNK = 500
"""Perfex keys per `IN (...)` when loading the links of some keys only."""

_LINKS = table_of(Link)
FIELDS = (
    "state",
    "xero_id",
    "xero_number",
    "payload_hash",
    "source_hash",
    "last_error",
    "attempts",
    "idempotency_key",
    "synced_at",
)
"""The columns a LinkRow carries besides its key (all saved on every save)."""
_SET_NAMES = tuple(f"v_{name}" for name in FIELDS)
_UPDATE = (
    update(_LINKS)
    .where(
        _LINKS.c.entity == bindparam("w_entity"),
        _LINKS.c.perfex_key == bindparam("w_key"),
    )
    .values({name: bindparam(f"v_{name}") for name in (*FIELDS, "updated_at")})
)
"""UPDATE of every field of one link by (entity, perfex_key), for executemany."""


class Action(StrEnum):
    """What to do with one record."""

    CREATE = "create"
    UPDATE = "update"
    NONE = "none"
    BLOCKED = "blocked"


@dataclass(slots=True, eq=False)
class LinkRow:
    """One link as the store holds it: the columns of `Link`, as plain values."""

    perfex_key: str
    state: str = PENDING
    xero_id: str | None = None
    xero_number: str | None = None
    payload_hash: str | None = None
    source_hash: str | None = None
    last_error: str | None = None
    attempts: int = 0
    idempotency_key: str | None = None
    synced_at: datetime | None = None
    stored: bool = False
    """True once the row exists in the database."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The action for one record; `recover` means: look it up in Xero first."""

    key: str
    action: Action
    link: LinkRow | None = None
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

    def __init__(
        self,
        session: SessionLike,
        entity: str,
        *,
        autocommit: bool = True,
        keys: Collection[str | int] | None = None,
    ):
        """Bind to a session and an entity; `keys` limits the store to those keys."""
        self.session = session
        self.entity = entity
        self.autocommit = autocommit
        self.keys = None if keys is None else sorted({str(k) for k in keys})
        self._links: dict[str, LinkRow] | None = None

    @property
    def links(self) -> dict[str, LinkRow]:
        """All links of the entity (or of the chosen keys) by Perfex key."""
        if self._links is None:
            return self.load()
        return self._links

    def load(self) -> dict[str, LinkRow]:
        """(Re)load the links in one query (one per KEY_CHUNK keys when limited)."""
        cols = [_LINKS.c.perfex_key, *(_LINKS.c[name] for name in FIELDS)]
        stmt = select(*cols).where(_LINKS.c.entity == self.entity)
        if self.keys is None:
            rows = list(self.session.execute(stmt))
        else:
            rows = []
            for start in range(0, len(self.keys), KEY_CHUNK):
                part = self.keys[start : start + KEY_CHUNK]
                rows += self.session.execute(
                    stmt.where(_LINKS.c.perfex_key.in_(part))
                ).all()
        self._links = {r[0]: LinkRow(**r._mapping, stored=True) for r in rows}
        return self._links

    def get(self, key: str | int) -> LinkRow | None:
        """The link of one Perfex key, or None."""
        return self.links.get(str(key))

    def xero_id(self, key: str | int) -> str | None:
        """The Xero id linked to a Perfex key (any state), or None."""
        link = self.get(key)
        return link.xero_id if link is not None else None

    def synced_ids(self) -> dict[str, str]:
        """Perfex key -> Xero id of every link that has a Xero id."""
        return {k: v.xero_id for k, v in self.links.items() if v.xero_id}

    def by_xero_id(self) -> dict[str, LinkRow]:
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
            and link.source_hash == source
        )

    def _link(self, key: str) -> LinkRow:
        """The link of a key, created in memory (saved by the next save) if missing."""
        link = self.links.get(key)
        if link is None:
            link = self.links[key] = LinkRow(key)
        return link

    def mark_pending(self, items: Iterable[tuple[str, str | None]]) -> None:
        """Before a write call: state pending + the batch's idempotency key, saved."""
        changed = []
        for key, idempotency_key in items:
            link = self._link(str(key))
            link.state = PENDING
            link.idempotency_key = idempotency_key
            changed.append(link)
        self._save(changed)

    def record(self, outcomes: Iterable[Outcome]) -> None:
        """After a write call: store states, ids, hashes and errors in bulk."""
        now = utcnow()
        changed = []
        for outcome in outcomes:
            if outcome.state not in STATES:
                raise ValueError(f"unknown link state {outcome.state!r}")
            link = self._link(str(outcome.key))
            link.state = outcome.state
            if outcome.clear_id:
                link.xero_id = link.xero_number = link.payload_hash = None
                link.source_hash = None
            if outcome.source is not None:
                link.source_hash = outcome.source
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
            changed.append(link)
        self._save(changed)

    def set_sources(self, sources: Mapping[str, str]) -> None:
        """Store source fingerprints on existing links (nothing else changes)."""
        changed = []
        for key, source in sources.items():
            link = self.links.get(str(key))
            if link is not None and link.source_hash != source:
                link.source_hash = source
                changed.append(link)
        if changed:
            self._save(changed)

    def set_hashes(self, hashes: Mapping[str, str]) -> None:
        """Store payload hashes on existing links (nothing else changes)."""
        changed = []
        for key, value in hashes.items():
            link = self.links.get(str(key))
            if link is not None and link.payload_hash != value:
                link.payload_hash = value
                changed.append(link)
        if changed:
            self._save(changed)

    def release(self, keys: Iterable[str | int]) -> int:
        """Unfreeze locked/voided/deleted links so their records are re-evaluated."""
        changed = []
        for key in keys:
            link = self.links.get(str(key))
            if link is not None and link.state in FROZEN:
                link.state = FAILED if link.xero_id else SKIPPED
                link.payload_hash = link.source_hash = None
                changed.append(link)
        self._save(changed)
        return len(changed)

    def forget(self, keys: Iterable[str | int]) -> int:
        """Delete links (the Xero record is gone or a reset); returns how many."""
        gone = [
            link for key in keys if (link := self.links.pop(str(key), None)) is not None
        ]
        stored = [link.perfex_key for link in gone if link.stored]
        for start in range(0, len(stored), KEY_CHUNK):
            self.session.execute(
                delete(_LINKS).where(
                    _LINKS.c.entity == self.entity,
                    _LINKS.c.perfex_key.in_(stored[start : start + KEY_CHUNK]),
                )
            )
        self._finish()
        return len(gone)

    def _save(self, links: Iterable[LinkRow]) -> None:
        """Write links: one executemany INSERT and one UPDATE; then commit/flush."""
        now, entity = utcnow(), self.entity
        fresh: list[dict[str, Any]] = []
        known: list[dict[str, Any]] = []
        for link in {id(link): link for link in links}.values():
            values = (
                link.state,
                link.xero_id,
                link.xero_number,
                link.payload_hash,
                link.source_hash,
                link.last_error,
                link.attempts,
                link.idempotency_key,
                link.synced_at,
            )
            if link.stored:
                row = dict(zip(_SET_NAMES, values, strict=True))
                row["w_entity"], row["w_key"], row["v_updated_at"] = (
                    entity,
                    link.perfex_key,
                    now,
                )
                known.append(row)
            else:
                row = dict(zip(FIELDS, values, strict=True))
                row["entity"], row["perfex_key"], row["updated_at"] = (
                    entity,
                    link.perfex_key,
                    now,
                )
                fresh.append(row)
                link.stored = True
        if fresh:
            self.session.execute(insert(_LINKS), fresh)
        if known:
            self.session.execute(_UPDATE, known)
        self._finish()

    def _finish(self) -> None:
        """Commit when autocommit is on, else flush."""
        if self.autocommit:
            self.session.commit()
        else:
            self.session.flush()


def read_cursor(session: SessionLike, name: str) -> datetime | None:
    """A stored cursor (e.g. the newest Xero UpdatedDateUTC seen), or None."""
    value = session.scalar(select(SyncCursor.value).where(SyncCursor.name == name))
    return datetime.fromisoformat(value) if value else None


def write_cursor(
    session: SessionLike, name: str, value: datetime, *, commit: bool = True
) -> None:
    """Store a cursor (as naive UTC ISO text), then commit."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    store_cursor(session, name, value.isoformat(), commit=commit)


def store_cursor(session: SessionLike, name: str, text: str, *, commit: bool) -> None:
    """Insert or update a cursor's text (and its updated_at)."""
    done = session.execute(
        update(SyncCursor)
        .where(SyncCursor.name == name)
        .values(value=text, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not rowcount(done):
        session.execute(
            insert(SyncCursor).values(name=name, value=text, updated_at=utcnow())
        )
    if commit:
        session.commit()


def write_log(
    session: SessionLike,
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
