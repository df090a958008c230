"""Bad input answers 400/404 (or one clear CLI line), never 500 or a traceback."""

from __future__ import annotations

import re
import uuid

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from pxflask.cli import main
from pxflask.extensions import db
from pxflask.jobs import hook_job
from pxflask.models import SyncLog
from pxflask.queueing import close_queue, get_queue
from pxflask.web.runtime import xero_gateway
from tests.fixtures.webapp import AuthActions, csrf_token, make_test_app

HUGE = (2**31, 2**63, 2**64, 10**30)
BAD_LOG_QUERIES = (
    "page=%C2%B2",  # superscript two: str.isdigit() says yes, int() says no
    "page=%D9%A3",  # Arabic-Indic three
    "page=-1",
    "page=0",
    "page=" + "9" * 30,
    "page=" + "9" * 5000,  # past int()'s digit limit
    "from=2025-13-01",
    "from=20250101",
    "to=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95-01-01",  # full-width digits
    "from=yesterday",
    "q=a%00b",
    "entity=%00",
)


def _flash(page: str) -> str:
    """The error flash of a page."""
    found = re.search(r'class="flash flash-error" role="status">([^<]*)<', page)
    assert found, page[:2000]
    return found.group(1)


def _log_row(app) -> int:
    """One log row dated now; its id."""
    with app.app_context():
        row = SyncLog(entity="invoices", perfex_key="7", action="create", outcome="ok")
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.mark.parametrize("query", BAD_LOG_QUERIES)
def test_log_filters_that_are_not_values_answer_400(admin, query):
    """A malformed page, date or filter: 400, the log page and why."""
    answer = admin.get(f"/sync/log?{query}")
    assert answer.status_code == 400, query
    assert answer.mimetype == "text/html"
    said = _flash(answer.get_data(as_text=True))
    assert re.search(r"page must be|is not a date|control characters", said), said


def test_log_from_the_first_to_the_last_day_shows_every_row(app, admin):
    """from=0001-01-01&to=9999-12-31 is a valid window (no date overflow)."""
    row = _log_row(app)
    answer = admin.get("/sync/log?from=0001-01-01&to=9999-12-31")
    assert answer.status_code == 200
    assert f'href="/sync/log/{row}"' in answer.get_data(as_text=True)


def test_log_text_filter_with_nul_on_postgres(tmp_path, perfex_copy_url, postgres_url):
    """A NUL in the search box is refused before PostgreSQL sees it."""
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_DATABASE_URL=postgres_url)
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        assert client.get("/sync/log?q=a%00b").status_code == 400
        assert client.get("/sync/log?q=ab").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("number", HUGE)
def test_over_large_ids_answer_404(app, admin, number):
    """Ids past a 32-bit INTEGER never reach the database driver."""
    for path in (f"/sync/log/{number}", f"/sync/dry-runs/{number}"):
        answer = admin.get(path)
        assert (answer.status_code, answer.mimetype) == (404, "text/html"), path
    answer = admin.get(f"/sync/runs/{number}.json")
    assert (answer.status_code, answer.mimetype) == (404, "application/json")
    token = csrf_token(admin, "/sync/")
    for path in (f"/sync/retry/{number}", f"/sync/retry/invoices/{number}"):
        assert admin.post(path, data={"csrf_token": token}).status_code == 404, path


@pytest.mark.parametrize("key", ["%C2%B2", "-1", "0", "1.5", "abc"])
def test_retry_of_a_key_that_is_no_id_answers_404(admin, key):
    """POST /sync/retry/<entity>/<key> takes Perfex ids only (and known entities)."""
    token = csrf_token(admin, "/sync/")
    answer = admin.post(f"/sync/retry/invoices/{key}", data={"csrf_token": token})
    assert answer.status_code == 404
    unknown = admin.post("/sync/retry/nope/1", data={"csrf_token": token})
    assert unknown.status_code == 404


def test_relink_with_another_jobs_id_answers_404(app, admin):
    """A finished job of another kind (here a Perfex hook's) is no preview."""
    with app.app_context():
        queue = get_queue()
        job_id = queue.enqueue(hook_job, "customers", "1")
        queue.wait(job_id, timeout=60)
        assert queue.job_status(job_id) == "finished"
    for job in (job_id, "made-up", "é", "a:b", "x" * 3000):
        answer = admin.get("/reset/relink", query_string={"job": job})
        assert (answer.status_code, answer.mimetype) == (404, "text/html"), job
    token = csrf_token(admin, "/reset/")
    applied = admin.post(
        "/reset/relink/apply", data={"csrf_token": token, "job": job_id}
    )
    assert applied.status_code == 404


def test_relink_on_rq_with_a_job_id_rq_refuses_answers_404(tmp_path, perfex_copy_url):
    """On Redis + RQ a non-ASCII job id (RQ raises ValueError) is a 404 too."""
    from tests.jobs.conftest import REDIS_URL

    prefix = f"pxft{uuid.uuid4().hex[:8]}-"
    app = make_test_app(
        tmp_path, perfex_copy_url, REDIS_URL=REDIS_URL, PXFLASK_QUEUE_PREFIX=prefix
    )
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        for job in ("é", "../x", "missing"):
            answer = client.get("/reset/relink", query_string={"job": job})
            assert answer.status_code == 404, job
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


BAD_KEYS = ("clé-non-ascii", "not-a-key", " , ")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_encryption_key_is_a_503_naming_the_setting(tmp_path, perfex_copy_url, key):
    """Pages needing the key answer 503 naming PXFLASK_ENCRYPTION_KEY, not 500."""
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_ENCRYPTION_KEY=key)
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        for path in ("/reconcile/", "/connection/"):
            answer = client.get(path)
            page = answer.get_data(as_text=True)
            assert answer.status_code == 503, path
            assert "PXFLASK_ENCRYPTION_KEY" in page and "Traceback" not in page
            assert key not in page  # the key itself is never shown
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("command", [("check",), ("xero", "status")])
def test_bad_encryption_key_is_one_cli_line(
    monkeypatch, tmp_path, perfex_copy_url, key, command
):
    """`pxflask check` and `pxflask xero status`: exit 2, one line naming it."""
    monkeypatch.setenv("PXFLASK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PXFLASK_DATABASE_URL", f"sqlite:///{tmp_path / 'pxf.db'}")
    monkeypatch.setenv("PERFEX_DATABASE_URL", perfex_copy_url)
    monkeypatch.setenv("PXFLASK_SECRET_KEY", "s")
    monkeypatch.setenv("PXFLASK_ENCRYPTION_KEY", key)
    monkeypatch.setenv("XERO_CLIENT_ID", "id")
    monkeypatch.setenv("XERO_CLIENT_SECRET", "secret")
    result = CliRunner().invoke(main, list(command), catch_exceptions=False)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "PXFLASK_ENCRYPTION_KEY" in errors[0], result.output
    assert "Traceback" not in result.output


def test_a_good_key_list_still_works(tmp_path, perfex_copy_url):
    """Two valid keys separated by a comma (rotation) are accepted."""
    keys = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    app = make_test_app(tmp_path, perfex_copy_url, PXFLASK_ENCRYPTION_KEY=keys)
    try:
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        assert client.get("/connection/").status_code == 200
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_an_enormous_tolerance_is_refused_not_overflowed(
    tmp_path, perfex_copy_url, xero_sandbox
):
    """tolerance=1e999999: the refresh and `pxflask reconcile` say so (no overflow)."""
    app = make_test_app(
        tmp_path,
        perfex_copy_url,
        XERO_GRANT="client_credentials",
        **xero_sandbox.config,
    )
    try:
        xero_gateway(app).connect_client_credentials()
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        token = csrf_token(client, "/reconcile/")
        answer = client.post(
            "/reconcile/refresh",
            data={"csrf_token": token, "tolerance": "1e999999"},
            follow_redirects=True,
        )
        assert answer.status_code == 200
        assert "tolerance must be an amount" in answer.get_data(as_text=True)
        result = app.test_cli_runner().invoke(
            args=["reconcile", "--tolerance", "1e999999"]
        )
        assert result.exit_code == 2 and "tolerance must be an amount" in result.output
    finally:
        close_queue(app)
        with app.app_context():
            db.engine.dispose()


def test_repost_confirm_with_keys_that_are_no_ids(admin):
    """POST /sync/repost with odd keys: nothing to re-post, no 500."""
    token = csrf_token(admin, "/sync/")
    keys = ["²", str(2**64), "9" * 5000, "abc"]
    answer = admin.post(
        "/sync/repost",
        data={"csrf_token": token, "entity": "payments", "key": keys},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "Nothing to re-post." in answer.get_data(as_text=True)


def test_sync_log_with_an_over_large_run_is_a_clear_cli_error(runner):
    """`pxflask sync-log --run 2**64`: a usage error naming --run, no driver error."""
    result = runner.invoke(args=["sync-log", "--run", str(2**64)])
    assert result.exit_code == 2
    assert "--run" in result.output and "Overflow" not in result.output
