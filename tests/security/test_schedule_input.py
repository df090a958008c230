"""Schedules that cannot run: refused when saved, a pause when already stored."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pxflask.extensions import db
from pxflask.jobs import reconcile_periodic, scheduled_sync, start_background
from pxflask.models import Setting
from pxflask.sync.settings import load_settings
from tests.fixtures.webapp import csrf_token
from tests.jobs.conftest import exited_cleanly, redis_prefix, rq_app, run_worker

__all__ = ["redis_prefix", "rq_app"]

NEVER = ["60 * * * *", "0 0 31 2 *", "0 0 30 2 *", "0 24 * * *", "0 0 0 * *"]
"""Out-of-range fields, and dates that never come (31 and 30 February)."""
PAUSED = "is invalid, scheduled sync paused"


def _store_raw(app, **values: str) -> None:
    """Write settings straight into the table, as an older version or a DB edit did."""
    with app.app_context():
        for key, value in values.items():
            db.session.merge(Setting(key=key, value=value))
        db.session.commit()


def _stored(app, key: str) -> str:
    """One setting as stored now."""
    with app.app_context():
        return load_settings(db.session)[key]


@pytest.mark.parametrize("value", NEVER)
def test_cli_refuses_a_schedule_that_never_runs(runner, app, value):
    """`pxflask settings set schedule` says why, exits 2, and keeps the old value."""
    result = runner.invoke(args=["settings", "set", "schedule", value])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and repr(value) in errors[0], result.output
    assert "Traceback" not in result.output
    assert _stored(app, "schedule") == "15"


def test_cli_accepts_real_cron_expressions(runner, app):
    """A nightly cron and a 31st-of-the-month cron still save."""
    for value in ("0 2 * * *", "0 0 31 * *", "*/15 * * * 1-5"):
        result = runner.invoke(args=["settings", "set", "schedule", value])
        assert result.exit_code == 0, result.output
        assert _stored(app, "schedule") == value


@pytest.mark.parametrize("value", ["60 * * * *", "0 0 31 2 *"])
def test_settings_page_refuses_a_schedule_that_never_runs(app, admin, value):
    """The page answers 400 with the reason on the field; nothing is saved."""
    data = {
        "sales_account": "200",
        "rounding_account": "860",
        "drafts": "skip",
        "sync_mode": "scheduled",
        "schedule": value,
        "watch_interval": "30",
        "sync_from": "",
        "entities": ["customers", "invoices"],
        "csrf_token": csrf_token(admin, "/settings/"),
    }
    response = admin.post("/settings/", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "never runs" in page or "not a valid cron expression" in page
    assert _stored(app, "sync_mode") == "manual"
    assert _stored(app, "schedule") == "15"


@pytest.mark.parametrize("value", ["60 * * * *", "0 0 31 2 *", "0"])
def test_a_stored_bad_schedule_pauses_the_embedded_schedule(app, value, caplog):
    """The demo's start-up (embedded queue) logs the pause instead of crashing."""
    _store_raw(app, sync_mode="scheduled", schedule=value)
    with caplog.at_level(logging.WARNING, logger="pxflask"):
        due = start_background(app)
    assert due["scheduled-sync"] is None
    assert f"schedule {value!r} {PAUSED}" in caplog.text
    with app.app_context():
        skipped = scheduled_sync()["skipped"]
    assert skipped.startswith(f"schedule {value!r} {PAUSED}: ")


def test_a_stored_bad_schedule_is_shown_on_the_settings_page_and_dashboard(app, admin):
    """The settings page and the dashboard say the schedule is paused, no 500."""
    _store_raw(app, sync_mode="scheduled", schedule="0 0 31 2 *")
    reconcile_periodic(app)
    for path in ("/settings/", "/sync/"):
        answer = admin.get(path)
        assert answer.status_code == 200, path
        assert f"schedule &#39;0 0 31 2 *&#39; {PAUSED}" in answer.get_data(
            as_text=True
        ), path


def test_a_stored_bad_schedule_does_not_stop_the_worker(rq_app):
    """`pxflask worker` starts, logs the pause, and works through its queue."""
    _store_raw(rq_app, sync_mode="scheduled", schedule="60 * * * *")
    done = run_worker(rq_app)
    assert exited_cleanly(done), done.stdout + done.stderr
    log = Path(rq_app.instance_path, "pxflask.log").read_text(encoding="utf-8")
    assert f"schedule '60 * * * *' {PAUSED}" in log
