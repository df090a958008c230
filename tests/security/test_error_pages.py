"""Error pages: 4xx/500 pages in the panel's layout, JSON or empty on machine
endpoints, 503 details for signed-in admins only, no traceback, no password."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.perfex.seed import seed_demo
from pxflask.queueing import close_queue
from tests.fixtures.databases import MARIADB_SERVER
from tests.fixtures.webapp import ADMIN_PASSWORD, AuthActions, csrf_token, make_test_app

GENERIC = "The details are in the server log."
OUR_LAYOUT = '<section class="card narrow">'


def _page(answer) -> str:
    """The body of an answer as text."""
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("signed_in", [False, True])
def test_unknown_address_is_our_404_page(client, auth, signed_in):
    """404 in the panel's layout, for visitors and admins alike."""
    if signed_in:
        assert auth.login().status_code == 302
    answer = client.get("/no/such/page")
    assert (answer.status_code, answer.mimetype) == (404, "text/html")
    assert OUR_LAYOUT in _page(answer) and "Page not found" in _page(answer)


def test_wrong_method_is_our_405_page_with_allow(admin):
    """GET on a POST-only address: 405, its Allow header kept."""
    answer = admin.get("/reconcile/refresh")
    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert OUR_LAYOUT in _page(answer) and "Method not allowed" in _page(answer)


def test_missing_csrf_token_is_our_400_page_saying_why(admin):
    """A form without its token: 400 with the CSRF reason."""
    answer = admin.post("/reconcile/refresh")
    assert answer.status_code == 400
    assert OUR_LAYOUT in _page(answer) and "CSRF token is missing" in _page(answer)


def test_too_large_form_is_our_413_page(tmp_path, perfex_copy_url):
    """A body over MAX_CONTENT_LENGTH: 413 page."""
    app = make_test_app(tmp_path, perfex_copy_url, MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    answer = client.post("/login", data={"email": "x" * 4096, "password": "y"})
    assert answer.status_code == 413
    assert OUR_LAYOUT in _page(answer) and "Request too large" in _page(answer)


def test_machine_endpoints_answer_json_or_empty(app, admin):
    """.json and /hooks/ answer JSON; /webhooks/ an empty body."""
    answer = admin.get("/sync/runs/999999.json")
    assert (answer.status_code, answer.get_json()) == (404, {"error": "page not found"})
    hook = app.test_client().get("/hooks/perfex")
    assert hook.status_code == 405 and hook.get_json() == {
        "error": "method not allowed"
    }
    webhook = app.test_client().get("/webhooks/xero")
    assert webhook.status_code == 405 and webhook.data == b""


@pytest.fixture
def boom(tmp_path, perfex_copy_url):
    """An app (exceptions not propagated, as in production) with a failing page."""
    app = make_test_app(tmp_path, perfex_copy_url, PROPAGATE_EXCEPTIONS=False)

    def fail():
        """A page whose code fails with a secret in the message."""
        raise RuntimeError("unforeseen: mysql+pymysql://root:s3cret@db.internal/crm")

    app.add_url_rule("/sync/boom", "boom", fail)
    app.add_url_rule("/sync/boom.json", "boom_json", fail)
    client = app.test_client()
    assert AuthActions(client).login().status_code == 302
    yield client
    with app.app_context():
        db.engine.dispose()


def test_unexpected_error_is_a_plain_500_and_logged_with_traceback(boom, caplog):
    """500 page without traceback or detail; the traceback is in the log."""
    with caplog.at_level(logging.ERROR):
        answer = boom.get("/sync/boom")
    page = _page(answer)
    assert answer.status_code == 500
    assert OUR_LAYOUT in page and "Something went wrong" in page and GENERIC in page
    for leak in ("Traceback", "unforeseen", "s3cret", "db.internal"):
        assert leak not in page
    logged = [
        r for r in caplog.records if r.exc_info and "/sync/boom" in r.getMessage()
    ]
    assert logged and logged[0].exc_info[0] is RuntimeError
    assert "Traceback" in caplog.text and "root:***@db.internal" in caplog.text
    assert "s3cret" not in caplog.text
    as_json = boom.get("/sync/boom.json")
    assert as_json.status_code == 500
    assert as_json.get_json() == {"error": "something went wrong"}


@pytest.fixture
def empty_mariadb() -> str:
    """A MariaDB database without Perfex's tables, reached as root."""
    from tests.fixtures.databases import create_mariadb_database, drop_mariadb_database

    url = create_mariadb_database()
    yield url
    drop_mariadb_database(url)


def test_503_hides_the_database_from_visitors(tmp_path, empty_mariadb, caplog):
    """Anonymous: a generic 503 (no user, host, database); the log has it all."""
    client = make_test_app(tmp_path, empty_mariadb).test_client()
    token = csrf_token(client, "/login")
    with caplog.at_level(logging.ERROR):
        answer = client.post(
            "/login", data={"email": "a@b.c", "password": "x", "csrf_token": token}
        )
    page = _page(answer)
    name = sa.make_url(empty_mariadb).database
    assert answer.status_code == 503 and GENERIC in page
    for leak in ("root", "127.0.0.1", name, "mysql"):
        assert leak not in page, leak
    assert name in caplog.text


def test_unparseable_url_password_is_never_shown_or_logged(tmp_path, caplog):
    """A malformed PERFEX_DATABASE_URL with a password: masked in the log too."""
    url = "mysql+pymysql//crm:s3cret-pw@db.internal/perfex"
    client = make_test_app(tmp_path, url).test_client()
    token = csrf_token(client, "/login")
    with caplog.at_level(logging.INFO):
        answer = client.post(
            "/login", data={"email": "a@b.c", "password": "x", "csrf_token": token}
        )
    assert answer.status_code == 503
    assert "s3cret-pw" not in _page(answer) and "s3cret-pw" not in caplog.text
    assert "not a database URL" in caplog.text


def test_admin_sees_the_503_detail(tmp_path, perfex_copy_url):
    """A signed-in admin gets the reason (here a malformed encryption key)."""
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_ENCRYPTION_KEY="nope")
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        answer = client.get("/reconcile/")
        assert answer.status_code == 503
        assert "PXFLASK_ENCRYPTION_KEY must be a Fernet key" in _page(answer)
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_perfex_going_down_signs_nobody_in_and_shows_a_generic_503(
    tmp_path, empty_mariadb, caplog
):
    """Perfex's MariaDB refuses the panel's user mid-session: generic 503 pages
    (HTML and JSON) and no second failure while rendering them."""
    user = f"pxf_{uuid.uuid4().hex[:8]}"
    name = sa.make_url(empty_mariadb).database
    root = sa.create_engine(MARIADB_SERVER + "/", poolclass=sa.NullPool)
    with root.begin() as conn:
        conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY 'pw-{user}'")
        conn.exec_driver_sql(f"GRANT ALL ON `{name}`.* TO '{user}'@'%%'")
    seed_demo(
        empty_mariadb, customers=2, invoices=2, seed=1, admin_password=ADMIN_PASSWORD
    )
    server = sa.make_url(MARIADB_SERVER)
    url = server.set(username=user, password=f"pw-{user}", database=name)
    app = make_test_app(tmp_path, url.render_as_string(hide_password=False))
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        assert client.get("/sync/").status_code == 200
        with root.begin() as conn:
            conn.exec_driver_sql(f"DROP USER '{user}'@'%%'")
            for (pid,) in conn.exec_driver_sql(
                "SELECT id FROM information_schema.processlist WHERE user = %s",
                (user,),
            ):
                conn.exec_driver_sql(f"KILL {int(pid)}")
        with caplog.at_level(logging.ERROR):
            answer = client.get("/sync/")
            progress = client.get("/sync/runs/1.json")
        page = _page(answer)
        assert answer.status_code == 503 and GENERIC in page
        assert user not in page and name not in page and "Sign out" not in page
        assert progress.status_code == 503 and "error" in progress.get_json()
        assert user in caplog.text and f"pw-{user}" not in caplog.text
    finally:
        with root.begin() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        root.dispose()
        with app.app_context():
            db.engine.dispose()


def test_log_file_masks_url_passwords(tmp_path):
    """The CLI's log file masks passwords in messages and tracebacks alike."""
    from pxflask.logfile import LOGGER, use_log_file

    path = use_log_file(tmp_path / "pxflask.log")
    logger = logging.getLogger(LOGGER)
    handler = next(
        h for h in logger.handlers if getattr(h, "baseFilename", "") == str(path)
    )
    try:
        try:
            raise ValueError("cannot reach redis://:r3dis-pw@cache:6379/0")
        except ValueError:
            logging.getLogger("pxflask.jobs").exception(
                "job failed on %s", "postgresql+psycopg://app:pg-pw@db/pxflask"
            )
        handler.flush()
        text = path.read_text(encoding="utf-8")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert "app:***@db" in text and ":***@cache" in text
    assert "pg-pw" not in text and "r3dis-pw" not in text
