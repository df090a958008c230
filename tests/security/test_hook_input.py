"""POST /hooks/perfex takes a known entity and a Perfex record id, nothing else."""

from __future__ import annotations

from sqlalchemy import func, select

from pxflask.extensions import db
from pxflask.models import SyncRun
from tests.security.conftest import HOOK_TOKEN

BAD_IDS = [
    "../../x",
    "12/../13",
    "1 OR 1=1",
    "",
    " ",
    "0",
    0,
    -3,
    "-3",
    "²",
    "١٢",
    1.5,
    "1.5",
    "1e3",
    2**31,
    str(2**31),
    "9" * 40,
    None,
    True,
    [1],
    {"id": 1},
]
BAD_ENTITIES = ["../../x", "invoices/../x", "widgets", "", None, 3, ["invoices"]]


def _hook(client, body):
    """POST a nudge with the right token."""
    return client.post(
        "/hooks/perfex", json=body, headers={"Authorization": f"Bearer {HOOK_TOKEN}"}
    )


def _runs(app) -> int:
    """How many sync runs exist."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SyncRun))


def test_an_id_that_is_not_a_record_id_is_a_400(app, client):
    """Paths, signs, fractions, other digits, huge numbers: 400, nothing queued."""
    for bad in BAD_IDS:
        response = _hook(client, {"entity": "invoices", "id": bad})
        assert response.status_code == 400, bad
        assert '"id" must be a Perfex record id' in response.get_json()["error"], bad
    assert _runs(app) == 0


def test_an_unknown_entity_is_a_400(app, client):
    """An entity that is not a known name: 400 naming the known ones."""
    for bad in BAD_ENTITIES:
        response = _hook(client, {"entity": bad, "id": 12})
        assert response.status_code == 400, bad
        error = response.get_json()["error"]
        assert error.startswith('"entity" must be one of: ') and "invoices" in error
    assert _runs(app) == 0


def test_record_ids_as_number_or_digits_are_taken(app, client):
    """A whole number, as JSON number or text of digits: 202, keyed by the number."""
    for good in (12, "13", " 14 ", 2**31 - 1):
        response = _hook(client, {"entity": "invoices", "id": good})
        assert response.status_code == 202, good
        with app.app_context():
            run = db.session.get(SyncRun, response.get_json()["run_id"])
            assert run.scope == f"invoices#invoices:{int(str(good).strip())}"
