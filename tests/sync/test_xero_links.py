"""Links back to Xero: online invoice URLs read once, deep links, opt-in e-mails."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from pxflask.models import SyncLog, XeroDocumentLink
from pxflask.sync.deep_links import deep_link, entity_links
from pxflask.sync.entities.invoices import EMAIL_SETTING
from pxflask.sync.entities.invoices.online import DAY_RESERVE
from pxflask.sync.entities.invoices.online_urls import (
    OnlineReport,
    fetch_online_urls,
    pending,
)
from pxflask.sync.organisation import cached_short_code
from pxflask.sync.settings import InvalidSetting, defaults, validate
from pxflask.sync.xero_documents import (
    QUEUED,
    READ,
    SENDING,
    SENT,
    UNKNOWN,
    WANTED,
    safe_xero_url,
)
from pxflask.xero import Limits, XeroGateway
from tests.xero.helpers import FAST_RETRY, settings_for

from .conftest import Env, delta

ONLINE = "GET /Invoices/{InvoiceID}/OnlineInvoice"
EMAIL = "POST /Invoices/{InvoiceID}/Email"
INVOICE = "3f2b1c4d-0000-4000-8000-00000000abcd"


def documents(env: Env) -> dict[str, XeroDocumentLink]:
    """The pxf_xero_documents rows of invoices by Xero id."""
    with env.sessions() as session:
        rows = session.scalars(
            sa.select(XeroDocumentLink).where(XeroDocumentLink.entity == "invoices")
        )
        return {row.xero_id: row for row in rows}


def approved(env: Env) -> dict[str, dict]:
    """The sandbox's approved sales invoices that pxflask linked, by Xero id."""
    linked = {link.xero_id for link in env.links("invoices").values()}
    return {
        i["InvoiceID"]: i
        for i in env.xero("Invoices")
        if i["InvoiceID"] in linked and i["Status"] in ("AUTHORISED", "PAID")
    }


def sent(env: Env) -> list[dict]:
    """The invoices the sandbox e-mailed, oldest first."""
    return list(env.sandbox.state.tenants[env.sandbox.tenant_id].emails)


def email_logs(env: Env) -> list[SyncLog]:
    """The log rows of e-mails."""
    with env.sessions() as session:
        return list(
            session.scalars(sa.select(SyncLog).where(SyncLog.action == "email"))
        )


def fetch(env: Env, gateway: XeroGateway | None = None, **kw) -> OnlineReport:
    """Run the online-links job's work once (its own per-minute share, 10, is
    tested with the job in tests/jobs/test_online_links.py)."""
    kw.setdefault("limit", 100)
    with env.sessions() as session:
        return fetch_online_urls(session, gateway or env.gateway, **kw)


def test_the_sync_only_marks_urls_wanted_and_the_job_reads_them_once(env):
    """No URL call in the sync; the job reads each approved one once, never again."""
    assert env.sync().ok
    expected = approved(env)
    assert expected and ONLINE not in env.calls()
    assert {documents(env)[x].online_state for x in expected} == {WANTED}
    with env.sessions() as session:
        assert pending(session)
    report = fetch(env)
    assert report.read == len(expected) and report.stopped is None
    assert env.calls()[ONLINE] == len(expected)
    rows = documents(env)
    for xero_id in expected:
        url = rows[xero_id].online_url
        assert url and url.startswith("https://in.xero.com/"), xero_id
        assert rows[xero_id].online_state == READ
        assert isinstance(rows[xero_id].online_checked_at, datetime)
    with env.sessions() as session:
        assert not pending(session)
    before = env.calls()
    assert env.sync(full=True).ok
    assert fetch(env).read == 0
    assert ONLINE not in delta(before, env.calls())


def test_the_job_is_capped_and_goes_on_next_time(env):
    """At most `limit` URLs a job; the next job reads the rest."""
    assert env.sync().ok
    total = len(approved(env))
    assert total > 3
    assert fetch(env, limit=3).read == 3
    assert env.calls()[ONLINE] == 3
    assert fetch(env).read == total - 3
    assert env.calls()[ONLINE] == total


def test_invoices_linked_before_the_feature_are_looked_up_in_bulk(env):
    """No row at all: statuses read 50 a call (summary), then the URLs."""
    assert env.sync().ok
    with env.sessions() as session:
        session.execute(sa.delete(XeroDocumentLink))
        session.commit()
    before = env.calls()
    report = fetch(env)
    made = delta(before, env.calls())
    assert made.get("GET /Invoices") == 1, made
    assert report.looked_up == len(env.links("invoices"))
    assert made[ONLINE] == report.read == len(approved(env))


def test_the_job_keeps_half_the_day_budget_for_syncing(env):
    """Below half of the day budget left, the job reads nothing and says why."""
    assert env.sync().ok
    settings = settings_for(env.sandbox.config, XERO_GRANT="client_credentials")
    tight = XeroGateway(
        settings, env.sessions, None, retry=FAST_RETRY, limits=Limits(day_budget=60)
    )
    for _ in range(31):
        tight.get_organisation()
    report = fetch(env, tight)
    assert report.read == 0 and "kept for syncing" in (report.stopped or "")
    assert ONLINE not in env.calls()


def test_the_organisation_short_code_is_kept_for_deep_links(env):
    """The run keeps the ShortCode; the panel builds deep links without a call."""
    assert env.sync().ok
    fetch(env)
    with env.sessions() as session:
        short = cached_short_code(session)
        xero_id = next(iter(approved(env)))
        found = entity_links(session, "invoices", [xero_id], short)[xero_id]
    org = env.sandbox.state.tenants[env.sandbox.tenant_id].organisation
    assert short == org["ShortCode"]
    assert found.deep_link == (
        "https://go.xero.com/organisationlogin/default.aspx?shortcode="
        f"{short}&redirecturl=/AccountsReceivable/View.aspx?InvoiceID={xero_id}"
    )
    assert found.online_url and found.online_url.startswith("https://in.xero.com/")


@pytest.mark.parametrize(
    ("entity", "path"),
    [
        ("invoices", "/AccountsReceivable/View.aspx?InvoiceID="),
        ("credit-notes", "/AccountsPayable/ViewCreditNote.aspx?creditNoteID="),
        ("customers", "/Contacts/View/"),
        ("payments", "/Bank/ViewTransaction.aspx?bankTransactionID="),
        ("expenses", "/Bank/ViewTransaction.aspx?bankTransactionID="),
    ],
)
def test_deep_link_formats(entity, path):
    """Xero's organisationlogin form with the redirect path of each record kind."""
    assert deep_link(entity, "!AbC12", INVOICE) == (
        "https://go.xero.com/organisationlogin/default.aspx?shortcode=!AbC12"
        f"&redirecturl={path}{INVOICE}"
    )


def test_deep_links_need_a_short_code_a_guid_and_a_known_kind():
    """No link from a missing or odd ShortCode, a non-id, or an unknown entity."""
    assert deep_link("estimates", "!AbC12", INVOICE) == (
        f"https://go.xero.com/app/!AbC12/quotes/view/{INVOICE}"
    )
    assert deep_link("invoices", None, INVOICE) is None
    assert deep_link("invoices", "!a&b=c", INVOICE) is None
    assert deep_link("invoices", "!AbC12", "1 OR 1=1") is None
    assert deep_link("items", "!AbC12", INVOICE) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://in.xero.com/abc",
        "https://in.xero.com.evil.example/abc",
        "https://evil.example/?go.xero.com",
        "javascript:alert(1)",
        "https://user@in.xero.com/abc",
        "https://in.xero.com:8443/abc",
        "",
        None,
    ],
)
def test_only_https_urls_on_xeros_hosts_are_links(url):
    """Anything but https on go.xero.com / in.xero.com is not shown as a link."""
    assert safe_xero_url(url) is None


def test_e_mails_are_off_by_default(env):
    """The setting defaults to no: a sync asks Xero to e-mail nothing."""
    assert defaults()[EMAIL_SETTING] == "no"
    assert validate(EMAIL_SETTING, "on") == "yes"
    with pytest.raises(InvalidSetting):
        validate(EMAIL_SETTING, "sometimes")
    assert env.sync().ok
    assert sent(env) == [] and EMAIL not in env.calls()


def test_each_approved_invoice_is_emailed_once(env):
    """Opted in: one e-mail per invoice pxflask approved; reruns send none."""
    env.settings[EMAIL_SETTING] = "yes"
    assert env.sync().ok
    mails = sent(env)
    expected = {
        x for x, i in approved(env).items() if i["Status"] in ("AUTHORISED", "PAID")
    }
    assert mails and {m["InvoiceID"] for m in mails} <= expected
    assert len(mails) == len({m["InvoiceID"] for m in mails})
    assert all(m["To"] for m in mails)
    rows = documents(env)
    assert all(rows[m["InvoiceID"]].email_state == SENT for m in mails)
    assert all(rows[m["InvoiceID"]].emailed_at for m in mails)
    assert env.calls()[EMAIL] == len(mails)
    assert env.sync(full=True).ok
    assert sent(env) == mails
    assert {log.outcome for log in email_logs(env)} == {"ok"}


def test_a_refusal_is_a_clear_message_and_never_retried(env):
    """A contact without an e-mail address: Xero refuses, the log says why."""
    assert env.sync(entities=["customers"]).ok
    for contact in (
        env.sandbox.state.tenants[env.sandbox.tenant_id].table("Contacts").values()
    ):
        contact.pop("EmailAddress", None)
    env.settings[EMAIL_SETTING] = "yes"
    assert env.sync().ok
    assert sent(env) == []
    logs = email_logs(env)
    assert logs and all(log.outcome == "skipped" for log in logs)
    assert all("does not have an email address" in log.message for log in logs)
    refused = [r for r in documents(env).values() if r.email_state == "refused"]
    assert len(refused) == len(logs)
    before = env.calls()
    assert env.sync().ok
    assert EMAIL not in delta(before, env.calls())


def set_email_state(env: Env, xero_ids: list[str], state: str) -> None:
    """Give the rows of some invoices an e-mail state (as a run would leave it)."""
    with env.sessions() as session:
        session.execute(
            sa.update(XeroDocumentLink)
            .where(XeroDocumentLink.xero_id.in_(xero_ids))
            .values(email_state=state)
        )
        session.commit()


def test_a_crash_during_the_call_is_never_resent(env):
    """A row left 'sending' becomes 'unknown' with a message; no second e-mail."""
    assert env.sync().ok
    xero_id = next(iter(approved(env)))
    set_email_state(env, [xero_id], SENDING)
    env.settings[EMAIL_SETTING] = "yes"
    assert env.sync().ok
    assert sent(env) == []
    row = documents(env)[xero_id]
    assert row.email_state == UNKNOWN and "not sent again" in row.email_message


def test_a_dry_run_sends_nothing_and_reads_no_url(env):
    """Dry runs with e-mails on: no URL read, no e-mail, queued ones only planned."""
    env.settings[EMAIL_SETTING] = "yes"
    assert env.sync(dry_run=True).ok
    assert ONLINE not in env.calls() and EMAIL not in env.calls()
    assert sent(env) == [] and documents(env) == {}
    env.settings[EMAIL_SETTING] = "no"
    assert env.sync().ok
    queued = list(approved(env))[:2]
    set_email_state(env, queued, QUEUED)
    env.settings[EMAIL_SETTING] = "yes"
    result = env.sync(dry_run=True)
    assert result.ok and sent(env) == [] and EMAIL not in env.calls()
    planned = {a.key for a in result.planned if a.action == "email"}
    keys = {link.xero_id: key for key, link in env.links("invoices").items()}
    assert planned == {keys[x] for x in queued}
    assert {documents(env)[x].email_state for x in queued} == {QUEUED}


def test_e_mails_wait_when_the_day_budget_would_run_out(env):
    """Few calls left: the queued e-mails wait (and the log says so); later sent."""
    assert env.sync().ok
    xero_ids = list(approved(env))[:2]
    set_email_state(env, xero_ids, QUEUED)
    env.settings[EMAIL_SETTING] = "yes"
    settings = settings_for(env.sandbox.config, XERO_GRANT="client_credentials")
    tight = XeroGateway(
        settings,
        env.sessions,
        None,
        retry=FAST_RETRY,
        limits=Limits(day_budget=DAY_RESERVE - 1),
    )
    assert tight.day_calls_left() == DAY_RESERVE - 1
    assert env.sync(gateway=tight).ok
    assert sent(env) == []
    stop = [log for log in email_logs(env) if log.perfex_key is None]
    assert stop and "2 invoice e-mail(s) not sent" in stop[-1].message
    assert "day budget" in stop[-1].message
    assert env.sync().ok
    assert sorted(m["InvoiceID"] for m in sent(env)) == sorted(xero_ids)


def test_the_email_state_is_committed_before_the_call(env, monkeypatch):
    """While Xero is asked, the row already says 'sending' (a crash is safe)."""
    seen: list[str | None] = []
    original = env.gateway.email_invoice

    def spy(invoice_id: str) -> None:
        with env.sessions() as session:
            seen.append(
                session.scalar(
                    sa.select(XeroDocumentLink.email_state).where(
                        XeroDocumentLink.xero_id == invoice_id
                    )
                )
            )
        original(invoice_id)

    monkeypatch.setattr(env.gateway, "email_invoice", spy)
    env.settings[EMAIL_SETTING] = "yes"
    assert env.sync().ok
    assert seen and set(seen) == {SENDING}


def test_editing_an_approved_invoice_after_opting_in_sends_nothing(env):
    """Only an approval made by pxflask counts, not an update of an approved one."""
    from datetime import date

    assert env.sync().ok
    xero = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    key, link = next(
        (k, v)
        for k, v in env.links("invoices").items()
        if xero.get(v.xero_id, {}).get("Status") == "AUTHORISED"
        and not xero[v.xero_id].get("AmountPaid")
    )
    invoices = env.perfex.tables.invoices
    env.execute(
        invoices.update()
        .where(invoices.c.id == int(key))
        .values(duedate=date(2026, 12, 31))
    )
    env.settings[EMAIL_SETTING] = "yes"
    result = env.sync()
    assert result.ok and result.report("invoices").updated >= 1
    assert env.link("invoices", key).payload_hash != link.payload_hash
    assert sent(env) == [] and EMAIL not in env.calls()
