"""Payments from Xero through the module's API (Perfex's model), else directly."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from pxflask.perfex import module_api
from pxflask.perfex.db import PerfexDB
from pxflask.perfex.module_api import ModuleUnavailable, PerfexModule
from pxflask.perfex.writes import PaymentRefused
from pxflask.web.runtime import perfex_db
from tests.fixtures.webapp import make_test_app
from tests.perfex_module.php import free_port, php_server

TOKEN = "api-token-0123456789"  # noqa: S105 - a test token
DAY = date(2026, 12, 1)


def _state(tmp_path: Path, invoices: list[int]) -> Path:
    """The stand-ins' Perfex state: the module's token and some invoices."""
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "tbloptions": [
                    {"id": 1, "name": "pxflask_bearer_token", "value": TOKEN}
                ],
                "tblinvoices": [{"id": number} for number in invoices],
                "tblinvoicepaymentrecords": [],
            }
        )
    )
    return state


def _payments(state: Path) -> list[dict]:
    """The payment rows Perfex's (stand-in) model recorded."""
    return json.loads(state.read_text())["tblinvoicepaymentrecords"]


def test_a_payment_goes_through_perfex_s_model_once(tmp_path):
    """Recorded through the module: the row, Perfex's date format round trip, once."""
    state = _state(tmp_path, [3])
    with php_server(state) as url:
        module = PerfexModule(url, TOKEN)
        first = module.record_payment(
            3, Decimal("12.5"), DAY, 2, transaction_id="xero-pay-1", note="from Xero"
        )
        again = module.record_payment(
            3, Decimal("12.5"), DAY, 2, transaction_id="xero-pay-1"
        )
        with pytest.raises(PaymentRefused):
            module.record_payment(4, Decimal(1), DAY, None, transaction_id="xero-pay-2")
        with pytest.raises(ModuleUnavailable, match="HTTP 401"):
            PerfexModule(url, "wrong").record_payment(
                3, Decimal(1), DAY, None, transaction_id="xero-pay-3"
            )
    assert first == (1, True)
    assert again == (1, False)
    rows = _payments(state)
    assert len(rows) == 1
    assert rows[0]["amount"] == "12.50"
    assert rows[0]["date"] == "2026-12-01"
    assert rows[0]["paymentmode"] == "2"
    assert rows[0]["transactionid"] == "xero-pay-1"


def _open_invoice(perfex: PerfexDB) -> int:
    """An unpaid sent invoice of the seeded Perfex database."""
    inv, pay = perfex.tables.invoices, perfex.tables.invoicepaymentrecords
    paid = sa.select(pay.c.invoiceid)
    with perfex.engine.connect() as conn:
        return conn.execute(
            sa.select(inv.c.id)
            .where(inv.c.status == 1, inv.c.id.not_in(paid))
            .order_by(inv.c.id)
            .limit(1)
        ).scalar_one()


def _direct_rows(perfex: PerfexDB, transaction: str) -> int:
    """How many payment rows carry this transaction id in the Perfex database."""
    pay = perfex.tables.invoicepaymentrecords
    with perfex.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).where(pay.c.transactionid == transaction)
        ).scalar_one()


def test_the_direct_write_is_the_fallback(tmp_path, perfex_copy_url):
    """With the module: no direct row; without it or while it is down: a direct one."""
    perfex = PerfexDB.connect(perfex_copy_url)
    invoice = _open_invoice(perfex)
    state = _state(tmp_path, [invoice])
    with php_server(state) as url:
        perfex.module = PerfexModule(url, TOKEN)
        module_api.record_payment(
            perfex, invoice, Decimal(1), DAY, None, transaction_id="via-module"
        )
    assert _direct_rows(perfex, "via-module") == 0
    assert [row["transactionid"] for row in _payments(state)] == ["via-module"]
    perfex.module = PerfexModule(f"http://127.0.0.1:{free_port()}", TOKEN, 2.0)
    module_api.record_payment(
        perfex, invoice, Decimal(1), DAY, None, transaction_id="module-down"
    )
    perfex.module = None
    _, created = module_api.record_payment(
        perfex, invoice, Decimal(1), DAY, None, transaction_id="no-module"
    )
    assert created
    assert _direct_rows(perfex, "module-down") == 1
    assert _direct_rows(perfex, "no-module") == 1
    perfex.engine.dispose()


def test_the_app_s_perfex_database_carries_the_module(tmp_path, perfex_copy_url):
    """PERFEX_MODULE_URL and PXFLASK_HOOK_TOKEN set: the sync writes through it."""
    url = "https://crm.test/pxflask/pxflask_api"
    app = make_test_app(
        tmp_path, perfex_copy_url, PERFEX_MODULE_URL=url, PXFLASK_HOOK_TOKEN=TOKEN
    )
    assert perfex_db(app).module == PerfexModule(url, TOKEN)
    (tmp_path / "bare").mkdir()
    bare = make_test_app(tmp_path / "bare", perfex_copy_url)
    assert perfex_db(bare).module is None


def test_module_settings():
    """The module is used when both its URL and the token are set."""
    assert module_api.module_from_settings(None, TOKEN) is None
    assert module_api.module_from_settings("https://crm.test/x", "") is None
    assert module_api.module_from_settings("https://crm.test/x", TOKEN) is not None
    with pytest.raises(ValueError, match="PERFEX_MODULE_URL"):
        module_api.module_from_settings("file:///etc/passwd", TOKEN)
