"""Starting the job machinery: the RQ worker, and the embedded queue at app start."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from flask import Flask

from pxflask.extensions import db
from pxflask.queueing import QUEUE_NAMES, RQQueue, get_queue

from .locks import recover_stale_runs
from .schedule import reconcile_periodic

log = logging.getLogger(__name__)


def start_background(app: Flask) -> dict[str, datetime | None]:
    """Embedded mode at app start: close stale runs, schedule periodic jobs."""
    queue = get_queue(app)
    with app.app_context():
        recovered = recover_stale_runs(db.session, queue)
        if recovered:
            log.warning("closed %d sync run(s) interrupted by a restart", recovered)
    return reconcile_periodic(app)


def run_worker(
    app: Flask, *, burst: bool = False, queues: Iterable[str] | None = None
) -> None:
    """The RQ worker with its scheduler, on this app's named queues."""
    # Syncs of one scope must not run side by side: run one worker on the sync queue.
    from rq import Worker

    from pxflask.config import ConfigError

    queue = get_queue(app)
    if not isinstance(queue, RQQueue):
        raise ConfigError(
            "pxflask worker needs REDIS_URL; without it the app runs its jobs "
            "itself (embedded queue), so no worker is needed"
        )
    from redis.exceptions import RedisError

    try:
        queue.redis.ping()
    except RedisError as exc:
        raise ConfigError(f"cannot reach Redis (REDIS_URL): {exc}") from exc
    recovered = recover_stale_runs(db.session, queue)
    if recovered:
        log.warning("closed %d sync run(s) left by a stopped worker", recovered)
    db.session.commit()
    db.session.remove()
    reconcile_periodic(app)
    db.engine.dispose()  # work horses are forks: give each its own connections
    names = list(queues) if queues else list(QUEUE_NAMES)
    worker = Worker(
        [queue.rq_queue(name) for name in names],
        connection=queue.redis,
        name=f"pxflask-{uuid.uuid4().hex[:8]}",
    )
    worker.work(burst=burst, with_scheduler=True)
