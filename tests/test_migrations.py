"""`pxflask db upgrade` builds the module's tables on SQLite, MariaDB, PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from pxflask import MIGRATIONS_DIR, create_app
from pxflask.extensions import db
from pxflask.models import Base


def upgraded_app(tmp_path, url: str):
    """An app on `url` with every migration applied."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PXFLASK_DATABASE_URL": url,
            "PERFEX_DATABASE_URL": "sqlite://",
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        db.engine.dispose()
    return app


def schema_differences(url: str) -> list:
    """What the migrated database lacks or has beyond models.Base."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diffs


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def module_db_url(request, tmp_path):
    """An empty database of each kind the module supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'module.db'}"
    fixture = "mariadb_url" if request.param == "mariadb" else "postgres_url"
    return request.getfixturevalue(fixture)


def test_upgrade_matches_the_models(tmp_path, module_db_url):
    """After `db upgrade` the tables are exactly what the models declare."""
    upgraded_app(tmp_path, module_db_url)
    assert schema_differences(module_db_url) == []


def test_downgrade_removes_every_table(tmp_path, module_db_url):
    """Downgrading to base leaves only Alembic's version table."""
    app = upgraded_app(tmp_path, module_db_url)
    with app.app_context():
        downgrade(directory=MIGRATIONS_DIR, revision="base")
        db.engine.dispose()
    engine = sa.create_engine(module_db_url)
    left = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert left == set()


def test_cli_db_upgrade(tmp_path):
    """The console command `pxflask db upgrade` creates the tables."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "PXFLASK_DATABASE_URL": url,
            "PERFEX_DATABASE_URL": "sqlite://",
        }
    )
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
    with app.app_context():
        db.engine.dispose()
