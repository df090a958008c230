"""In-memory state of the fake Xero: a clock, organisations and identity data."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]
KeyOf = Callable[[Record], Any]


class _Index:
    """One lookup key → the ids of the records having it (kept current)."""

    def __init__(self, key_of: KeyOf) -> None:
        """Empty index computing keys with key_of (None = not indexed)."""
        self.key_of = key_of
        self.ids: dict[Any, dict[str, None]] = {}
        self.key_by_id: dict[str, Any] = {}

    def put(self, record_id: str, record: Record) -> None:
        """(Re)index one record."""
        key = self.key_of(record)
        old = self.key_by_id.get(record_id)
        if old is not None:
            if old == key:
                return
            self.discard(record_id)
        if key is not None:
            self.ids.setdefault(key, {})[record_id] = None
            self.key_by_id[record_id] = key

    def discard(self, record_id: str) -> None:
        """Forget one record."""
        key = self.key_by_id.pop(record_id, None)
        if key is None:
            return
        bucket = self.ids[key]
        bucket.pop(record_id, None)
        if not bucket:
            del self.ids[key]


class Table(dict[str, Record]):
    """One resource's records by id, with lookup indexes kept on every store.

    Storing (``table[id] = record``, also again after changing a record in
    place) and deleting keep the indexes current; an index is built on first use.
    """

    def __init__(self, items: Iterable[tuple[str, Record]] = ()) -> None:
        """An empty table (or one filled from items)."""
        super().__init__()
        self._indexes: dict[str, _Index] = {}
        self._position: dict[str, int] = {}
        self._next = 0
        for key, record in items:
            self[key] = record

    def __setitem__(self, key: str, record: Record) -> None:
        """Store a record and (re)index it."""
        if key not in self._position:
            self._position[key] = self._next
            self._next += 1
        super().__setitem__(key, record)
        for index in self._indexes.values():
            index.put(key, record)

    def __delitem__(self, key: str) -> None:
        """Remove a record from the table and its indexes."""
        super().__delitem__(key)
        del self._position[key]
        for index in self._indexes.values():
            index.discard(key)

    def pop(self, key: str, *default: Any) -> Any:
        """Remove and return a record (indexes kept)."""
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        record = self[key]
        del self[key]
        return record

    def popitem(self) -> tuple[str, Record]:
        """Remove and return the last record (indexes kept)."""
        key = next(reversed(self))
        return key, self.pop(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Store default unless key is present; return the stored record."""
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Store many records (indexes kept)."""
        for key, record in dict(*args, **kwargs).items():
            self[key] = record

    def clear(self) -> None:
        """Remove every record and index entry."""
        super().clear()
        self._position.clear()
        for name, index in list(self._indexes.items()):
            self._indexes[name] = _Index(index.key_of)

    def __copy__(self) -> Table:
        """A shallow copy with its own indexes."""
        return Table(self.items())

    def copy(self) -> Table:  # type: ignore[override]
        """A shallow copy with its own indexes."""
        return Table(self.items())

    def __reduce__(self) -> Any:
        """Pickle/deepcopy as a freshly indexed table."""
        return (Table, (list(self.items()),))

    def in_order(self, keys: Iterable[str]) -> list[Record]:
        """The stored records of the given keys, in table order."""
        found = sorted({k for k in keys if k in self}, key=self._position.__getitem__)
        return [self[k] for k in found]

    def reindex(self, key: str) -> None:
        """Re-read a record changed in place."""
        record = self[key]
        for index in self._indexes.values():
            index.put(key, record)

    def find(
        self,
        index: str,
        key_of: KeyOf,
        key: Any,
        where: Callable[[Record], bool] | None = None,
    ) -> Record | None:
        """The first record (in table order) whose key_of is key and where holds."""
        for record in self.find_all(index, key_of, key):
            if where is None or where(record):
                return record
        return None

    def find_all(self, index: str, key_of: KeyOf, key: Any) -> list[Record]:
        """The records (in table order) whose key_of is key."""
        found = self._indexes.get(index)
        if found is None:
            found = self._indexes[index] = _Index(key_of)
            for record_id, record in self.items():
                found.put(record_id, record)
        try:
            ids = found.ids.get(key)
        except TypeError:  # an unhashable key equals no stored one
            return []
        if not ids:
            return []
        if len(ids) == 1:
            return [self[next(iter(ids))]]
        return [self[i] for i in sorted(ids, key=self._position.__getitem__)]


class Clock:
    """Wall clock with a test offset; timestamps handed out strictly increase."""

    def __init__(self) -> None:
        """Start at real time with no offset."""
        self.offset = 0.0
        self._last_us = 0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, shifted by the offset."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move sandbox time forward (token expiry, windows, TTLs)."""
        self.offset += seconds

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self.offset = 0.0
            self._last_us = 0

    def stamp(self) -> datetime:
        """A unique, increasing UTC timestamp (microseconds; shown as ms)."""
        with self._lock:
            us = max(int(self.time() * 1_000_000), self._last_us + 1)
            self._last_us = us
        return datetime.fromtimestamp(us / 1_000_000, tz=UTC)

    def now(self) -> datetime:
        """The current sandbox time as aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=UTC)


@dataclass
class Tenant:
    """One Xero organisation and all its records (dicts keyed by ID)."""

    tenant_id: str
    name: str
    base_currency: str
    country_code: str
    region: str = "global"
    """The region profile (pxflask.sandbox.regions) the organisation follows."""
    organisation: dict[str, Any] = field(default_factory=dict)
    currencies: list[str] = field(default_factory=list)
    records: dict[str, Table] = field(default_factory=dict)
    """Each collection's records, its table made on first use."""
    sequences: dict[str, int] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)
    """Invoices Xero e-mailed (POST /Invoices/{id}/Email), oldest first."""

    def table(self, resource: str) -> Table:
        """The records of one resource type (an empty table the first time)."""
        found = self.records.get(resource)
        if found is None:  # setdefault: two threads' first use keep one table
            found = self.records.setdefault(resource, Table())
        return found

    def next_number(self, kind: str) -> int:
        """The next value of a numbering sequence (INV-, CN-, TAX)."""
        value = self.sequences.get(kind, 0) + 1
        self.sequences[kind] = value
        return value


@dataclass
class Grant:
    """One user's consent for the app: which tenants the tokens may reach."""

    grant_id: str
    client_id: str
    scope: list[str]
    auth_event_id: str
    custom_tenant: str | None = None
    revoked: bool = False


@dataclass
class AccessToken:
    """An issued access token."""

    token: str
    grant_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    """An issued refresh token and its rotation state."""

    token: str
    grant_id: str
    scope: list[str]
    expires_at: float
    rotated_at: float | None = None
    grace_used: bool = False
    revoked: bool = False


@dataclass
class AuthCode:
    """A single-use authorization code."""

    code: str
    client_id: str
    redirect_uri: str
    scope: list[str]
    tenant_ids: list[str]
    expires_at: float
    code_challenge: str | None = None
    used: bool = False


@dataclass
class Identity:
    """Tokens, codes and connections of the identity service."""

    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class State:
    """Everything the sandbox knows; replaced wholesale on reset."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    identity: Identity = field(default_factory=Identity)
    events: list[dict[str, Any]] = field(default_factory=list)
    event_sequence: int = 0

    def tenant(self, tenant_id: str | None = None) -> Tenant:
        """A tenant by id, or the first (demo) one."""
        if tenant_id is None:
            return next(iter(self.tenants.values()))
        return self.tenants[tenant_id]
