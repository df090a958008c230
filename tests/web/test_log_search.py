"""The sync log searched by document number and by customer name.

On a Perfex synced to the sandbox by the real sync (the reconciliation's world),
plus an invoice the sync skipped for Xero's lock date (no Xero number): searching
the log for an invoice number lists the invoice's entries and its payments'; a
customer's name lists that customer's entries and their invoices'.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from pxflask.models import Link, SyncLog
from tests.fixtures.webapp import AuthActions
from tests.reconcile.conftest import (  # noqa: F401  (fixtures)
    synced_world,
    world,
    world_app,
)
from tests.reconcile.staging import stage_reasons


@pytest.fixture
def panel(request):
    """The synced world and a signed-in client of its panel."""
    synced = request.getfixturevalue("world")
    client = request.getfixturevalue("world_app").test_client()
    assert AuthActions(client).login().status_code == 302
    return synced, client


def _found(client, text: str) -> set[tuple[str, str]]:
    """(entity, Perfex key) of every log row the search lists (one page of 50)."""
    page = client.get("/sync/log", query_string={"q": text})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    cells = re.findall(
        r'<td><a href="/sync/log/\d+">[^<]*</a></td>\s*<td>([^<]*)</td>\s*'
        r"<td>([^<]*)</td>",
        body,
    )
    return {(entity, key) for entity, key in cells}


def _entries(w, entity: str, keys: set[str]) -> set[tuple[str, str]]:
    """(entity, key) of the log entries the module DB holds for some keys."""
    with w.session() as session:
        rows = session.execute(
            sa.select(SyncLog.entity, SyncLog.perfex_key).where(
                SyncLog.entity == entity, SyncLog.perfex_key.in_(keys)
            )
        ).all()
    return {(e, k) for e, k in rows}


def _perfex(w, query: str, **params) -> list[tuple]:
    """Rows of a query on the world's Perfex database."""
    engine = sa.create_engine(w.perfex_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query), params).all())
    finally:
        engine.dispose()


def test_log_search_by_invoice_number(panel):
    """An invoice number finds the invoice's entries and its payments' entries."""
    synced, signed_in = panel
    (invoice_id,) = next(
        iter(
            _perfex(
                synced,
                "SELECT invoiceid FROM tblinvoicepaymentrecords GROUP BY invoiceid "
                "ORDER BY invoiceid",
            )
        )
    )
    with synced.session() as session:
        number = session.scalar(
            sa.select(Link.xero_number).where(
                Link.entity == "invoices", Link.perfex_key == str(invoice_id)
            )
        )
    payments = {
        str(r[0])
        for r in _perfex(
            synced,
            "SELECT id FROM tblinvoicepaymentrecords WHERE invoiceid = :i",
            i=invoice_id,
        )
    }
    want = _entries(synced, "invoices", {str(invoice_id)}) | _entries(
        synced, "payments", payments
    )
    assert ("invoices", str(invoice_id)) in want and len(want) >= 2
    found = _found(signed_in, number)
    assert want <= found
    assert {e for e, _ in found} <= {"invoices", "payments"}
    assert _found(signed_in, number.lower()) == found  # case does not matter


def test_log_search_finds_a_skipped_invoice_by_its_perfex_number(panel):
    """An invoice the sync skipped has no Xero number: its Perfex number finds it."""
    synced, signed_in = panel
    staged = stage_reasons(synced)
    found = _found(signed_in, staged.locked_number)
    assert ("invoices", str(staged.locked)) in found
    assert ("invoices", str(staged.unmapped)) not in found


def test_log_search_by_customer_name(panel):
    """A customer's name finds its own entry and its invoices' entries."""
    synced, signed_in = panel
    client_id, company = _perfex(
        synced,
        "SELECT userid, company FROM tblclients WHERE userid IN "
        "(SELECT clientid FROM tblinvoices WHERE status <> 6) ORDER BY userid",
    )[0]
    invoices = {
        str(r[0])
        for r in _perfex(
            synced, "SELECT id FROM tblinvoices WHERE clientid = :c", c=client_id
        )
    }
    want = _entries(synced, "customers", {str(client_id)}) | _entries(
        synced, "invoices", invoices
    )
    assert ("customers", str(client_id)) in want
    assert any(entity == "invoices" for entity, _ in want)
    part = company[2:12]  # a piece of the name is enough
    found = _found(signed_in, part)
    assert want <= found
    assert not [
        key for entity, key in found if entity == "invoices" and key not in invoices
    ]
