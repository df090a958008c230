"""Per-tenant rate limiter: calls per window, calls in flight, day budget.

`LocalRateLimiter` keeps its state in the process; `RedisRateLimiter` keeps it
in Redis (sorted sets driven by Lua scripts on the Redis clock), so workers on
several machines share one budget per tenant.

The window is sliding and a call is stamped when its answer arrives (a call in
flight counts as "now"): Xero received it no later than that, so waiting one
window after the stamp always lands after Xero's own (fixed) window rolled.

Both limiters also learn where Xero's fixed window starts. A call whose
answer says ``X-MinLimit-Remaining = per_window - 1`` was the first of a window
(the "opener"): that window began between sending it and its answer, so it ends
no later than one window after the opener's answer. Every call answered before
one window after the opener was *sent* was received inside that same window, so
it is stamped with the opener's answer time and may be followed one window after
it, not after its own answer. A burst that spent the window in a fraction of it
then resumes at once when the window rolls, instead of at the pace of its first
answers. Nothing else changes: without such a header the stamps stay as above.
"""

from __future__ import annotations

import bisect
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pxflask.xero.errors import QuotaExhausted
from pxflask.xero.retry import next_utc_midnight

POLL_S = 0.01


@dataclass(frozen=True)
class Limits:
    """Xero's per-tenant limits (window configurable for tests and benchmarks)."""

    per_window: int = 60
    window_s: float = 60.0
    concurrent: int = 5
    day_budget: int = 5000
    lease_s: float = 150.0


class RateLimiter(Protocol):
    """What the gateway needs from a limiter."""

    limits: Limits

    def slot(self, tenant: str) -> Any:
        """Context manager: wait for a call slot, hold it during the call."""

    def observe(
        self, tenant: str, minute_remaining: int | None, day_remaining: int | None
    ) -> None:
        """Learn from Xero's X-MinLimit-Remaining / X-DayLimit-Remaining."""

    def pause(self, tenant: str, seconds: float) -> None:
        """Hold every caller of this tenant for a while (after a 429)."""

    def exhaust_day(self, tenant: str, resume_at: datetime) -> None:
        """Mark the day budget spent until resume_at (naive UTC)."""

    def day_left(self, tenant: str) -> int:
        """Calls of today's budget still free for this tenant (0 when spent)."""


def _utcnow() -> datetime:
    """Naive UTC now."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class _TenantState:
    """In-process counters of one tenant."""

    log: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    day: str = ""
    day_count: int = 0
    pause_until: float = 0.0
    exhausted_until: datetime | None = None
    opener: tuple[float, float] | None = None  # (sent, answered) of a window's first


@dataclass
class CallTicket:
    """One call holding a slot: when it was sent and what Xero said was left."""

    sent_at: float
    minute_remaining: int | None = None


class LocalRateLimiter:
    """Limiter shared by the threads of one process."""

    def __init__(
        self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._cond = threading.Condition()
        self._tenants: dict[str, _TenantState] = {}

    def _state(self, tenant: str) -> _TenantState:
        """The tenant's state, created on first use."""
        return self._tenants.setdefault(tenant, _TenantState())

    def _roll_day(self, state: _TenantState) -> None:
        """Reset the day counter at UTC midnight."""
        today = _utcnow().strftime("%Y%m%d")
        if state.day != today:
            state.day, state.day_count = today, 0

    @contextmanager
    def slot(self, tenant: str) -> Iterator[CallTicket]:
        """Wait for a call slot, hold it during the call (note the quota header)."""
        self._acquire(tenant)
        ticket = CallTicket(self._clock())
        try:
            yield ticket
        finally:
            with self._cond:
                state = self._state(tenant)
                state.in_flight -= 1
                bisect.insort(state.log, self._stamp(state, ticket))
                self._cond.notify_all()

    def _stamp(self, state: _TenantState, ticket: CallTicket) -> float:
        """The time one window after which this call no longer counts (see above)."""
        now = self._clock()
        window = self.limits.window_s
        if ticket.minute_remaining == self.limits.per_window - 1:
            state.opener = (ticket.sent_at, now)
            return now
        if state.opener is not None and now < state.opener[0] + window:
            return state.opener[1]
        return now

    def _acquire(self, tenant: str) -> None:
        """Block until the tenant may make one more call; count it."""
        limits = self.limits
        with self._cond:
            state = self._state(tenant)
            while True:
                self._roll_day(state)
                if state.exhausted_until and _utcnow() < state.exhausted_until:
                    raise QuotaExhausted(state.exhausted_until)
                if state.day_count >= limits.day_budget:
                    raise QuotaExhausted(next_utc_midnight())
                now = self._clock()
                while state.log and state.log[0] <= now - limits.window_s:
                    state.log.popleft()
                wait = 0.0
                if state.in_flight >= limits.concurrent:
                    wait = limits.window_s
                elif now < state.pause_until:
                    wait = state.pause_until - now
                elif len(state.log) + state.in_flight >= limits.per_window:
                    wait = limits.window_s
                    if state.log:
                        wait = state.log[0] + limits.window_s - now
                if wait <= 0:
                    state.in_flight += 1
                    state.day_count += 1
                    return
                self._cond.wait(wait)

    def observe(
        self, tenant: str, minute_remaining: int | None, day_remaining: int | None
    ) -> None:
        """Count calls Xero saw that this limiter did not (other processes)."""
        limits = self.limits
        with self._cond:
            state = self._state(tenant)
            now = self._clock()
            if minute_remaining is not None:
                while state.log and state.log[0] <= now - limits.window_s:
                    state.log.popleft()
                used = len(state.log) + state.in_flight
                missing = limits.per_window - used - minute_remaining
                state.log.extend([now] * max(0, missing))
            if day_remaining is not None:
                self._roll_day(state)
                state.day_count = max(
                    state.day_count, limits.day_budget - day_remaining
                )
                if day_remaining <= 0:
                    state.exhausted_until = next_utc_midnight()

    def pause(self, tenant: str, seconds: float) -> None:
        """Hold every caller of this tenant for `seconds`."""
        with self._cond:
            state = self._state(tenant)
            state.pause_until = max(state.pause_until, self._clock() + seconds)

    def exhaust_day(self, tenant: str, resume_at: datetime) -> None:
        """Mark the day budget spent until resume_at."""
        with self._cond:
            self._state(tenant).exhausted_until = resume_at
            self._cond.notify_all()

    def day_left(self, tenant: str) -> int:
        """Calls of today's budget still free for this tenant (0 when spent)."""
        with self._cond:
            state = self._state(tenant)
            self._roll_day(state)
            if state.exhausted_until and _utcnow() < state.exhausted_until:
                return 0
            return max(0, self.limits.day_budget - state.day_count)


_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_window = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local concurrent = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local member = ARGV[5]
local budget = tonumber(ARGV[6])
local exhausted = tonumber(redis.call('GET', KEYS[5]) or '0')
if exhausted > tonumber(t[1]) then return {2, exhausted} end
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
if used >= budget then return {3, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= concurrent then return {1, 10} end
local pause = tonumber(redis.call('GET', KEYS[4]) or '0')
if pause > now then return {1, pause - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= per_window then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if oldest > now then return {1, 10} end
  return {1, math.max(1, oldest + window - now)}
end
redis.call('ZADD', KEYS[1], now + lease, member)
redis.call('PEXPIRE', KEYS[1], window + lease + 1000)
redis.call('ZADD', KEYS[2], now + lease, member)
redis.call('PEXPIRE', KEYS[2], lease + 1000)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 172800)
return {0, now}
"""

# Stamp a finished call: its answer time, or the answer time of the opener of the
# window it was counted in (see the module docstring); KEYS[3] holds the opener.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local remaining = tonumber(ARGV[2])
local per_window = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local sent = tonumber(ARGV[5])
local stamp = now
if remaining == per_window - 1 then
  redis.call('SET', KEYS[3], sent .. ':' .. now, 'PX', window + 1000)
else
  local opener = redis.call('GET', KEYS[3])
  if opener then
    local sep = string.find(opener, ':', 1, true)
    local opened = tonumber(string.sub(opener, 1, sep - 1))
    local answered = tonumber(string.sub(opener, sep + 1))
    if now < opened + window then stamp = answered end
  end
end
redis.call('ZADD', KEYS[1], 'XX', stamp, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
"""

_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_window = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local minute = tonumber(ARGV[3])
local day = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local resume = tonumber(ARGV[6])
if minute >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local missing = per_window - redis.call('ZCARD', KEYS[1]) - minute
  for i = 1, missing do
    redis.call('ZADD', KEYS[1], now, 'seen:' .. now .. ':' .. i .. ':' .. ARGV[7])
  end
  redis.call('PEXPIRE', KEYS[1], window + 1000)
end
if day >= 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if budget - day > used then
    redis.call('SET', KEYS[2], budget - day, 'EX', 172800)
  end
  if day <= 0 then
    redis.call('SET', KEYS[3], resume, 'EXAT', resume)
  end
end
return 0
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return 0
"""


class RedisRateLimiter:
    """Limiter shared by every worker that uses the same Redis."""

    def __init__(
        self, redis: Any, limits: Limits | None = None, prefix: str = "pxflask:xero"
    ) -> None:
        self.limits = limits or Limits()
        self._redis = redis
        self._prefix = prefix
        self._acquire_script = redis.register_script(_ACQUIRE)
        self._release_script = redis.register_script(_RELEASE)
        self._observe_script = redis.register_script(_OBSERVE)
        self._pause_script = redis.register_script(_PAUSE)

    def _keys(self, tenant: str) -> dict[str, str]:
        """The Redis keys of one tenant."""
        base = f"{self._prefix}:{tenant}"
        return {
            "log": f"{base}:log",
            "inflight": f"{base}:inflight",
            "day": f"{base}:day:{_utcnow():%Y%m%d}",
            "pause": f"{base}:pause",
            "exhausted": f"{base}:exhausted",
            "opener": f"{base}:opener",
        }

    @contextmanager
    def slot(self, tenant: str) -> Iterator[CallTicket]:
        """Wait for a call slot, hold it during the call (note the quota header)."""
        keys = self._keys(tenant)
        member = uuid.uuid4().hex
        limits = self.limits
        while True:
            status, value = self._acquire_script(
                keys=[
                    keys[k] for k in ("log", "inflight", "day", "pause", "exhausted")
                ],
                args=[
                    limits.per_window,
                    int(limits.window_s * 1000),
                    limits.concurrent,
                    int(limits.lease_s * 1000),
                    member,
                    limits.day_budget,
                ],
            )
            if status == 0:
                break
            if status == 2:
                raise QuotaExhausted(
                    datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
                )
            if status == 3:
                raise QuotaExhausted(next_utc_midnight())
            time.sleep(max(POLL_S, min(int(value) / 1000.0, limits.window_s)))
        ticket = CallTicket(int(value) / 1000.0)  # on the Redis clock
        try:
            yield ticket
        finally:
            remaining = ticket.minute_remaining
            self._release_script(
                keys=[keys["log"], keys["inflight"], keys["opener"]],
                args=[
                    member,
                    -1 if remaining is None else remaining,
                    limits.per_window,
                    int(limits.window_s * 1000),
                    int(value),
                ],
            )

    def observe(
        self, tenant: str, minute_remaining: int | None, day_remaining: int | None
    ) -> None:
        """Count calls Xero saw that this limiter did not."""
        if minute_remaining is None and day_remaining is None:
            return
        keys = self._keys(tenant)
        resume = int(next_utc_midnight().replace(tzinfo=UTC).timestamp())
        self._observe_script(
            keys=[keys["log"], keys["day"], keys["exhausted"]],
            args=[
                self.limits.per_window,
                int(self.limits.window_s * 1000),
                -1 if minute_remaining is None else minute_remaining,
                -1 if day_remaining is None else day_remaining,
                self.limits.day_budget,
                resume,
                uuid.uuid4().hex[:8],
            ],
        )

    def pause(self, tenant: str, seconds: float) -> None:
        """Hold every caller of this tenant, on every machine, for `seconds`."""
        self._pause_script(
            keys=[self._keys(tenant)["pause"]], args=[max(1, int(seconds * 1000))]
        )

    def exhaust_day(self, tenant: str, resume_at: datetime) -> None:
        """Mark the day budget spent until resume_at, for every worker."""
        stamp = int(resume_at.replace(tzinfo=UTC).timestamp())
        ttl = max(1, stamp - int(time.time()))
        self._redis.set(self._keys(tenant)["exhausted"], stamp, ex=ttl)

    def day_left(self, tenant: str) -> int:
        """Calls of today's budget still free for this tenant (0 when spent)."""
        keys = self._keys(tenant)
        used, exhausted = self._redis.mget(keys["day"], keys["exhausted"])
        if exhausted is not None and int(exhausted) > time.time():
            return 0
        return max(0, self.limits.day_budget - int(used or 0))


def make_limiter(
    limits: Limits | None = None, redis: Any = None, prefix: str = "pxflask:xero"
) -> RateLimiter:
    """A Redis limiter when a Redis client is given, else an in-process one."""
    if redis is not None:
        return RedisRateLimiter(redis, limits, prefix)
    return LocalRateLimiter(limits)


def seconds_until(when: datetime) -> float:
    """Seconds from now until a naive UTC datetime."""
    return max(0.0, (when - _utcnow()).total_seconds())


__all__ = [
    "Limits",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "make_limiter",
    "seconds_until",
]
