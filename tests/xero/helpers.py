"""Helpers of the gateway tests: settings, gateways, sign-in, race workers."""

from __future__ import annotations

import os
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.config import DEFAULTS
from pxflask.models import Base, XeroConnection
from pxflask.xero import Limits, RetryPolicy, XeroGateway

REDIS_URL = os.environ.get("PXFLASK_TEST_REDIS", "redis://127.0.0.1:6379/0")
TEST_KEY = "x3sS1sKdl8eD3Zq0kGnJ6jB0yV9fQ2mT4uW7rA5cE1o="
REDIRECT_URI = "http://127.0.0.1:5999/connection/callback"
FAST_RETRY = RetryPolicy(max_attempts=5, max_total_wait_s=10, base_delay_s=0.02)


def settings_for(config: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Full settings pointing at the sandbox (test key, loopback redirect)."""
    settings = dict(DEFAULTS)
    settings.update(config)
    settings.update(
        TESTING=True, PXFLASK_ENCRYPTION_KEY=TEST_KEY, XERO_REDIRECT_URI=REDIRECT_URI
    )
    settings.update(overrides)
    return settings


def session_factory(db_url: str) -> sessionmaker:
    """A sessionmaker on the module DB, tables created."""
    engine = sa.create_engine(db_url)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def make_gateway(
    settings: dict[str, Any],
    db_url: str,
    *,
    redis: Any = None,
    redis_prefix: str = "pxf-test",
    limits: Limits | None = None,
    retry: RetryPolicy | None = FAST_RETRY,
) -> XeroGateway:
    """A gateway on the module DB (in-process limiter unless redis is given)."""
    return XeroGateway(
        settings,
        session_factory(db_url),
        redis,
        limits=limits or Limits(),
        retry=retry,
        redis_prefix=redis_prefix,
    )


def approve(url: str, **extra: str) -> tuple[str | None, str | None]:
    """Approve the consent page at the sandbox; the (code, state) sent back."""
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form.update(decision="allow", **extra)
    response = requests.post(
        url.split("?")[0], data=form, allow_redirects=False, timeout=10
    )
    assert response.status_code in (302, 303), response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return query.get("code", [None])[0], query.get("state", [None])[0]


def connect(gw: XeroGateway, **extra: str) -> list[Any]:
    """Run the authorization-code flow end to end; the tenants."""
    request = gw.start_authorization(REDIRECT_URI)
    code, state = approve(request.url, **extra)
    return gw.complete_authorization(code, state, request.state)


def age_stored_token(db_url: str, gw: XeroGateway, seconds_left: float) -> None:
    """Make the stored access token expire in `seconds_left` (client side)."""
    cipher = gw.tokens._cipher
    engine = sa.create_engine(db_url)
    with sessionmaker(engine)() as session:
        row = session.scalars(sa.select(XeroConnection)).one()
        token = cipher.decrypt_json(row.token_encrypted)
        token["expires_at"] = time.time() + seconds_left
        row.token_encrypted = cipher.encrypt_json(token)
        session.commit()
    engine.dispose()


def race_worker(
    settings: dict[str, Any],
    db_url: str,
    threads: int,
    use_redis: bool,
    redis_prefix: str,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """A process of the refresh race: `threads` threads call Xero at one moment."""
    redis_client = None
    if use_redis:
        import redis

        redis_client = redis.Redis.from_url(settings["REDIS_URL"])
    gw = make_gateway(settings, db_url, redis=redis_client, redis_prefix=redis_prefix)
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        try:
            gw.get_organisation()
            outcomes.append("ok")
        except Exception as exc:  # any failure is reported to the parent
            outcomes.append(f"{type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=run) for _ in range(threads)]
    ready.put("ready")
    go.wait(30)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(outcomes)
