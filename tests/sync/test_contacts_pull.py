"""Contacts changed in Xero update the linked Perfex customers (contacts_from_xero)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pxflask.extensions import db
from pxflask.jobs import xero_webhook_job
from pxflask.models import Link, SyncLog, SyncRun
from pxflask.panel.dashboard_queries import entity_stats
from pxflask.perfex import reads
from pxflask.perfex.seed import seed_demo
from pxflask.sync import preview
from pxflask.sync.entities.customers.pull_rules import (
    ARCHIVED,
    BASES,
    CONFLICT,
    CURSOR,
    FIELDS,
    PERFEX,
    SAME,
    XERO,
    fingerprint,
    verdict,
)
from pxflask.sync.inbound import handle_webhook
from pxflask.sync.links import read_cursor
from pxflask.sync.settings import defaults, set_setting
from pxflask.web.runtime import xero_gateway

from .conftest import UrlEnv, delta


class World(UrlEnv):
    """Env on a freshly seeded Perfex (SQLite or MariaDB), customers only."""

    def __init__(self, tmp_path: Path, perfex_url: str, sandbox: Any) -> None:
        """Seed Perfex at perfex_url, then set up as UrlEnv does."""
        seed_demo(perfex_url, customers=3, invoices=2, seed=5)
        super().__init__(tmp_path, perfex_url, sandbox)

    def push(self, **kw: Any) -> Any:
        """One customers run."""
        return self.sync(entities=["customers"], **kw)

    def contact_of(self, customer_id: int) -> dict[str, Any]:
        """The Xero contact linked to a customer, as Xero has it."""
        link = self.link("customers", customer_id)
        assert link is not None and link.xero_id
        found = [c for c in self.xero("Contacts") if c["ContactID"] == link.xero_id]
        return found[0]

    def edit_xero(self, customer_id: int, **changes: Any) -> dict[str, Any]:
        """A Xero user's edit of the customer's contact."""
        contact_id = self.contact_of(customer_id)["ContactID"]
        return self.sandbox.inject.update("Contacts", contact_id, changes)

    def edit_perfex(self, customer_id: int, **columns: Any) -> None:
        """A Perfex user's edit of tblclients."""
        c = self.perfex.tables.clients
        self.execute(c.update().where(c.c.userid == customer_id).values(**columns))

    def edit_person(self, customer_id: int, **columns: Any) -> None:
        """A Perfex user's edit of the primary contact."""
        c = self.perfex.tables.contacts
        self.execute(
            c.update()
            .where(c.c.userid == customer_id, c.c.is_primary == 1)
            .values(**columns)
        )

    def customer(self, customer_id: int) -> Any:
        """The Perfex customer as pxflask reads it."""
        return reads.read_customers(self.perfex, ids=[customer_id])[0]

    def pull_logs(self) -> list[SyncLog]:
        """The customers log rows of the pull."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    sa.select(SyncLog)
                    .where(SyncLog.entity == "customers", SyncLog.action == "pull")
                    .order_by(SyncLog.id)
                )
            )

    def contact_posts(self) -> int:
        """Contact writes the sandbox has seen."""
        return sum(
            n
            for k, n in self.calls().items()
            if k.split()[0] in ("PUT", "POST") and "Contacts" in k
        )


@pytest.fixture
def world(tmp_path, perfex_url, xero_sandbox):
    """Customers pushed to Xero, the pull switched on."""
    w = World(tmp_path, perfex_url, xero_sandbox)
    w.settings["contacts_from_xero"] = "yes"
    assert w.push().ok
    yield w
    w.close()


def companies(w: World) -> list[int]:
    """Ids of linked customers that are companies with a primary contact."""
    out = [
        c.id
        for c in reads.read_customers(w.perfex)
        if not c.is_individual and c.primary_contact is not None
    ]
    assert len(out) >= 2
    return out


def test_the_switch_is_off_by_default_and_then_nothing_comes_back(world):
    """Off (the default): a contact changed in Xero leaves Perfex as it was."""
    assert defaults()["contacts_from_xero"] == "no"
    del world.settings["contacts_from_xero"]
    cid = companies(world)[0]
    before = world.customer(cid)
    world.edit_xero(cid, EmailAddress="new.owner@example.com", TaxNumber="GB999")
    result = world.push()
    assert result.ok and result.report("customers").pulled == 0
    assert world.customer(cid) == before
    assert world.pull_logs() == []
    assert not [a for a in world.push(dry_run=True).planned if a.action == "pull"]


def test_changes_made_in_xero_update_the_customer_without_an_echo(world):
    """Name, e-mail, phone, both addresses and tax number land in Perfex; no echo."""
    cid = companies(world)[0]
    world.edit_xero(
        cid,
        Name="Renamed in Xero Ltd",
        EmailAddress="books@renamed.example",
        TaxNumber="GB123456789",
        Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "+44 20 7946 0000"}],
        Addresses=[
            {
                "AddressType": "POBOX",
                "AddressLine1": "1 Ledger Lane",
                "AddressLine2": "Suite 4",
                "City": "Leeds",
                "PostalCode": "LS1 1AA",
                "Country": "United Kingdom",
            },
            {"AddressType": "STREET", "AddressLine1": "9 Dock Rd", "City": "Hull"},
        ],
    )
    posts = world.contact_posts()
    result = world.push()
    assert result.ok, result.failed
    assert result.report("customers").pulled == 1
    c = world.customer(cid)
    assert c.company == "Renamed in Xero Ltd" and c.vat == "GB123456789"
    assert c.primary_contact.email == "books@renamed.example"
    assert c.phone == "+44 20 7946 0000"
    assert c.billing.street == "1 Ledger Lane\nSuite 4" and c.billing.city == "Leeds"
    assert c.billing.zip == "LS1 1AA"
    assert c.billing.country is not None and c.billing.country.iso2 == "GB"
    assert (c.shipping.street, c.shipping.city) == ("9 Dock Rd", "Hull")
    assert c.shipping.country is None
    assert world.contact_posts() == posts  # the push sent nothing back
    [entry] = world.pull_logs()
    assert entry.outcome == "synced" and "updated from Xero" in entry.message
    assert "books@renamed.example" in entry.message
    # a rerun with nothing changed writes nothing either way
    before, calls = world.customer(cid), world.calls()
    again = world.push()
    assert again.ok and again.report("customers").pulled == 0
    assert again.report("customers").writes == 0
    assert world.customer(cid) == before and world.contact_posts() == posts
    assert set(delta(calls, world.calls())) == {"GET /Contacts"}
    assert len(world.pull_logs()) == 1


def test_a_dry_run_shows_the_changes_and_writes_nothing(world):
    """Dry run: the planned fields with both values; Perfex, links, cursor untouched."""
    cid = companies(world)[0]
    cursor = read_cursor(world.sessions(), CURSOR)
    before = world.customer(cid)
    world.edit_xero(cid, EmailAddress="dry@run.example")
    result = world.push(dry_run=True)
    [planned] = [a for a in result.planned if a.action == "pull"]
    assert planned.key == str(cid)
    assert planned.payload["fields"]["EmailAddress"] == {
        "perfex": before.primary_contact.email,
        "xero": "dry@run.example",
    }
    [row] = [r for r in preview.rows(result.planned) if r.action == "pull"]
    assert "EmailAddress" in row.reason and "'dry@run.example'" in row.reason
    assert world.customer(cid) == before
    assert read_cursor(world.sessions(), CURSOR) == cursor
    assert world.pull_logs() == []
    assert world.push().report("customers").pulled == 1
    assert world.customer(cid).primary_contact.email == "dry@run.example"


def test_the_same_field_changed_on_both_sides_keeps_perfex(world):
    """Both changed the e-mail: Perfex's stays, goes to Xero, and the log says so."""
    cid = companies(world)[0]
    world.edit_xero(cid, EmailAddress="xero.side@example.com")
    world.edit_person(cid, email="perfex.side@example.com")
    result = world.push()
    assert result.report("customers").pulled == 0
    assert world.customer(cid).primary_contact.email == "perfex.side@example.com"
    assert world.contact_of(cid)["EmailAddress"] == "perfex.side@example.com"
    [entry] = world.pull_logs()
    assert "both sides, Perfex wins" in entry.message
    assert "EmailAddress" in entry.message
    again = world.push()
    assert again.report("customers").writes == 0
    assert world.customer(cid).primary_contact.email == "perfex.side@example.com"


def test_different_fields_changed_on_each_side_both_survive(world):
    """Xero changed the e-mail, Perfex the tax number: each side's change is kept."""
    cid = companies(world)[0]
    world.edit_xero(cid, EmailAddress="xero.side@example.com")
    world.edit_perfex(cid, vat="VAT-FROM-PERFEX")
    result = world.push()
    assert result.ok and result.report("customers").pulled == 1
    c = world.customer(cid)
    assert c.primary_contact.email == "xero.side@example.com"
    assert c.vat == "VAT-FROM-PERFEX"
    contact = world.contact_of(cid)
    assert contact["EmailAddress"] == "xero.side@example.com"  # not overwritten
    assert contact["TaxNumber"] == "VAT-FROM-PERFEX"
    posts = world.contact_posts()
    assert world.push().report("customers").writes == 0
    assert world.contact_posts() == posts


def test_a_later_xero_change_wins_over_an_older_perfex_change(world):
    """A Perfex change already sent does not block a newer Xero change of it."""
    cid = companies(world)[0]
    world.edit_person(cid, email="perfex.first@example.com")
    assert world.push().report("customers").updated == 1
    world.edit_xero(cid, EmailAddress="xero.later@example.com")
    result = world.push()
    assert result.report("customers").pulled == 1
    assert world.customer(cid).primary_contact.email == "xero.later@example.com"


def test_a_webhook_pulls_the_contact_in_a_targeted_run(world):
    """A CONTACT webhook names the linked customer; its targeted run pulls it."""
    cid = companies(world)[0]
    world.sandbox.sandbox.take_events()
    world.edit_xero(cid, TaxNumber="WEBHOOK-1")
    events = world.sandbox.sandbox.take_events()
    assert [e["eventCategory"] for e in events] == ["CONTACT"]
    with world.sessions() as session:
        set_setting(session, "contacts_from_xero", "yes")
        answer = handle_webhook(session, events, lambda: world.gateway)
    assert answer["customers"] == [str(cid)]
    cursor = read_cursor(world.sessions(), CURSOR)
    result = world.push(record_keys={"customers": answer["customers"]})
    assert result.ok and result.report("customers").pulled == 1
    assert world.customer(cid).vat == "WEBHOOK-1"
    assert read_cursor(world.sessions(), CURSOR) == cursor  # the pass still looks
    assert world.push().report("customers").pulled == 0


def test_a_webhook_names_no_customer_when_the_switch_is_off(world):
    """Off: the webhook is logged as before and queues no customers run."""
    world.settings["contacts_from_xero"] = "no"
    cid = companies(world)[0]
    world.sandbox.sandbox.take_events()
    world.edit_xero(cid, TaxNumber="WEBHOOK-2")
    with world.sessions() as session:
        answer = handle_webhook(
            session, world.sandbox.sandbox.take_events(), lambda: world.gateway
        )
    assert answer["customers"] == []


def ms(stamp: datetime) -> datetime:
    """A sandbox stamp as Xero's answer carries it: naive UTC, milliseconds."""
    stamp = stamp.replace(tzinfo=None)
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


def test_the_scheduled_pass_reads_only_what_changed_since_its_cursor(world):
    """The cursor is the newest UpdatedDateUTC; a contact changed after it is read."""
    cid = companies(world)[0]
    world.push()
    cursor = read_cursor(world.sessions(), CURSOR)
    assert cursor is not None
    newest = max(c["UpdatedDateUTC"] for c in world.xero("Contacts"))
    assert cursor == ms(newest)
    changed = world.edit_xero(cid, TaxNumber="LATER-1")
    world.push()
    assert world.customer(cid).vat == "LATER-1"
    stamp = read_cursor(world.sessions(), CURSOR)
    assert stamp == ms(changed["UpdatedDateUTC"])


def test_a_bad_value_fails_that_field_with_a_clear_message_and_the_rest_goes_on(
    world,
):
    """A too-long name and an unknown country fail alone; the rest is written."""
    first, second = companies(world)[:2]
    world.edit_xero(
        first,
        Name="N" * 200,
        EmailAddress="still.written@example.com",
        Addresses=[{"AddressType": "POBOX", "City": "Nowhere", "Country": "Atlantis"}],
    )
    world.edit_xero(second, TaxNumber="SECOND-OK")
    result = world.push()
    report = result.report("customers")
    assert report.failed == 1 and report.pulled == 2
    [(key, error)] = report.errors
    assert key == str(first)
    assert "Name" in error and "200 characters" in error and "company (191)" in error
    assert "POBOX" in error and "'Atlantis' is not in" in error
    c = world.customer(first)
    assert c.primary_contact.email == "still.written@example.com"
    assert c.company != "N" * 200 and c.billing.city != "Nowhere"
    assert world.customer(second).vat == "SECOND-OK"
    assert world.link(BASES, first).state == "failed"
    with world.sessions() as session:
        stats = {s.name: s for s in entity_stats(session, [("customers", "C")])}
    assert stats["customers"].failed == 1  # shown on the dashboard's customers row
    # fixed in Xero: the next pass writes it and the failure is over
    world.edit_xero(
        first,
        Name="Short Enough Ltd",
        Addresses=[{"AddressType": "POBOX", "City": "Perth", "Country": "Australia"}],
    )
    again = world.push()
    assert again.ok and again.report("customers").pulled == 1
    c = world.customer(first)
    assert c.company == "Short Enough Ltd" and c.billing.country.iso2 == "AU"
    link = world.link(BASES, first)
    assert link.state == "synced" and link.last_error is None


@pytest.mark.parametrize(
    ("xero", "perfex", "unsent", "expected"),
    [
        ("a", "a", True, SAME),
        ("new", "old", False, XERO),  # only Xero changed it
        ("new", "old", True, XERO),  # Perfex changed another field
        ("new", "mine", True, CONFLICT),  # both changed it: Perfex wins
        ("old", "mine", True, PERFEX),  # only Perfex changed it: the push sends it
        ("old", "mine", False, PERFEX),
    ],
)
def test_which_side_wins(xero, perfex, unsent, expected):
    """The per-field rule, from the bases of the last agreement ('old')."""
    base = {name: fingerprint("old") for name in FIELDS}
    assert verdict("Name", xero, perfex, base, base, unsent) == expected


def test_without_a_base_an_unsent_perfex_change_wins():
    """No base yet: Xero wins unless the customer has an unsent change."""
    assert verdict("Name", "x", "p", None, None, unsent=False) == XERO
    assert verdict("Name", "x", "p", None, None, unsent=True) == CONFLICT


def test_an_archived_contact_is_logged_and_the_customer_kept(world):
    """Archived in Xero: nothing deleted or deactivated in Perfex, one log line."""
    cid = companies(world)[0]
    world.sandbox.inject.archive_contact(world.contact_of(cid)["ContactID"])
    world.push()
    world.push(full=True)
    assert world.customer(cid).active
    [entry] = world.pull_logs()
    assert entry.outcome == "skipped" and entry.message == ARCHIVED


def test_the_webhook_job_queues_a_targeted_customers_run(sync_app, xero_sandbox):
    """The job turns a CONTACT webhook of a linked customer into a customers run."""
    with sync_app.app_context():
        xero_gateway(sync_app).connect_client_credentials()
        set_setting(db.session, "contacts_from_xero", "yes")
        contact = xero_sandbox.inject.contact("Hooked Ltd")
        db.session.add(
            Link(
                entity="customers",
                perfex_key="1",
                xero_id=contact["ContactID"],
                state="synced",
            )
        )
        db.session.commit()
        xero_sandbox.sandbox.take_events()
        xero_sandbox.inject.update("Contacts", contact["ContactID"], {"TaxNumber": "H"})
        result = xero_webhook_job(xero_sandbox.sandbox.take_events())
        assert result["customers"] == ["1"]
        run = db.session.get(SyncRun, result["run_id"])
        assert run is not None and run.trigger == "webhook"
        assert "customers" in run.scope
        deadline = time.monotonic() + 30
        while run.status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            db.session.refresh(run)
        assert run.status not in ("queued", "running")
