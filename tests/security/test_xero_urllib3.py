"""xero-python's header paths work without urllib3's deprecated response methods.

xero-python 15.2.0's ``RESTResponse`` calls urllib3's ``HTTPResponse.getheaders()``
and ``getheader()``, which urllib3 2.6.0 removed (2.6.1 restored them, deprecated
since 2.0); ``pxflask.xero.compat`` gives the SDK both in terms of ``.headers``.
Each path is driven over real HTTP against the local sandbox with the urllib3 that
is installed (tests/security/test_dependencies.py keeps it past its advisories).
"""

from __future__ import annotations

import uuid

import pytest
from xero_python.accounting.models import Contact, Invoice, Invoices
from xero_python.exceptions import ApiException, RateLimitException

from pxflask.xero import QuotaExhausted
from tests.xero.helpers import connect, make_gateway, settings_for


@pytest.fixture
def gw(xero_sandbox, tmp_path):
    """A gateway connected to the sandbox through the authorization-code flow."""
    gateway = make_gateway(
        settings_for(xero_sandbox.config), f"sqlite:///{tmp_path / 'pxflask.db'}"
    )
    connect(gateway)
    return gateway


def test_every_gateway_call_reads_its_headers(gw) -> None:
    """A 2xx with _return_http_data_only=False returns headers; quotas are learned."""
    assert gw.get_organisation()
    assert gw.stats.minute_remaining is not None  # X-MinLimit-Remaining came back
    assert gw.stats.day_remaining is not None  # X-DayLimit-Remaining too


def test_api_exception_headers_and_text_on_a_400(xero_sandbox) -> None:
    """ApiException.headers and str(exc) on Xero's 400 carry the response headers."""
    api = xero_sandbox.accounting_api()
    unknown = Contact(contact_id=str(uuid.uuid4()))
    with pytest.raises(ApiException) as info:
        api.create_invoices(
            xero_sandbox.tenant_id,
            Invoices(invoices=[Invoice(type="ACCREC", contact=unknown)]),
        )
    exc = info.value
    assert exc.status == 400
    assert exc.headers["content-type"].startswith("application/json")
    assert "HTTP response headers:" in str(exc)


def test_getheader_on_a_real_response(xero_sandbox) -> None:
    """RESTResponse.getheader (file downloads use it) reads one header, or a default."""
    api = xero_sandbox.accounting_api()
    api.get_organisations(xero_sandbox.tenant_id)
    response = api.api_client.last_response
    assert response.getheader("Content-Type").startswith("application/json")
    assert response.getheader("X-Not-Sent", "none") == "none"


def test_rate_limit_problem_on_a_429(xero_sandbox, gw) -> None:
    """RateLimitException.rate_limit names the day limit; the gateway stops at once."""
    xero_sandbox.sandbox.limiter.exhaust_day(xero_sandbox.tenant_id)
    api = xero_sandbox.accounting_api()
    with pytest.raises(RateLimitException) as info:
        api.get_organisations(xero_sandbox.tenant_id)
    assert info.value.status == 429
    assert info.value.rate_limit == "day"
    assert "per day rate limit" in str(info.value)
    with pytest.raises(QuotaExhausted):
        gw.get_organisation()
