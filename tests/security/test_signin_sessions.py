"""Sessions live on the server: sign-out and a Perfex password change end them."""

from __future__ import annotations

import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.perfex.passwords import hash_password
from tests.fixtures.webapp import ADMIN_EMAIL, AuthActions
from tests.test_auth import set_staff_flag

COOKIE = "session"


def copied_cookie(app, client) -> object:
    """A second browser holding a copy of the client's session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def test_copied_cookie_stops_working_after_sign_out(app, client, auth):
    """A cookie copied before sign-out is refused afterwards."""
    assert auth.login().status_code == 302
    thief = copied_cookie(app, client)
    assert thief.get("/sync/").status_code == 200
    assert auth.logout().status_code == 302
    response = thief.get("/sync/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_out_ends_only_that_session(app, client, auth):
    """Another browser's own session of the same admin goes on."""
    other = app.test_client()
    assert AuthActions(other).login().status_code == 302
    assert auth.login().status_code == 302
    auth.logout()
    assert other.get("/sync/").status_code == 200


def test_password_change_in_perfex_ends_sessions(app, client, auth, perfex_copy_url):
    """A new password set in Perfex signs every panel session of that admin out."""
    assert auth.login().status_code == 302
    assert client.get("/sync/").status_code == 200
    engine = sa.create_engine(perfex_copy_url)
    with engine.connect() as conn:
        admin_id = conn.execute(
            sa.text("SELECT staffid FROM tblstaff WHERE email = :e"), {"e": ADMIN_EMAIL}
        ).scalar_one()
    engine.dispose()
    set_staff_flag(perfex_copy_url, admin_id, password=hash_password("new-pass"))
    assert client.get("/sync/").status_code == 302
    assert auth.login(ADMIN_EMAIL, "new-pass").status_code == 302
    assert client.get("/sync/").status_code == 200


def test_sign_out_revokes_the_row(app, client, auth):
    """The session's row records its revocation; no row is left unrevoked."""
    auth.login()
    auth.logout()
    with app.app_context():
        rows = db.session.execute(
            sa.text("SELECT revoked_at FROM pxf_admin_sessions")
        ).all()
    assert len(rows) == 1 and rows[0][0] is not None
