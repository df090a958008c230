"""Pure parts of the gateway: crypto, retry policy, batching, payloads, limiter."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from pxflask.xero.batching import idempotency_key, plan_batches
from pxflask.xero.crypto import load_cipher
from pxflask.xero.errors import QuotaExhausted, XeroConfigError
from pxflask.xero.limiter import Limits, LocalRateLimiter, RedisRateLimiter
from pxflask.xero.payloads import PayloadError, from_model, to_model, wire_json
from pxflask.xero.retry import RetryPolicy, retry_after_seconds


def test_cipher_roundtrip_and_rotation():
    """Tokens decrypt with the key list; a rotated-out key still reads old data."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = load_cipher({"PXFLASK_ENCRYPTION_KEY": old}).encrypt_json({"a": [1]})
    rotated = load_cipher({"PXFLASK_ENCRYPTION_KEY": f"{new},{old}"})
    assert rotated.decrypt_json(token) == {"a": [1]}


def test_cipher_requires_a_key_outside_demo(tmp_path):
    """A real deployment without PXFLASK_ENCRYPTION_KEY is refused."""
    with pytest.raises(XeroConfigError, match="PXFLASK_ENCRYPTION_KEY"):
        load_cipher({}, tmp_path)
    with pytest.raises(XeroConfigError, match="Fernet key"):
        load_cipher({"PXFLASK_ENCRYPTION_KEY": "not-a-key"})


def test_demo_key_is_generated_once_with_private_mode(tmp_path):
    """Demo/test mode keeps one generated key in the instance folder (0600)."""
    first = load_cipher({"TESTING": True}, tmp_path)
    second = load_cipher({"PXFLASK_DEMO": True}, tmp_path)
    assert second.decrypt(first.encrypt("x")) == "x"
    assert (tmp_path / "encryption.key").stat().st_mode & 0o777 == 0o600


def test_retry_policy_caps_attempts_and_total_wait():
    """Retry-After is honoured until the attempt or wait cap is reached."""
    policy = RetryPolicy(max_attempts=3, max_total_wait_s=10, jitter=False)
    assert policy.next_wait(1, 0, 2.0) == 2.0
    assert policy.next_wait(2, 2.0, None) == 1.0
    assert policy.next_wait(3, 3.0, 1.0) is None
    assert policy.next_wait(1, 0, 11.0) is None


def test_retry_after_parses_seconds_and_dates():
    """Retry-After in seconds or as an HTTP date, any header case."""
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after_seconds({}) is None


def test_batching_math():
    """51 elements make two calls; the byte cap splits big elements too."""
    assert [len(b) for b in plan_batches([10] * 51)] == [50, 1]
    assert [len(b) for b in plan_batches([10] * 100)] == [50, 50]
    assert [len(b) for b in plan_batches([1_000_000] * 7)] == [3, 3, 1]
    assert plan_batches([]) == []


def test_idempotency_key_is_deterministic():
    """The same run and batch give the same key; anything else changes it."""
    key = idempotency_key("run-1", "contacts:create", "[1]")
    assert key == idempotency_key("run-1", "contacts:create", "[1]")
    assert key != idempotency_key("run-2", "contacts:create", "[1]")
    assert key != idempotency_key("run-1", "contacts:create", "[2]")
    assert len(key) <= 128


def test_payload_to_model_and_back():
    """Xero-shaped dicts become SDK models (Decimal, dates, enums) and back."""
    payload = {
        "Type": "ACCREC",
        "Contact": {"ContactID": "c1"},
        "Date": "2026-03-01",
        "DueDate": date(2026, 3, 31),
        "LineAmountTypes": "Exclusive",
        "LineItems": [{"Description": "x", "UnitAmount": Decimal("1.2345")}],
    }
    model = to_model("Invoice", payload)
    back = from_model(model)
    assert back["Date"] == date(2026, 3, 1)
    assert back["LineAmountTypes"] == "Exclusive"
    assert back["LineItems"][0]["UnitAmount"] == Decimal("1.2345")
    assert '"Date":"/Date(1772323200000)/"' in wire_json(model)


@pytest.mark.parametrize(
    "payload",
    [{"Typo": 1}, {"Type": "NOPE"}, {"LineAmountTypes": "Sideways"}, {"Date": "x"}],
)
def test_payload_errors_are_clear(payload):
    """A mapper bug is reported with the field path."""
    with pytest.raises(PayloadError, match="Invoice"):
        to_model("Invoice", payload)


def test_local_limiter_window_and_concurrency():
    """At most `per_window` calls per window and `concurrent` in flight."""
    limiter = LocalRateLimiter(Limits(per_window=5, window_s=0.4, concurrent=2))
    active, peak, lock = [0], [0], threading.Lock()

    def work():
        with limiter.slot("t"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.02)
            with lock:
                active[0] -= 1

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2
    assert 0.4 <= time.monotonic() - started < 1.0


def test_local_limiter_day_budget_and_learned_quota():
    """A spent day budget (local or learned from headers) raises at once."""
    limiter = LocalRateLimiter(Limits(day_budget=2))
    for _ in range(2):
        with limiter.slot("t"):
            pass
    with pytest.raises(QuotaExhausted):
        limiter.slot("t").__enter__()
    other = LocalRateLimiter(Limits())
    other.observe("u", None, 0)
    with pytest.raises(QuotaExhausted) as info:
        other.slot("u").__enter__()
    assert info.value.resume_at.hour == 0


def test_local_limiter_learns_minute_quota():
    """X-MinLimit-Remaining lower than our count makes callers wait for the window."""
    limiter = LocalRateLimiter(Limits(per_window=10, window_s=0.3))
    with limiter.slot("t"):
        pass
    limiter.observe("t", 0, None)
    started = time.monotonic()
    with limiter.slot("t"):
        pass
    assert time.monotonic() - started >= 0.25


def _burst(limiter: LocalRateLimiter | RedisRateLimiter, headers: bool) -> list[float]:
    """8 calls on a 4-per-second limiter, the first 4 spread over 0.75 s.

    With ``headers`` each answer carries X-MinLimit-Remaining as a fixed-window
    Xero would send it (3, 2, 1, 0 in the first window). Returns start offsets.
    """
    starts: list[float] = []
    origin = time.monotonic()
    for index in range(8):
        with limiter.slot("t") as ticket:
            starts.append(time.monotonic() - origin)
            if headers:
                ticket.minute_remaining = 3 - index % 4
        if index < 3:
            time.sleep(0.25)
    return starts


@pytest.mark.parametrize("shared", [False, True], ids=["local", "redis"])
def test_limiter_resumes_when_the_opened_window_rolls(
    shared, redis_client, redis_prefix
):
    """Calls answered inside the window the opener started count from the opener."""
    limits = Limits(per_window=4, window_s=1.0, concurrent=5)

    def make(name: str) -> LocalRateLimiter | RedisRateLimiter:
        if shared:
            return RedisRateLimiter(redis_client, limits, prefix=redis_prefix + name)
        return LocalRateLimiter(limits)

    learned = _burst(make("learned"), headers=True)
    assert learned[4] >= 0.99  # never before the window has rolled
    assert learned[7] < 1.4  # the next four go at once, not a call per 0.25 s
    paced = _burst(make("paced"), headers=False)
    assert paced[4] >= 0.99
    assert paced[7] >= 1.7  # without the header: one window after each answer


def test_redis_limiter_shared_between_workers(redis_client, redis_prefix):
    """Two limiter instances on one Redis share the window and the in-flight cap."""
    limits = Limits(per_window=6, window_s=0.5, concurrent=2)
    workers = [
        RedisRateLimiter(redis_client, limits, prefix=redis_prefix) for _ in range(2)
    ]
    active, peak, lock = [0], [0], threading.Lock()

    def work(limiter):
        with limiter.slot("t"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.02)
            with lock:
                active[0] -= 1

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(workers[i % 2],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] <= 2
    assert 0.5 <= time.monotonic() - started < 1.5


def test_redis_limiter_day_budget(redis_client, redis_prefix):
    """The day budget and a learned day quota of 0 raise QuotaExhausted."""
    limiter = RedisRateLimiter(redis_client, Limits(day_budget=1), prefix=redis_prefix)
    with limiter.slot("t"):
        pass
    with pytest.raises(QuotaExhausted):
        limiter.slot("t").__enter__()
    limiter.observe("u", 5, 0)
    with pytest.raises(QuotaExhausted):
        limiter.slot("u").__enter__()
