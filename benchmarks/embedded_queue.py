"""Embedded mode: RQ on fakeredis inside the app process versus the embedded queue.

Measures what the README's "The embedded queue" section reports: whether RQ's own
worker and scheduler run in a background thread of one process on fakeredis, and
what a job costs on each. Needs `pip install fakeredis lupa` (not dependencies of
pxflask); without them it says so and measures the embedded queue alone.

    python benchmarks/embedded_queue.py [--jobs 200]
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime, timedelta

from flask import Flask

from pxflask.queueing import EmbeddedQueue


def _embedded(jobs: int) -> None:
    """The embedded queue: cost per job and lateness of a scheduled job."""
    queue = EmbeddedQueue(Flask(__name__))
    try:
        start = time.perf_counter()
        ids = [queue.enqueue(abs, -i) for i in range(jobs)]
        assert [queue.wait(job_id) for job_id in ids] == list(range(jobs))
        per_job = (time.perf_counter() - start) * 1e3 / jobs
        due = datetime.now(UTC) + timedelta(seconds=0.5)
        job_id = queue.enqueue_at(due, time.time)
        late = queue.wait(job_id) - due.timestamp()
        print(
            f"embedded queue: {per_job:.3f} ms a job; "
            f"scheduled job {late * 1e3:.0f} ms late"
        )
    finally:
        queue.shutdown()


def _rq_on_fakeredis(jobs: int) -> None:
    """RQ's SimpleWorker and scheduler on fakeredis, as an embedded mode would."""
    try:
        import fakeredis
        from rq import Queue, SimpleWorker
    except ImportError as exc:
        print(f"RQ on fakeredis: not measured ({exc}; pip install fakeredis lupa)")
        return
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    queue = Queue("default", connection=conn)
    failure: list[BaseException] = []

    def serve() -> None:
        """RQ's worker loop in a thread (the web server owns the main one)."""
        try:
            SimpleWorker([queue], connection=conn).work(burst=True)
        except BaseException as exc:  # noqa: BLE001 - the probe reports any failure
            failure.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(10)
    print(
        f"RQ worker in a thread: {failure[0]!r}"
        if failure
        else "RQ worker in a thread: runs"
    )
    try:
        start = time.perf_counter()
        queued = [queue.enqueue(abs, -i) for i in range(jobs)]
        SimpleWorker([queue], connection=conn).work(burst=True)
        assert [job.return_value() for job in queued] == list(range(jobs))
        per_job = (time.perf_counter() - start) * 1e3 / jobs
        print(f"RQ on fakeredis (main thread, burst): {per_job:.3f} ms a job")
    except Exception as exc:  # noqa: BLE001 - e.g. EVALSHA without lupa
        print(f"RQ on fakeredis: {type(exc).__name__}: {exc}")
        return
    job = queue.enqueue_at(datetime.now(UTC) + timedelta(seconds=1), abs, -1)
    worker = SimpleWorker([queue], connection=conn)
    started = time.time()
    try:
        worker.work(with_scheduler=True, max_idle_time=6)
    except Exception as exc:  # noqa: BLE001
        print(f"RQ worker with scheduler: {type(exc).__name__}: {exc}")
    print(
        f"RQ scheduler (forks its own process): job due in 1 s is "
        f"{job.get_status()} after {time.time() - started:.0f} s"
    )


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    _embedded(args.jobs)
    _rq_on_fakeredis(args.jobs)


if __name__ == "__main__":
    main()
