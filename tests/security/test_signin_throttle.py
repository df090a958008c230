"""Sign-in throttling: one counter per staff row, whatever the spelling; no races."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

import pxflask.panel.signin as signin
from pxflask.extensions import db
from pxflask.models import utcnow
from pxflask.perfex.reads import find_staff_by_email
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import close_queue
from pxflask.web.runtime import perfex_db
from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token, make_test_app
from tests.security.signin_support import post_login

GUESSES = 40
LOCKED = "Too many failed sign-ins"
LOCK = timedelta(minutes=5)


def _serve(app: Flask) -> Iterator[Flask]:
    """Yield the app, then stop its queue and close its pools."""
    yield app
    close_queue(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def mariadb_perfex_app(tmp_path, mariadb_url) -> Iterator[Flask]:
    """The panel on a Perfex seeded on MariaDB (utf8mb4_unicode_ci)."""
    seed_demo(
        mariadb_url, customers=1, invoices=0, seed=3, admin_password=ADMIN_PASSWORD
    )
    yield from _serve(make_test_app(tmp_path, mariadb_url))


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def module_db_app(request, tmp_path, perfex_copy_url) -> Iterator[Flask]:
    """The panel with its own tables on each database the module supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'module.db'}"
    else:
        url = request.getfixturevalue(
            "mariadb_url" if request.param == "mariadb" else "postgres_url"
        )
    yield from _serve(
        make_test_app(tmp_path, perfex_copy_url, PXFLASK_DATABASE_URL=url)
    )


@pytest.fixture
def password_checks(monkeypatch) -> dict[str, int]:
    """Count the password verifications per stored hash (the real check still runs)."""
    counts: dict[str, int] = {}
    real = signin.verify_password
    lock = threading.Lock()

    def counting(password: str, stored_hash: str) -> bool:
        with lock:
            counts[stored_hash] = counts.get(stored_hash, 0) + 1
        return real(password, stored_hash)

    monkeypatch.setattr(signin, "verify_password", counting)
    return counts


def test_accent_and_case_variants_share_one_counter(mariadb_perfex_app):
    """MariaDB finds the admin for `ädmin@…`; those tries count against the admin."""
    client = mariadb_perfex_app.test_client()
    variants = [
        "ädmin@example.com",
        "ADMIN@EXAMPLE.COM",
        "Àdmin@Exämple.com",
        " admin@example.com ",
        "âdmïn@example.com",
    ]
    for email in variants:
        response = post_login(client, email, "wrong-password")
        assert response.status_code == 401
        assert LOCKED not in response.get_data(as_text=True)
    for email in (ADMIN_EMAIL, "ädmin@example.com", "ådmin@example.com"):
        response = post_login(client, email, ADMIN_PASSWORD)
        assert response.status_code == 401, email
        assert LOCKED in response.get_data(as_text=True)


def test_unknown_address_variants_share_one_counter(client):
    """Without a staff row the normalised address is the key (accents, case, blanks)."""
    for email in (
        "nöbody@example.com",
        "NOBODY@example.com",
        " Nobody@Example.com",
        "nóbody@example.com",
        "nobody@example.com",
    ):
        assert post_login(client, email, "guess").status_code == 401
    response = post_login(client, "NÔBODY@EXAMPLE.COM", "guess")
    assert LOCKED in response.get_data(as_text=True)


def test_variants_the_database_does_not_find_still_count_for_the_account(client):
    """On SQLite `ädmin@…` finds no row; its tries still lock `admin@…`."""
    for email in (
        "ädmin@example.com",
        "ÄDMIN@example.com",
        "ADMIN@EXAMPLE.COM",
        " Admin@Example.com ",
        "àdmin@example.com",
    ):
        assert post_login(client, email, "guess").status_code == 401
    response = post_login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert response.status_code == 401
    assert LOCKED in response.get_data(as_text=True)


def test_normalised_address():
    """NFKD, combining marks dropped, casefolded, trimmed."""
    from pxflask.panel.throttling import normalise_email

    assert normalise_email("  Ädmin@Exämple.COM ") == "admin@example.com"
    assert normalise_email("ﬁnance@example.com") == "finance@example.com"
    assert normalise_email("STRASSE@example.com") == normalise_email(
        "straße@example.com"
    )


def test_parallel_guesses_get_at_most_five_checks(module_db_app, password_checks):
    """40 simultaneous wrong passwords: at most 5 checked, the rest locked, no 500."""
    clients = [module_db_app.test_client() for _ in range(GUESSES)]
    tokens = [csrf_token(c, "/login") for c in clients]
    barrier = threading.Barrier(GUESSES)

    def guess(index: int) -> tuple[int, str]:
        barrier.wait()
        try:
            response = clients[index].post(
                "/login",
                data={
                    "email": ADMIN_EMAIL,
                    "password": f"wrong-{index}",
                    "csrf_token": tokens[index],
                },
            )
        except Exception as exc:  # noqa: BLE001 - a crash is what is measured
            return 500, repr(exc)
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(GUESSES) as pool:
        answers = list(pool.map(guess, range(GUESSES)))
    statuses = [status for status, _ in answers]
    assert 500 not in statuses, [text for status, text in answers if status == 500]
    assert statuses == [401] * GUESSES
    admin = find_staff_by_email(perfex_db(module_db_app), ADMIN_EMAIL)
    admin_hash = admin.password_hash
    assert 1 <= password_checks.get(admin_hash, 0) <= 5
    locked = sum(LOCKED in text for _, text in answers)
    assert locked == GUESSES - password_checks[admin_hash]
    response = post_login(module_db_app.test_client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    assert LOCKED in response.get_data(as_text=True)


def test_lock_ends_after_fifteen_minutes(app):
    """A locked account signs in again once its lock has run out."""
    from pxflask.panel.signin import SignInRefused, SignInThrottled, authenticate

    start = utcnow()
    with app.app_context():
        perfex = perfex_db()

        def attempt(password: str, minutes: int):
            return authenticate(
                db.session,
                perfex,
                ADMIN_EMAIL,
                password,
                "192.0.2.7",
                now=start + timedelta(minutes=minutes),
            )

        for _ in range(5):
            with pytest.raises(SignInRefused):
                attempt("nope", 0)
        with pytest.raises(SignInThrottled):
            attempt(ADMIN_PASSWORD, 14)
        assert attempt(ADMIN_PASSWORD, 16).email == ADMIN_EMAIL


def test_passed_counters_are_deleted_and_live_ones_kept(module_db_app):
    """The next attempt deletes counters whose window and lock passed, nothing else."""
    from pxflask.models import LoginFailure
    from pxflask.panel import throttling

    now = utcnow()
    old = now - throttling.WINDOW - timedelta(seconds=1)
    rows = {
        "passed-window": {"count": 3, "first_at": old, "locked_until": None},
        "lock-ended": {"count": 5, "first_at": old, "locked_until": now},
        "still-locked": {"count": 5, "first_at": old, "locked_until": now + LOCK},
        "in-window": {"count": 2, "first_at": now, "locked_until": None},
    }
    with module_db_app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            for key, values in rows.items():
                conn.execute(LoginFailure.__table__.insert(), {"key": key, **values})
        throttle = throttling.Throttle.of(None, "someone@example.com", "192.0.2.9")
        assert throttling.reserve(engine, throttle, now) is None
        with engine.connect() as conn:
            keys = set(conn.scalars(sa.select(LoginFailure.__table__.c.key)))
    assert {"still-locked", "in-window"} <= keys
    assert not keys & {"passed-window", "lock-ended"}
    assert set(throttle.accounts) | {throttle.address} <= keys
