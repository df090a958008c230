"""Fixtures of the gateway tests: Redis, settings, a module database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .helpers import REDIS_URL


@pytest.fixture
def redis_client() -> Iterator[object]:
    """A Redis client on the test server; keys under a unique prefix are cleaned."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:  # pragma: no cover - environment
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client) -> Iterator[str]:
    """A unique key prefix, deleted after the test."""
    prefix = "pxf-test:" + uuid.uuid4().hex[:10]
    yield prefix
    for key in redis_client.scan_iter(prefix + "*"):
        redis_client.delete(key)
