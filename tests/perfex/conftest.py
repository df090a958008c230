"""Fixtures for the Perfex layer: seeded demo databases on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.seed import seed_demo
from tests.fixtures.databases import create_mariadb_database, drop_mariadb_database

TODAY = date(2025, 6, 1)
SEED_INVOICES = 300


class QueryCounter:
    """Counts the statements an engine sends (before_cursor_execute)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, conn, cursor, statement, params, context, executemany):
        """Record one statement."""
        self.count += 1
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._on_execute)


def backend_url(kind: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh empty database URL of a kind ('sqlite' or 'mariadb')."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('perfex') / 'perfex.db'}"
    return create_mariadb_database()


@pytest.fixture(scope="session", params=["sqlite", "mariadb"])
def seeded_db(request, tmp_path_factory) -> Iterator[PerfexDB]:
    """A demo database (300 invoices) per backend; tests must not change it."""
    url = backend_url(request.param, tmp_path_factory)
    seed_demo(url, invoices=SEED_INVOICES, seed=7, today=TODAY)
    db = PerfexDB.connect(url)
    yield db
    db.dispose()
    if request.param == "mariadb":
        drop_mariadb_database(url)


@pytest.fixture
def count_queries():
    """Factory: a QueryCounter context for an engine."""
    return QueryCounter
