"""The gateway against the local Xero sandbox, SDK over real HTTP."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pxflask.models import XeroConnection
from pxflask.sandbox.regions import profile
from pxflask.xero import (
    Limits,
    NotConnected,
    QuotaExhausted,
    RetryPolicy,
    XeroAuthError,
    XeroUnavailable,
)
from tests.fixtures.databases import create_mariadb_database, drop_mariadb_database
from tests.fixtures.sandbox import TEST_REGION

from .helpers import (
    REDIRECT_URI,
    REDIS_URL,
    age_stored_token,
    approve,
    connect,
    make_gateway,
    race_worker,
    settings_for,
)

NO_TAX = profile(TEST_REGION).no_tax  # NONE; AU BASEXCLUDED


@pytest.fixture
def sb(xero_sandbox):
    """The sandbox object behind the fixture, fresh and in contract mode."""
    return xero_sandbox.sandbox


@pytest.fixture
def db_url(tmp_path) -> str:
    """A file-based SQLite module database."""
    return f"sqlite:///{tmp_path / 'pxflask.db'}"


@pytest.fixture
def settings(xero_sandbox):
    """Settings pointing at the sandbox."""
    return settings_for(xero_sandbox.config)


@pytest.fixture
def gw(settings, db_url):
    """A gateway connected through the authorization-code flow."""
    gateway = make_gateway(settings, db_url)
    connect(gateway)
    return gateway


def contacts(n: int, tag: str | None = None) -> list[tuple[str, dict]]:
    """n distinct contact payloads with refs."""
    tag = tag or uuid.uuid4().hex[:6]
    return [
        (f"c{i}", {"Name": f"Customer {tag} {i}", "ContactNumber": f"{tag}-{i}"})
        for i in range(n)
    ]


def no_violations(sb) -> None:
    """Contract mode saw nothing wrong."""
    assert sb.violations == []


def test_authorization_code_flow_and_status(settings, db_url, sb):
    """Build the URL, approve, exchange, read the tenant; status says connected."""
    gw = make_gateway(settings, db_url)
    assert gw.connection_status().connected is False
    request = gw.start_authorization(REDIRECT_URI)
    assert f"state={request.state}" in request.url
    code, state = approve(request.url)
    tenants = gw.complete_authorization(code, state, request.state)
    assert [t.tenant_id for t in tenants] == [sb.tenant_id]
    status = gw.connection_status()
    assert status.connected and status.tenant_id == sb.tenant_id
    assert "accounting.invoices" in status.scopes
    assert status.access_expires_at is not None and status.refresh_warning is None
    assert gw.get_organisation()["Name"]
    assert gw.connection_status().day_remaining is not None or gw.stats.total
    no_violations(sb)


def test_wrong_state_is_refused_before_any_token_request(settings, db_url, sb):
    """A callback whose state differs from the one issued is refused."""
    gw = make_gateway(settings, db_url)
    request = gw.start_authorization(REDIRECT_URI)
    code, _ = approve(request.url)
    with pytest.raises(XeroAuthError, match="state"):
        gw.complete_authorization(code, "forged", request.state)
    assert sb.counters.token_requests.get("authorization_code", 0) == 0
    assert gw.connection_status().connected is False


def test_pkce_and_several_tenants_need_a_choice(xero_sandbox, db_url, sb):
    """With two organisations approved the caller picks one."""
    sb.reset(second_tenant=True)
    gw = make_gateway(settings_for(xero_sandbox.config), db_url)
    request = gw.start_authorization(REDIRECT_URI, pkce=True)
    assert "code_challenge_method=S256" in request.url
    ids = list(sb.state.tenants)
    form = {"tenant_id": ids}
    code, state = approve(request.url, **form)
    tenants = gw.complete_authorization(
        code, state, request.state, code_verifier=request.code_verifier
    )
    assert len(tenants) == 2
    assert gw.connection_status().needs_tenant is True
    with pytest.raises(NotConnected):
        gw.get_organisation()
    gw.choose_tenant(ids[1])
    assert gw.connection_status().tenant_id == ids[1]
    assert gw.get_organisation()["Name"] == "Second Sandbox Ltd"


def test_client_credentials_flow(xero_sandbox, db_url, sb):
    """A Custom Connection connects with client_credentials and re-fetches."""
    settings = settings_for(xero_sandbox.config, XERO_GRANT="client_credentials")
    gw = make_gateway(settings, db_url)
    tenant = gw.connect_client_credentials()
    assert tenant.tenant_id == sb.tenant_id
    assert gw.get_organisation()
    age_stored_token(db_url, gw, -5)
    assert gw.get_organisation()
    assert sb.counters.token_requests["client_credentials"] == 2
    assert gw.connection_status().grant_type == "client_credentials"


def test_tokens_are_encrypted_at_rest(gw, db_url):
    """No column of the connection row holds the plaintext tokens."""
    token = gw.tokens.load().token
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(XeroConnection.__table__)).one()
    engine.dispose()
    dump = " ".join(str(value) for value in row)
    assert token["access_token"] not in dump
    assert token["refresh_token"] not in dump
    assert isinstance(token["scope"], list)


def test_changed_client_secret_needs_reconnecting_other_settings_do_not(
    settings, db_url, gw
):
    """Only a changed client id/secret sets the stored connection aside (kept)."""
    kept = make_gateway({**settings, "XERO_SCOPES": "offline_access"}, db_url)
    assert kept.connection_status().connected
    changed = make_gateway({**settings, "XERO_CLIENT_SECRET": "other"}, db_url)
    status = changed.connection_status()
    assert status.connected is False and status.needs_reconnect
    assert kept.connection_status().connected


def test_disconnect_revokes_and_forgets(gw, sb):
    """Disconnect revokes the token, deletes the connection and the row."""
    gw.disconnect()
    assert sb.counters.token_requests["revocation"] == 1
    assert sb.connections() == []
    assert gw.connection_status().connected is False


def test_401_refreshes_once_and_retries(gw, sb):
    """A token revoked server-side: one refresh, the call succeeds."""
    sb.expire_access_tokens()
    assert gw.get_organisation()
    assert sb.counters.token_requests["refresh_token"] == 1
    assert gw.stats.refreshes == 1


@pytest.fixture
def race_db_url(request, tmp_path):
    """The module DB of the race: a SQLite file, or a fresh MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    url = create_mariadb_database()
    yield url
    drop_mariadb_database(url)


@pytest.mark.parametrize(
    ("race_db_url", "use_redis"),
    [
        pytest.param("sqlite", False, id="sqlite-db-lease"),
        pytest.param(
            "mariadb", False, id="mariadb-db-lease", marks=pytest.mark.mariadb
        ),
        pytest.param("sqlite", True, id="sqlite-redis-lock"),
    ],
    indirect=["race_db_url"],
)
def test_refresh_race_single_flight(
    xero_sandbox, race_db_url, sb, use_redis, redis_client, redis_prefix
):
    """8 threads in 2 processes at token expiry: exactly one refresh."""
    db_url = race_db_url
    settings = settings_for(xero_sandbox.config)
    if use_redis:
        settings["REDIS_URL"] = REDIS_URL
    gw = make_gateway(settings, db_url)
    connect(gw)
    age_stored_token(db_url, gw, -1)
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=race_worker,
            args=(settings, db_url, 4, use_redis, redis_prefix, ready, go, results),
        )
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=60)
    go.set()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert [o for batch in outcomes for o in batch] == ["ok"] * 8
    assert sb.counters.token_requests["refresh_token"] == 1
    assert gw.tokens.load().version == 2


def test_per_element_errors_are_mapped_to_refs(gw, sb):
    """A duplicate name fails only its element; the others get their ids."""
    items = contacts(3)
    items.append(("dup", {"Name": items[0][1]["Name"]}))
    items.append(("bad", {"Name": "x", "NoSuchField": 1}))
    results = gw.write("contacts", items, run_key="run-errors")
    by_ref = {r.ref: r for r in results}
    assert [r.ref for r in results] == [ref for ref, _ in items]
    assert all(by_ref[f"c{i}"].ok and by_ref[f"c{i}"].xero_id for i in range(3))
    assert by_ref["c1"].number == items[1][1]["ContactNumber"]
    assert not by_ref["dup"].ok and by_ref["dup"].xero_id is None
    assert "unique" in by_ref["dup"].errors[0]
    assert not by_ref["bad"].ok and "NoSuchField" in by_ref["bad"].errors[0]
    no_violations(sb)


def test_batching_51_elements_make_2_calls(gw, sb):
    """51 contacts go in two PUT /Contacts calls with summarizeErrors=false."""
    results = gw.write("contacts", contacts(51), run_key="run-51")
    assert all(r.ok for r in results) and len(results) == 51
    assert sb.counters.calls_to("PUT", "/Contacts") == 2
    assert gw.stats.calls["create_contacts"] == 2
    no_violations(sb)


def test_commit_then_fail_retry_reuses_idempotency_key(gw, sb):
    """The batch is applied, the answer lost; the retry replays, no duplicate."""
    items = contacts(5)
    sb.faults.commit_then_fail(1, status=504)
    results = gw.write("contacts", items, run_key="run-idem")
    assert all(r.ok for r in results)
    assert sb.idempotency.replays == 1
    assert sb.counters.calls_to("PUT", "/Contacts") == 2
    names = {payload["Name"] for _, payload in items}
    found = [c for c in gw.read_all("contacts") if c["Name"] in names]
    assert len(found) == 5
    assert {r.xero_id for r in results} == {c["ContactID"] for c in found}


def test_503s_survived_then_capped(gw, sb):
    """A few 503s are retried; a storm beyond the cap raises XeroUnavailable."""
    sb.faults.fail_next(3, status=503)
    assert gw.get_organisation()
    assert gw.stats.retries == 3
    sb.faults.fail_next(10, status=503)
    started = time.monotonic()
    with pytest.raises(XeroUnavailable, match="503"):
        gw.get_organisation()
    assert time.monotonic() - started < 5


def test_429_storm_survived_honouring_retry_after(xero_sandbox, db_url, sb):
    """The sandbox allows 3 calls/s; 12 concurrent calls all succeed via 429s."""
    sb.reset(calls_per_window=3, window_s=1.0, contract_mode=True)
    gw = make_gateway(
        settings_for(xero_sandbox.config),
        db_url,
        limits=Limits(per_window=100, window_s=1.0),
        retry=RetryPolicy(max_attempts=8, max_total_wait_s=20, base_delay_s=0.05),
    )
    connect(gw)
    with ThreadPoolExecutor(4) as pool:
        orgs = list(pool.map(lambda _: gw.get_organisation(), range(12)))
    assert all(orgs)
    assert gw.stats.rate_limited >= 1
    assert sb.counters.statuses[429] == gw.stats.rate_limited


def test_learns_from_quota_headers(xero_sandbox, db_url, sb):
    """X-MinLimit-Remaining: 0 makes the limiter wait instead of causing a 429."""
    sb.reset(calls_per_window=3, window_s=1.0, contract_mode=True)
    gw = make_gateway(
        settings_for(xero_sandbox.config), db_url, limits=Limits(100, 1.0)
    )
    connect(gw)
    for _ in range(5):
        gw.get_organisation()
    assert gw.stats.rate_limited == 0
    assert gw.tokens.load().minute_remaining is not None


def test_local_limiter_keeps_inside_the_sandbox_window(xero_sandbox, db_url, sb):
    """With the limiter set like the sandbox no 429 happens."""
    sb.reset(calls_per_window=4, window_s=1.0, contract_mode=True)
    gw = make_gateway(settings_for(xero_sandbox.config), db_url, limits=Limits(4, 1.0))
    connect(gw)
    for _ in range(9):
        gw.get_organisation()
    assert gw.stats.rate_limited == 0
    assert 429 not in sb.counters.statuses


def test_day_limit_raises_quota_exhausted_fast(gw, sb):
    """429 with X-Rate-Limit-Problem: day → QuotaExhausted, then no more calls."""
    sb.limiter.exhaust_day(sb.tenant_id)
    started = time.monotonic()
    with pytest.raises(QuotaExhausted) as info:
        gw.get_organisation()
    calls = sb.counters.total_calls
    with pytest.raises(QuotaExhausted):
        gw.get_organisation()
    assert sb.counters.total_calls == calls
    assert time.monotonic() - started < 1
    assert info.value.resume_at > info.value.resume_at - timedelta(seconds=1)


def test_paged_reads_with_if_modified_since(gw, sb):
    """Pages of page_size; If-Modified-Since returns only later changes."""
    gw.write("contacts", contacts(5, "old"), run_key="r1")
    time.sleep(1.1)
    mark = sb.clock.now().replace(tzinfo=None)
    time.sleep(0.05)
    later = gw.write("contacts", contacts(5, "new"), run_key="r2")
    pages = list(gw.iter_pages("contacts", modified_since=mark, page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert {c["ContactID"] for p in pages for c in p} == {r.xero_id for r in later}
    ids = [r.xero_id for r in later[:3]]
    assert {c["ContactID"] for c in gw.read_all("contacts", ids=ids)} == set(ids)
    no_violations(sb)


def test_document_kinds_end_to_end(gw, sb):
    """Items, invoices (unitdp=4), payments, credit notes, bank transactions."""
    from datetime import date
    from decimal import Decimal

    tag = uuid.uuid4().hex[:6]
    [contact] = gw.write("contacts", [("k", {"Name": f"Buyer {tag}"})], run_key=tag)
    who = {"ContactID": contact.xero_id}
    [item] = gw.write(
        "items",
        [
            (
                "i",
                {
                    "Code": f"IT-{tag}",
                    "Name": "Widget",
                    "SalesDetails": {"UnitPrice": Decimal("1.2345")},
                },
            )
        ],
        run_key=tag,
        unitdp=4,
    )
    assert item.ok and item.number == f"IT-{tag}"
    line = {
        "Description": "Widget",
        "Quantity": Decimal("3"),
        "UnitAmount": Decimal("1.2345"),
        "AccountCode": "200",
        "TaxType": NO_TAX,
    }
    invoice_payload = {
        "Type": "ACCREC",
        "Contact": who,
        "Date": date(2026, 3, 2),
        "DueDate": "2026-04-01",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": [line],
    }
    [invoice, draft] = gw.write(
        "invoices",
        [("inv", invoice_payload), ("draft", {**invoice_payload, "Status": "DRAFT"})],
        run_key=tag,
        unitdp=4,
    )
    assert invoice.ok and invoice.status == "AUTHORISED" and invoice.number
    assert invoice.raw["LineItems"][0]["UnitAmount"] == Decimal("1.2345")
    [payment] = gw.write(
        "payments",
        [
            (
                "p",
                {
                    "Invoice": {"InvoiceID": invoice.xero_id},
                    "Account": {"Code": "090"},
                    "Date": "2026-03-05",
                    "Amount": Decimal("1.00"),
                },
            )
        ],
        run_key=tag,
    )
    assert payment.ok and payment.xero_id
    deleted = gw.delete_payment(payment.xero_id, run_key=tag, ref="p")
    assert deleted.ok and deleted.status == "DELETED"
    voided = gw.update_invoice_status(invoice.xero_id, "VOIDED", run_key=tag)
    assert voided.ok and voided.status == "VOIDED"
    gone = gw.update_invoice_status(draft.xero_id, "DELETED", run_key=tag)
    assert gone.ok and gone.status == "DELETED"
    [credit] = gw.write(
        "credit_notes",
        [
            (
                "cn",
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": who,
                    "Date": "2026-03-06",
                    "LineItems": [line],
                },
            )
        ],
        run_key=tag,
    )
    assert credit.ok and credit.xero_id
    [bank] = gw.write(
        "bank_transactions",
        [
            (
                "bt",
                {
                    "Type": "RECEIVE",
                    "Contact": who,
                    "Date": "2026-03-07",
                    "BankAccount": {"Code": "090"},
                    "LineItems": [line],
                },
            )
        ],
        run_key=tag,
    )
    assert bank.ok and bank.xero_id
    account = gw.create_account(
        {"Code": tag[:6].upper(), "Name": f"Fees {tag}", "Type": "EXPENSE"},
        run_key=tag,
    )
    assert account.ok and account.xero_id
    rate = gw.create_tax_rate(
        {
            "Name": f"Combined {tag}",
            "TaxComponents": [
                {"Name": "A", "Rate": Decimal("5"), "IsCompound": False},
                {"Name": "B", "Rate": Decimal("2.5"), "IsCompound": False},
            ],
            **_report_tax_type(sb),
        },
        run_key=tag,
    )
    assert rate.ok and rate.number
    assert any(a["Code"] == tag[:6].upper() for a in gw.read_all("accounts"))
    assert gw.read_all("invoices", ids=[invoice.xero_id])[0]["Status"] == "VOIDED"
    no_violations(sb)


def _report_tax_type(sb) -> dict[str, str]:
    """ReportTaxType for a new sales rate where the organisation needs one."""
    region = profile(sb.state.tenant().region)
    return {"ReportTaxType": "OUTPUT"} if region.requires_report_tax_type else {}


def test_timeouts_are_retried_then_capped(settings, db_url, sb):
    """Read timeouts count as retryable; beyond the cap → XeroUnavailable."""
    gw = make_gateway(
        settings,
        db_url,
        retry=RetryPolicy(max_attempts=2, max_total_wait_s=1, base_delay_s=0.01),
    )
    connect(gw)
    gw._timeout = (2.0, 0.2)
    sb.faults.set_latency(0.5)
    with pytest.raises(XeroUnavailable, match="did not answer"):
        gw.get_organisation()
    sb.faults.set_latency(0)
    assert gw.stats.retries == 1
    assert gw.get_organisation()


def test_refresh_token_age_warning(gw, db_url):
    """Ten days before the 60-day refresh token lapses the status warns."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        issued = conn.execute(sa.select(XeroConnection.refresh_issued_at)).scalar_one()
        conn.execute(
            sa.update(XeroConnection).values(
                refresh_issued_at=issued - timedelta(days=55)
            )
        )
    engine.dispose()
    status = gw.connection_status()
    assert status.connected and "lapses in 4 day" in status.refresh_warning


def test_expired_refresh_token_asks_to_reconnect(gw, db_url, sb):
    """invalid_grant on refresh → XeroAuthError; the lease is given back."""
    sb.advance_time(61 * 86400)
    age_stored_token(db_url, gw, -1)
    with pytest.raises(XeroAuthError, match="reconnect"):
        gw.get_organisation()
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        owner = conn.execute(sa.select(XeroConnection.refresh_owner)).scalar_one()
    engine.dispose()
    assert owner is None


def test_legacy_scopes_and_unconfigured_status(settings, db_url):
    """Legacy scopes on request; no client id/secret → a clear status."""
    gw = make_gateway(settings, db_url)
    url = gw.start_authorization(REDIRECT_URI, legacy_scopes=True).url
    assert "accounting.transactions" in url and "accounting.invoices" not in url
    bare = make_gateway({**settings, "XERO_CLIENT_ID": None}, db_url)
    assert "XERO_CLIENT_ID" in bare.connection_status().message
    with pytest.raises(NotConnected, match="not configured"):
        bare.get_organisation()


def test_ids_are_chunked_by_50_and_summary_only(gw, sb):
    """120 ids make 3 GET /Contacts calls; summaryOnly is passed through."""
    results = gw.write("contacts", contacts(120), run_key="ids")
    ids = [r.xero_id for r in results]
    before = sb.counters.calls_to("GET", "/Contacts")
    found = gw.read_all("contacts", ids=ids, summary_only=True)
    assert sorted(c["ContactID"] for c in found) == sorted(ids)
    assert sb.counters.calls_to("GET", "/Contacts") - before == 3
    no_violations(sb)


@pytest.mark.parametrize("concurrency", [1, 5])
def test_quota_exhausted_mid_write_keeps_partial_results(gw, sb, concurrency):
    """Day budget gone after 2 calls: the 100 written results are not lost."""
    sb.limiter.day_limit = 2
    with pytest.raises(QuotaExhausted) as info:
        gw.write("contacts", contacts(150), run_key="quota", concurrency=concurrency)
    partial = info.value.partial_results
    assert len(partial) == 100 and all(r.ok for r in partial)
    assert sb.counters.calls_to("PUT", "/Contacts") in (2, 3)  # 2: learned day=0


def test_refresh_survives_a_503_from_the_identity_service(gw, sb):
    """The token endpoint failing once is retried inside the single refresh."""
    sb.expire_access_tokens()
    sb.faults.fail_next(1, status=503, scope="identity")
    assert gw.get_organisation()
    assert sb.counters.token_requests["refresh_token"] == 2
    assert gw.tokens.load().version == 2
