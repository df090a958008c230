"""Helpers shared by the sandbox tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3

HTTP = urllib3.PoolManager(retries=False)


def raw_call(
    sandbox: Any,
    method: str,
    path: str,
    body: Any = None,
    token: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> urllib3.BaseHTTPResponse:
    """Call the accounting API without the SDK."""
    token = token or sandbox.issue_token()
    all_headers = {
        "Authorization": "Bearer " + token["access_token"],
        "xero-tenant-id": sandbox.tenant_id,
        "Accept": "application/json",
    }
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    return HTTP.request(method, sandbox.api_url + path, body=data, headers=all_headers)


@pytest.fixture
def api(xero_sandbox):
    """An AccountingApi on the sandbox."""
    return xero_sandbox.accounting_api()


@pytest.fixture
def tenant(xero_sandbox) -> str:
    """The demo tenant id."""
    return xero_sandbox.tenant_id
