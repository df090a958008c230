"""Every panel page needs sign-in; every POST needs a CSRF token."""

from __future__ import annotations

from tests.fixtures.webapp import csrf_token

PAGES = [
    "/sync/",
    "/sync/log",
    "/sync/log/1",
    "/sync/runs/1.json",
    "/settings/",
    "/reset/",
    "/reset/relink",
]
POSTS = [
    "/sync/run",
    "/sync/retry/1",
    "/sync/retry/invoices/1",
    "/sync/retry-failed",
    "/settings/",
    "/reset/",
    "/reset/relink",
    "/reset/relink/apply",
]


def test_pages_send_strangers_to_the_login(client):
    """Without a session every page redirects to /login."""
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_posts_without_a_session_are_refused(client):
    """A POST with a valid CSRF token but no signed-in admin gets 401."""
    token = csrf_token(client, "/login")
    for path in POSTS:
        response = client.post(path, data={"csrf_token": token, "confirm": "RESET"})
        assert response.status_code == 401, path


def test_posts_without_a_csrf_token_are_refused(admin):
    """A signed-in POST without the form's CSRF token gets 400."""
    for path in POSTS:
        response = admin.post(path, data={"entity": "items", "confirm": "RESET"})
        assert response.status_code == 400, path


def test_pages_render_for_the_admin(admin):
    """Signed in, each page renders with the navigation to the others."""
    for path in ("/sync/", "/sync/log", "/settings/", "/reset/", "/reset/relink"):
        response = admin.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        for link in (
            'href="/sync/"',
            'href="/sync/log"',
            'href="/settings/"',
        ):
            assert link in page, (path, link)
    assert 'href="/reset/"' in admin.get("/settings/").get_data(as_text=True)
