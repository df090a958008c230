"""Sign-in with Perfex staff accounts, CSRF, throttling, sign-out."""

from __future__ import annotations

import logging
from datetime import datetime

import bcrypt
import pytest
import sqlalchemy as sa

from pxflask import create_app
from pxflask.perfex.passwords import hash_password
from tests.fixtures.webapp import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_token


def add_staff(
    url: str, email: str, password_hash: str, admin: int = 1, active: int = 1
) -> int:
    """Insert a staff row straight into the Perfex table; return its id."""
    engine = sa.create_engine(url)
    staff = sa.Table("tblstaff", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        result = conn.execute(
            staff.insert().values(
                email=email,
                firstname="Test",
                lastname="Person",
                password=password_hash,
                datecreated=datetime(2025, 1, 1),
                admin=admin,
                active=active,
            )
        )
        staff_id = result.inserted_primary_key[0]
    engine.dispose()
    return staff_id


def set_staff_flag(url: str, staff_id: int, **values) -> None:
    """Change columns of one staff row."""
    engine = sa.create_engine(url)
    staff = sa.Table("tblstaff", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(staff.update().where(staff.c.staffid == staff_id).values(**values))
    engine.dispose()


def test_healthz_needs_no_login(client):
    """The liveness probe answers without a session."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_pages_redirect_to_login(client):
    """A page asked for without a session sends the browser to /login."""
    response = client.get("/sync/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/sync/"


def test_admin_signs_in_and_sees_the_dashboard(client, auth):
    """The seeded admin signs in with the Perfex password."""
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert "<h1>Sync</h1>" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "email,password",
    [
        (ADMIN_EMAIL, "wrong-password"),
        ("nobody@example.com", ADMIN_PASSWORD),
    ],
)
def test_bad_credentials_get_one_generic_message(client, auth, email, password):
    """Wrong password and unknown email look the same to the visitor."""
    response = auth.login(email, password)
    assert response.status_code == 401
    assert "Invalid email or password" in response.get_data(as_text=True)
    assert client.get("/sync/").status_code == 302


def test_non_admin_and_inactive_staff_are_refused(client, auth, perfex_copy_url):
    """Only active administrators may sign in."""
    hashed = hash_password("staff-pass")
    add_staff(perfex_copy_url, "staff@example.com", hashed, admin=0)
    add_staff(perfex_copy_url, "gone@example.com", hashed, admin=1, active=0)
    for email in ("staff@example.com", "gone@example.com"):
        response = auth.login(email, "staff-pass")
        assert response.status_code == 401
        assert "Invalid email or password" in response.get_data(as_text=True)


def test_php_password_hash_2y_is_accepted(client, auth, perfex_copy_url):
    """A `$2y$` hash (PHP password_hash) verifies like Perfex's `$2a$08$`."""
    hashed = bcrypt.hashpw(b"y-pass", bcrypt.gensalt(10)).decode()
    hashed = "$2y$" + hashed[4:]
    add_staff(perfex_copy_url, "y@example.com", hashed)
    assert auth.login("y@example.com", "y-pass").status_code == 302


def test_perfex_hash_shape(perfex_copy_url):
    """Seeded and new hashes have Perfex's phpass bcrypt shape."""
    hashed = hash_password("anything")
    assert hashed.startswith("$2a$08$") and len(hashed) == 60


def test_unknown_hash_format_is_refused_and_logged(
    client, auth, perfex_copy_url, caplog
):
    """A staff row with an unknown hash gets the generic message, the log says why."""
    staff_id = add_staff(perfex_copy_url, "odd@example.com", "md5:abcdef")
    with caplog.at_level(logging.WARNING, logger="pxflask.panel.signin"):
        response = auth.login("odd@example.com", "whatever")
    assert response.status_code == 401
    assert f"staff {staff_id} has a password hash in an unknown format" in caplog.text
    assert "whatever" not in caplog.text


def test_login_without_csrf_token_is_rejected(client):
    """The sign-in form needs its CSRF token."""
    response = client.post(
        "/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/sync/").status_code == 302


def test_repeated_failures_lock_the_account(client, auth):
    """Five failures lock the account, even for the right password next."""
    for _ in range(5):
        assert auth.login(ADMIN_EMAIL, "nope").status_code == 401
    response = auth.login()
    assert response.status_code == 401
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_success_clears_earlier_failures(client, auth):
    """A good sign-in resets the account's failure count."""
    for _ in range(4):
        auth.login(ADMIN_EMAIL, "nope")
    assert auth.login().status_code == 302
    auth.logout()
    for _ in range(4):
        auth.login(ADMIN_EMAIL, "nope")
    assert auth.login().status_code == 302


def test_logout_needs_post_with_csrf(client, auth):
    """Sign-out is a POST with a token; afterwards pages need sign-in again."""
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/sync/").status_code == 302


def test_next_only_follows_local_paths(client):
    """An absolute `next` URL is ignored after sign-in (no open redirect)."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_demoted_admin_is_signed_out(client, auth, perfex_copy_url):
    """Losing admin rights in Perfex ends the panel session on the next request."""
    add_staff(perfex_copy_url, "temp@example.com", hash_password("t-pass"))
    assert auth.login("temp@example.com", "t-pass").status_code == 302
    assert client.get("/sync/").status_code == 200
    engine = sa.create_engine(perfex_copy_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE tblstaff SET admin = 0 WHERE email = 'temp@example.com'")
        )
    engine.dispose()
    assert client.get("/sync/").status_code == 302


def test_session_cookie_is_secure_outside_tests(tmp_path):
    """A real deployment sends the session cookie only over HTTPS."""
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "PXFLASK_SECRET_KEY": "k",
            "PXFLASK_ENCRYPTION_KEY": "k",
            "PERFEX_DATABASE_URL": "sqlite://",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
