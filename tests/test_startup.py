"""Bad configuration and broken Perfex databases give one clear message."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pxflask import create_app
from pxflask.cli import main
from pxflask.config import ConfigError
from pxflask.web.runtime import check_startup
from tests.fixtures.webapp import make_test_app


def run_cli(monkeypatch, tmp_path, *args: str, **env: str):
    """Run the real `pxflask` console group with the given environment."""
    monkeypatch.setenv("PXFLASK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PXFLASK_DATABASE_URL", f"sqlite:///{tmp_path / 'pxf.db'}")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_one_clear_line(result, *fragments: str) -> None:
    """Exit 2 with an `error:` line containing the fragments and no traceback."""
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0]
    assert "Traceback" not in result.output


def test_check_passes_on_a_good_setup(monkeypatch, tmp_path, perfex_copy_url):
    """`pxflask check` confirms a seeded Perfex DB and upgraded module tables."""
    app = make_test_app(tmp_path, perfex_copy_url)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "module database: ok" in result.output


def test_unknown_mariadb_database(monkeypatch, tmp_path):
    """A URL naming a database that does not exist."""
    result = run_cli(
        monkeypatch,
        tmp_path,
        "check",
        PERFEX_DATABASE_URL="mysql+pymysql://root@127.0.0.1:3306/pxf_no_such_db",
        PXFLASK_SECRET_KEY="s",
        PXFLASK_ENCRYPTION_KEY="k",
    )
    assert_one_clear_line(
        result, "cannot connect to the Perfex database", "pxf_no_such_db"
    )


def test_unreachable_server(monkeypatch, tmp_path):
    """A URL pointing at a port where nothing listens."""
    result = run_cli(
        monkeypatch,
        tmp_path,
        "check",
        PERFEX_DATABASE_URL="mysql+pymysql://root:secret@127.0.0.1:1/perfex",
        PXFLASK_SECRET_KEY="s",
        PXFLASK_ENCRYPTION_KEY="k",
    )
    assert_one_clear_line(result, "cannot connect to the Perfex database")
    assert "secret" not in result.output


def test_missing_table_is_named(monkeypatch, tmp_path, mariadb_url):
    """A Perfex DB without tblitemable names the table."""
    from pxflask.perfex.seed import seed_demo

    seed_demo(mariadb_url, customers=3, invoices=5, seed=1)
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE tblitemable")
    engine.dispose()
    result = run_cli(
        monkeypatch,
        tmp_path,
        "check",
        PERFEX_DATABASE_URL=mariadb_url,
        PXFLASK_SECRET_KEY="s",
        PXFLASK_ENCRYPTION_KEY="k",
    )
    assert_one_clear_line(result, "tblitemable")


def test_missing_required_column_is_named(monkeypatch, tmp_path, sqlite_url):
    """A Perfex DB whose tblinvoices lacks `subtotal` names the column."""
    from pxflask.perfex.seed import seed_demo

    seed_demo(sqlite_url, customers=3, invoices=5, seed=1)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE tblinvoices DROP COLUMN subtotal")
    engine.dispose()
    result = run_cli(
        monkeypatch,
        tmp_path,
        "check",
        PERFEX_DATABASE_URL=sqlite_url,
        PXFLASK_SECRET_KEY="s",
        PXFLASK_ENCRYPTION_KEY="k",
    )
    assert_one_clear_line(result, "tblinvoices", "subtotal")


def test_wrong_prefix_is_explained(monkeypatch, tmp_path, perfex_copy_url):
    """A prefix that matches no table says so."""
    result = run_cli(
        monkeypatch,
        tmp_path,
        "check",
        PERFEX_DATABASE_URL=perfex_copy_url,
        PERFEX_TABLE_PREFIX="crm_",
        PXFLASK_SECRET_KEY="s",
        PXFLASK_ENCRYPTION_KEY="k",
    )
    assert_one_clear_line(result, "crm_")


def test_missing_secrets_stop_start_up(tmp_path, perfex_copy_url):
    """Outside demo/test mode the session and encryption keys are required."""
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "PERFEX_DATABASE_URL": perfex_copy_url}
    )
    with pytest.raises(ConfigError, match="PXFLASK_SECRET_KEY, PXFLASK_ENCRYPTION_KEY"):
        check_startup(app)


def test_seed_refuses_a_database_with_invoices(monkeypatch, tmp_path, perfex_copy_url):
    """seed-demo never overwrites a Perfex DB that has invoices."""
    result = run_cli(
        monkeypatch, tmp_path, "seed-demo", "--perfex-url", perfex_copy_url
    )
    assert_one_clear_line(result, "--force")


def test_broken_perfex_shows_a_clear_page(tmp_path, sqlite_url):
    """The panel answers 503 with the reason when the Perfex DB is unusable."""
    from tests.fixtures.webapp import csrf_token

    sa.create_engine(sqlite_url).connect().close()  # an empty SQLite file
    client = make_test_app(tmp_path, sqlite_url).test_client()
    token = csrf_token(client, "/login")
    answer = client.post(
        "/login", data={"email": "a@b.c", "password": "x", "csrf_token": token}
    )
    assert answer.status_code == 503
    assert "The Perfex database is not usable" in answer.get_data(as_text=True)


def test_day_limit_sets_the_limiter_and_a_bad_one_is_refused(
    monkeypatch, tmp_path, perfex_copy_url
):
    """XERO_DAY_LIMIT=1000 (Starter tier) reaches the limiter; 'lots' is refused."""
    from pxflask.web.runtime import xero_gateway

    app = make_test_app(tmp_path, perfex_copy_url, XERO_DAY_LIMIT="1000")
    assert xero_gateway(app).limiter.limits.day_budget == 1000
    result = run_cli(
        monkeypatch, tmp_path, "xero", "status",
        PERFEX_DATABASE_URL=perfex_copy_url, PXFLASK_DEMO="1", XERO_DAY_LIMIT="lots",
    )  # fmt: skip
    assert_one_clear_line(result, "XERO_DAY_LIMIT", "1000")
