"""The engine is the only writer of a run's row; a job only hands it a callback."""

from __future__ import annotations

import re
from pathlib import Path

from pxflask.models import SyncLog, SyncRun
from pxflask.sync import runs

PACKAGE = Path(__file__).resolve().parents[2] / "pxflask"
ROW_FIELDS = (
    "status|error|finished_at|started_at|total|done|current_entity|ok_count"
    "|failed_count|skipped_count|api_calls|job_id"
)
WRITE = re.compile(rf"\brun\.(?:{ROW_FIELDS})\b[^=\n]*=(?!=)|\bSyncRun\(")


def test_only_the_sync_layers_run_module_writes_a_run_row():
    """No module but pxflask/sync/runs.py creates a SyncRun or sets its fields."""
    writers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "models.py" and WRITE.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["sync/runs.py"]


def test_the_engine_writes_progress_counts_and_outcome_itself(env):
    """With a run id and a progress callback, the row ends complete from the engine."""
    with env.sessions() as session:
        run_id = runs.open_run(session, scope="customers,items", trigger="manual").id
    heard: list[tuple[str, int, int]] = []
    result = env.sync(
        entities=["customers", "items"],
        run_id=run_id,
        progress=lambda entity, done, total: heard.append((entity, done, total)),
    )
    with env.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run.status == "done" and run.finished_at is not None
        assert run.current_entity is None
        last = {entity: total for entity, _, total in heard}
        assert run.total == sum(last.values()) > 0
        assert run.ok_count == sum(r.writes + r.pulled for r in result.reports) > 0
        assert run.api_calls > 0
    assert {entity for entity, _, _ in heard} == {"customers", "items"}


def test_a_dry_run_job_row_gets_its_planned_counts_from_the_engine(env):
    """A dry run with a run id: the engine closes the row with the planned counts."""
    with env.sessions() as session:
        run = runs.open_run(session, scope="customers", trigger="manual", dry_run=True)
        run_id = run.id
    result = env.sync(entities=["customers"], run_id=run_id, dry_run=True)
    assert result.run_id is None  # a dry run writes no log rows under the run
    with env.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run.status == "done"
        assert run.ok_count == result.report("customers").created > 0
        assert env.link("customers", 1) is None


def test_a_failure_is_recorded_once_with_a_one_line_cause(env):
    """runs.fail writes the cause and one log row; a second call changes nothing."""
    with env.sessions() as session:
        run_id = runs.open_run(session, scope="items", trigger="manual").id
        cause = runs.fail(session, run_id, ConnectionError("Perfex went away"))
        again = runs.fail(session, run_id, RuntimeError("later"))
        run = session.get(SyncRun, run_id)
        assert (run.status, run.error) == ("failed", cause)
        assert cause.startswith("ConnectionError:") and again == cause
        rows = session.query(SyncLog).filter(SyncLog.run_id == run_id).all()
        assert [(r.action, r.outcome) for r in rows] == [("run", "failed")]
