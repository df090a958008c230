"""POST /hooks/perfex (bearer token) and POST /webhooks/xero (signed)."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from pxflask.blueprints.webhooks import signature_of
from pxflask.extensions import db
from pxflask.models import Link, SyncLog, SyncRun
from pxflask.queueing import DEFAULT_QUEUE, get_queue
from pxflask.sandbox.webhooks import payload as xero_payload
from pxflask.sandbox.webhooks import sign as sandbox_sign
from tests.fixtures.gate import EMBEDDED_WORKERS, workers_held
from tests.fixtures.webapp import make_test_app
from tests.web.conftest import HOOK_TOKEN, WEBHOOK_KEY


def _hook(client, body, token: str | None = HOOK_TOKEN):
    """POST a nudge to /hooks/perfex."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/hooks/perfex", json=body, headers=headers)


def test_hook_with_the_token_queues_a_targeted_sync(app, client):
    """A good token and body: 202 with the run id of a targeted sync."""
    response = _hook(client, {"entity": "invoices", "id": 12})
    assert response.status_code == 202
    body = response.get_json()
    with app.app_context():
        run = db.session.get(SyncRun, body["run_id"])
        assert run.scope == "invoices#invoices:12"
        assert run.trigger == "hook"
    assert "Set-Cookie" not in response.headers


def test_hook_refuses_a_bad_or_missing_token(app, client):
    """No token, an empty one or a wrong one: 401, nothing queued."""
    for token in (None, "", "wrong-token", HOOK_TOKEN + "x", HOOK_TOKEN[:-1]):
        response = _hook(client, {"entity": "invoices", "id": 1}, token)
        assert response.status_code == 401, token
    basic = client.post(
        "/hooks/perfex",
        json={"entity": "invoices", "id": 1},
        headers={"Authorization": f"Basic {HOOK_TOKEN}"},
    )
    assert basic.status_code == 401
    with app.app_context():
        assert db.session.scalar(select(SyncRun)) is None


def test_hook_is_refused_when_no_token_is_configured(tmp_path, perfex_copy_url):
    """PXFLASK_HOOK_TOKEN unset: the endpoint does not exist for callers."""
    bare = make_test_app(tmp_path, perfex_copy_url)
    response = bare.test_client().post(
        "/hooks/perfex",
        json={"entity": "invoices", "id": 1},
        headers={"Authorization": "Bearer anything"},
    )
    assert response.status_code == 404


def test_hook_checks_its_body(client):
    """Entity must be a known, enabled entity and id present."""
    for body, status in [
        ({"entity": "invoices"}, 400),
        ({"id": 3}, 400),
        ({"entity": "invoices", "id": True}, 400),
        ({"entity": "widgets", "id": 3}, 400),
        ({"entity": "expenses", "id": 3}, 422),
        ("not an object", 400),
    ]:
        assert _hook(client, body).status_code == status, body


def _xero(client, body: bytes, signature: str):
    """POST a webhook body to /webhooks/xero."""
    return client.post(
        "/webhooks/xero",
        data=body,
        headers={"x-xero-signature": signature, "Content-Type": "application/json"},
    )


def test_intent_to_receive_is_answered_200_or_401_with_empty_bodies(client):
    """Xero's check: correct signature 200, wrong 401; no body, no cookie."""
    body = xero_payload([])
    good = _xero(client, body, sandbox_sign(body, WEBHOOK_KEY))
    assert good.status_code == 200
    assert good.get_data() == b""
    assert "Set-Cookie" not in good.headers
    bad = _xero(client, body, sandbox_sign(body, WEBHOOK_KEY + "x"))
    assert bad.status_code == 401
    assert bad.get_data() == b""
    assert "Set-Cookie" not in bad.headers
    assert _xero(client, body, "").status_code == 401


def test_signature_covers_the_raw_body(client):
    """A body changed after signing is refused."""
    body = xero_payload([])
    signature = signature_of(body, WEBHOOK_KEY)
    assert signature == sandbox_sign(body, WEBHOOK_KEY)
    assert _xero(client, body + b" ", signature).status_code == 401


def test_webhooks_are_refused_without_a_key(tmp_path, perfex_copy_url):
    """XERO_WEBHOOK_KEY unset: every webhook is refused."""
    bare = make_test_app(tmp_path, perfex_copy_url)
    body = xero_payload([])
    response = bare.test_client().post(
        "/webhooks/xero",
        data=body,
        headers={"x-xero-signature": sandbox_sign(body, "")},
    )
    assert response.status_code == 404


def test_events_are_queued_answered_fast_and_recorded_by_the_job(app, client):
    """Signed events: 200 at once; the job records them against our links."""
    with app.app_context():
        db.session.add(
            Link(entity="invoices", perfex_key="7", xero_id="inv-7", state="synced")
        )
        db.session.commit()
    events = [
        {
            "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/inv-7",
            "resourceId": "inv-7",
            "eventDateUtc": "2026-11-25T10:00:00.000",
            "eventType": "UPDATE",
            "eventCategory": "INVOICE",
            "tenantId": "tenant-1",
            "tenantType": "ORGANISATION",
        }
    ]
    body = xero_payload(events, 1, 1)
    queue = get_queue(app)
    with workers_held(queue, DEFAULT_QUEUE, workers=EMBEDDED_WORKERS):
        response = _xero(client, body, sandbox_sign(body, WEBHOOK_KEY))
        assert response.status_code == 200 and response.get_data() == b""
        with app.app_context():
            recorded = select(SyncLog).where(SyncLog.action == "webhook")
            assert db.session.scalar(recorded) is None, "answered before the job ran"
    deadline = time.monotonic() + 15
    with app.app_context():
        while time.monotonic() < deadline:
            entry = db.session.scalar(
                select(SyncLog).where(SyncLog.action == "webhook")
            )
            if entry is not None:
                break
            db.session.rollback()
            time.sleep(0.05)
        assert entry is not None, "the webhook job did not record the event"
        assert entry.entity == "invoices" and entry.perfex_key == "7"
        assert entry.outcome == "received"
        assert json.loads(entry.payload)["resourceId"] == "inv-7"
    assert queue.mode == "embedded"
