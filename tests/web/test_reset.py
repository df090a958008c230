"""Reset: confirmed by the organisation's name (or RESET), from the page or CLI."""

from __future__ import annotations

from sqlalchemy import func, select

from pxflask.extensions import db
from pxflask.models import (
    Link,
    Setting,
    SyncLog,
    SyncRun,
    XeroAccount,
    XeroConnection,
    utcnow,
)
from pxflask.panel.maintenance import reset_links
from tests.fixtures.webapp import csrf_token


def _fill(
    app, *, connected: bool = False, status: str = "done", job_id: str | None = "gone"
) -> None:
    """Links, a run with a log row, a cached account, a setting."""
    with app.app_context():
        run = SyncRun(scope="all", status=status, job_id=job_id, started_at=utcnow())
        db.session.add_all(
            [
                Link(entity="invoices", perfex_key="1", xero_id="x1", state="synced"),
                Link(entity="customers", perfex_key="2", xero_id="x2", state="failed"),
                run,
                XeroAccount(account_id="a1", code="200", name="Sales", type="REVENUE"),
                Setting(key="sales_account", value="200"),
            ]
        )
        db.session.flush()
        db.session.add(
            SyncLog(run_id=run.id, entity="invoices", action="create", outcome="ok")
        )
        if connected:
            db.session.add(
                XeroConnection(tenant_id="t1", tenant_name="Demo Company (UK)")
            )
        db.session.commit()


def _count(app, model) -> int:
    """Rows of a model."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _reset(admin, typed: str):
    """Post the reset form."""
    token = csrf_token(admin, "/reset/")
    return admin.post("/reset/", data={"csrf_token": token, "confirm": typed})


def test_not_connected_the_admin_types_reset(app, admin):
    """Without a connection RESET confirms; links, runs, log and chart go."""
    _fill(app)
    page = admin.get("/reset/").get_data(as_text=True)
    assert "type <strong>RESET</strong>" in page
    assert _reset(admin, "reset please").status_code == 400
    assert _count(app, Link) == 2
    response = _reset(admin, "RESET")
    assert response.status_code == 302
    for model in (Link, SyncRun, SyncLog, XeroAccount):
        assert _count(app, model) == 0
    assert _count(app, Setting) == 1


def test_connected_the_admin_types_the_organisation_name(app, admin):
    """Connected: only the organisation's name confirms."""
    _fill(app, connected=True)
    assert "Demo Company (UK)" in admin.get("/reset/").get_data(as_text=True)
    refused = _reset(admin, "RESET")
    assert refused.status_code == 400
    assert "Type &#39;Demo Company (UK)&#39; exactly" in refused.get_data(as_text=True)
    assert _reset(admin, " Demo Company (UK) ").status_code == 302
    assert _count(app, Link) == 0
    assert _count(app, XeroConnection) == 1


def test_reset_is_refused_while_a_sync_is_active(app, admin):
    """A running sync (here a foreground `pxflask sync`) blocks the reset."""
    _fill(app, status="running", job_id=None)
    response = _reset(admin, "RESET")
    assert response.status_code == 409
    assert "queued or running" in response.get_data(as_text=True)
    assert _count(app, Link) == 2


def test_a_run_whose_job_is_gone_does_not_block_the_reset(app, admin):
    """A run left 'running' by a stopped worker is closed, then the reset runs."""
    _fill(app, status="running", job_id="gone")
    assert _reset(admin, "RESET").status_code == 302
    assert _count(app, Link) == 0


def test_reset_cli_clears_links(app, runner):
    """`pxflask reset --yes` clears links and the chart and says how many."""
    _fill(app)
    result = runner.invoke(args=["reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 link(s)" in result.output and "1 cached account(s)" in result.output
    assert _count(app, Link) == 0


def test_reset_cli_asks_without_yes(app, runner):
    """Without --yes the command asks and a 'no' changes nothing."""
    _fill(app)
    result = runner.invoke(args=["reset"], input="n\n")
    assert result.exit_code == 1
    assert _count(app, Link) == 2


def test_reset_links_core_function_summary(app):
    """The core function returns what it removed."""
    _fill(app)
    with app.app_context():
        summary = reset_links(db.session)
    assert (summary.links, summary.runs, summary.log, summary.accounts) == (2, 1, 1, 1)
