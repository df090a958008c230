"""The Redis client's pub/sub thread lets RQ's worker exit without waiting on a read."""

from __future__ import annotations

import uuid

import redis

from tests.jobs.conftest import REDIS_URL


def test_stopping_the_pubsub_thread_does_not_wait_for_its_read():
    """stop() returns while the thread still blocks in its read (RQ reads 60 s).

    RQ's Worker.unsubscribe calls stop() and then joins the thread for 1 s itself;
    redis 8.2's stop() waits for the read instead, so a worker's exit hung for up to
    60 s after its last job (pyproject pins redis below 8.2 for this).
    """
    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(**{f"pxflask-test-{uuid.uuid4().hex}": lambda message: None})
    thread = pubsub.run_in_thread(sleep_time=30, daemon=True)
    try:
        thread.stop()
        assert thread.is_alive(), "stop() waited for the pub/sub thread's read"
    finally:
        pubsub.unsubscribe()  # the reply wakes the read; the thread then ends
        thread.join(timeout=5)
        client.close()
