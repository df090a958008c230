"""`pxflask seed-demo` never adds a known admin to a real Perfex database."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from pxflask.perfex.passwords import hash_password, verify_password
from pxflask.perfex.schema import create_tables
from pxflask.perfex.seed import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

LOGIN = re.compile(r"^admin login: (\S+) / (\S+)$", re.MULTILINE)


@pytest.fixture(params=["sqlite", "mariadb"])
def empty_url(request, tmp_path) -> str:
    """An empty database (not the app's own Perfex copy), on SQLite and MariaDB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'real-perfex.db'}"
    return request.getfixturevalue("mariadb_url")


def _staff_only_perfex(url: str) -> None:
    """A Perfex install in use but without invoices yet: its tables and one admin."""
    engine = sa.create_engine(url)
    try:
        tables = create_tables(engine, "tbl")
        with engine.begin() as conn:
            conn.execute(
                tables.staff.insert().values(
                    email="owner@company.example",
                    firstname="Olive",
                    lastname="Owner",
                    password=hash_password("owner's own password"),
                    datecreated=datetime(2025, 1, 6, 9, 0),
                    admin=1,
                    active=1,
                )
            )
    finally:
        engine.dispose()


def _staff_emails(url: str) -> list[str]:
    """Every staff email of the database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT email FROM tblstaff")).scalars())
    finally:
        engine.dispose()


def _admin_hash(url: str) -> str:
    """The stored password hash of the seeded admin."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT password FROM tblstaff WHERE email = :e"),
                {"e": DEFAULT_ADMIN_EMAIL},
            ).scalar_one()
    finally:
        engine.dispose()


def _seed(runner, url: str, *args: str):
    """`pxflask seed-demo --perfex-url URL` with a small data set."""
    return runner.invoke(
        args=[
            "seed-demo",
            "--perfex-url",
            url,
            "--customers",
            "2",
            "--invoices",
            "3",
            *args,
        ]
    )


def test_a_database_with_staff_and_no_invoices_is_refused(runner, empty_url):
    """Exit 2 with one line; no demo admin (or anyone) is added."""
    _staff_only_perfex(empty_url)
    result = _seed(runner, empty_url)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "already has staff" in errors[0] and "--force" in errors[0]
    assert "Traceback" not in result.output
    assert _staff_emails(empty_url) == ["owner@company.example"]


def test_an_empty_database_gets_a_random_printed_password(runner, tmp_path):
    """Each seed prints its own random password, and it is the one that works."""
    passwords = []
    for name in ("one", "two"):
        url = f"sqlite:///{tmp_path / name}.db"
        result = _seed(runner, url)
        assert result.exit_code == 0, result.output
        logins = LOGIN.findall(result.output)
        assert len(logins) == 1, result.output
        email, password = logins[0]
        assert email == DEFAULT_ADMIN_EMAIL
        assert password != DEFAULT_ADMIN_PASSWORD and len(password) >= 16
        assert verify_password(password, _admin_hash(url))
        assert not verify_password(DEFAULT_ADMIN_PASSWORD, _admin_hash(url))
        passwords.append(password)
    assert passwords[0] != passwords[1]


def test_a_chosen_password_is_used(runner, tmp_path):
    """`--admin-password` still sets the admin's password, printed once."""
    url = f"sqlite:///{tmp_path / 'chosen.db'}"
    result = _seed(runner, url, "--admin-password", "Chosen-by-me-42")
    assert result.exit_code == 0, result.output
    assert LOGIN.findall(result.output) == [(DEFAULT_ADMIN_EMAIL, "Chosen-by-me-42")]
    assert verify_password("Chosen-by-me-42", _admin_hash(url))
