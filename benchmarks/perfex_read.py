"""Read benchmark of the Perfex layer: invoices with lines and taxes per second.

Seeds demo data into a temporary SQLite file and into a fresh MariaDB database
(dropped afterwards), reads every invoice with its lines and line taxes, and prints
invoices per second and the statements issued, per backend, side by side. The query
count is shown for a small and for the full data set to show that it does not grow.

    .venv/bin/python benchmarks/perfex_read.py [--invoices 10000] [--repeat 5]

MariaDB server: $PXFLASK_TEST_MARIADB (default mysql+pymysql://root@127.0.0.1:3306).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo

SERVER = os.environ.get("PXFLASK_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
TODAY = date(2025, 6, 1)
SMALL = 1000
T = TypeVar("T")


@dataclass
class Result:
    """Figures of one backend (and read path)."""

    name: str
    seed_seconds: float = 0.0
    read_seconds: list[float] | None = None
    cpu_seconds: list[float] | None = None
    invoices: int = 0
    lines: int = 0
    queries_small: int = 0
    queries_full: int = 0

    @property
    def best(self) -> float:
        """Fastest read."""
        return min(self.read_seconds or [float("nan")])

    @property
    def median(self) -> float:
        """Median read."""
        return statistics.median(self.read_seconds or [float("nan")])


def count_queries(engine: sa.Engine, call: Callable[[], T]) -> tuple[int, T]:
    """Statements an engine sends while `call` runs, and what it returned."""
    seen = 0

    def on_execute(*_args: object) -> None:
        nonlocal seen
        seen += 1

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        value = call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return seen, value


def measure(url: str, name: str, invoices: int, repeat: int) -> list[Result]:
    """Seed SMALL invoices, count queries, seed the rest, count and time reads."""
    results = [Result(name)]
    engine = sa.create_engine(url)
    try:
        started = time.perf_counter()
        seed_demo(engine, customers=40, invoices=min(SMALL, invoices), today=TODAY)
        seed_seconds = time.perf_counter() - started
        db = PerfexDB.from_engine(engine)
        for result in results:
            result.queries_small, _ = count_queries(
                engine, lambda: reads.read_invoices(db)
            )
        if invoices > SMALL:
            started = time.perf_counter()
            seed_demo(
                engine,
                customers=40,
                invoices=invoices - SMALL,
                seed=1,
                force=True,
                today=TODAY,
            )
            seed_seconds += time.perf_counter() - started
        for result in results:
            result.seed_seconds = seed_seconds
            result.queries_full, got = count_queries(
                engine, lambda: reads.read_invoices(db)
            )
            result.invoices = len(got)
            result.lines = sum(len(inv.lines) for inv in got)
            result.read_seconds, result.cpu_seconds = [], []
            for _ in range(repeat):
                started, cpu = time.perf_counter(), time.process_time()
                reads.read_invoices(db)
                result.read_seconds.append(time.perf_counter() - started)
                result.cpu_seconds.append(time.process_time() - cpu)
    finally:
        engine.dispose()
    return results


def mariadb_database() -> str:
    """Create a fresh utf8mb4 database; return its URL."""
    name = "pxf_bench_" + uuid.uuid4().hex[:10]
    engine = sa.create_engine(SERVER + "/?charset=utf8mb4", poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE DATABASE "
                + engine.dialect.identifier_preparer.quote(name)
                + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        )
    engine.dispose()
    return f"{SERVER}/{name}?charset=utf8mb4"


def drop_database(url: str) -> None:
    """Drop a database made by mariadb_database."""
    name = sa.make_url(url).database or ""
    engine = sa.create_engine(SERVER + "/", poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "DROP DATABASE IF EXISTS "
                + engine.dialect.identifier_preparer.quote(name)
            )
        )
    engine.dispose()


def report(results: list[Result], invoices: int) -> None:
    """Print the figures side by side."""
    width = max(len(r.name) for r in results) + 2
    rows = [
        ("invoices read", lambda r: f"{r.invoices:,}"),
        ("lines read", lambda r: f"{r.lines:,}"),
        ("seed time (s)", lambda r: f"{r.seed_seconds:.2f}"),
        ("best read (s)", lambda r: f"{r.best:.3f}"),
        ("median read (s)", lambda r: f"{r.median:.3f}"),
        ("invoices/s (best)", lambda r: f"{r.invoices / r.best:,.0f}"),
        ("invoices/s (median)", lambda r: f"{r.invoices / r.median:,.0f}"),
        ("client CPU, best (s)", lambda r: f"{min(r.cpu_seconds or [0]):.3f}"),
        (f"queries, {min(SMALL, invoices):,} invoices", lambda r: str(r.queries_small)),
        (f"queries, {invoices:,} invoices", lambda r: str(r.queries_full)),
    ]
    label = max(len(text) for text, _ in rows) + 2
    print("".ljust(label) + "".join(r.name.rjust(width) for r in results))
    for text, cell in rows:
        print(text.ljust(label) + "".join(cell(r).rjust(width) for r in results))
    print(
        f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"cpus: {os.cpu_count()}"
    )


def main() -> None:
    """Run the benchmark on SQLite and MariaDB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'perfex.db'}"
        results += measure(url, "SQLite", args.invoices, args.repeat)
    url = mariadb_database()
    try:
        results += measure(url, "MariaDB", args.invoices, args.repeat)
    finally:
        drop_database(url)
    report(results, args.invoices)


if __name__ == "__main__":
    main()
