"""Damaged and unusual Perfex rows: each fails alone, named with its reason.

The corpus is the seeded demo database with rows damaged the way real installs
damage them: a zero date (MariaDB stores '0000-00-00' when Perfex runs with
stricton = false), an impossible date (kept as text by SQLite, by MariaDB under
ALLOW_INVALID_DATES), a total that is NULL (a column left nullable by an old
Perfex version) or text (SQLite), a payment with a zero date, an invoice whose
lines are 60.00 short of its stored total (Perfex 3.4.0), and a refund-like
line with a negative quantity, which is valid and syncs (Xero takes negative
lines while the invoice total stays positive). Unusual rows that must sync: an
invoice of a customer deleted in Perfex (under a contact named from
`deleted_customer_name`), one whose number Xero holds on a voided invoice (sent
as <number>-2), and one with NULL adjustment and discounts. The CLI runs as a
subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from pxflask.perfex import reads
from pxflask.perfex.seed import seed_demo
from pxflask.sync.settings import set_setting
from tests.xero.helpers import TEST_KEY

from .conftest import UrlEnv, duplicates

ROOT = Path(__file__).resolve().parents[2]
PXFLASK = Path(sys.executable).with_name("pxflask")
REFUND = Decimal("5.00")


@dataclass
class Corpus:
    """The damaged records: (entity, Perfex key) -> words their reason must hold."""

    bad: dict[tuple[str, str], str] = field(default_factory=dict)
    refund_invoice: int = 0
    orphan_invoice: int = 0
    """Its customer was deleted in Perfex: it syncs under the kept name."""
    reused_invoice: int = 0
    """Xero holds a voided invoice with its number: it syncs as <number>-2."""
    null_invoice: int = 0
    """NULL adjustment and discount columns (nullable in Perfex): read as zero."""
    short_invoice: int = 0
    """Readable, but its lines are 60.00 short of its stored total: it fails."""


def _healthy(env: UrlEnv) -> list:
    """Seeded invoices Xero will take (not draft or cancelled, total > 10)."""
    return [
        inv
        for inv in reads.read_invoices(env.perfex)
        if inv.status not in (5, 6) and inv.total > 10 and inv.lines
    ]


def damage(env: UrlEnv) -> Corpus:
    """Damage the seeded Perfex rows as Perfex and its databases really do."""
    t = env.perfex.tables
    invoices = _healthy(env)
    paid = {p.invoice_id for p in reads.read_payments(env.perfex)}
    with_payment = [i for i in invoices if i.id in paid]
    zero, impossible, no_total = with_payment[0], invoices[1], invoices[2]
    if impossible.id == zero.id or no_total.id == zero.id:
        impossible, no_total = invoices[3], invoices[4]
    used = {zero.id, impossible.id, no_total.id}
    refund = next(i for i in invoices if i.id not in used | paid)
    used.add(refund.id)
    spare = [i for i in invoices if i.id not in used]
    orphan, reused, null, short = spare[0], spare[1], spare[2], spare[3]
    used |= {orphan.id, reused.id, null.id, short.id}
    payment = next(
        p
        for p in reads.read_payments(env.perfex)
        if p.invoice_id not in used | {i.id for i in invoices[:5]}
    )
    corpus = Corpus(
        refund_invoice=refund.id,
        orphan_invoice=orphan.id,
        reused_invoice=reused.id,
        null_invoice=null.id,
        short_invoice=short.id,
    )
    mariadb = env.perfex.engine.dialect.name != "sqlite"
    with env.perfex.engine.begin() as conn:
        if mariadb:  # as Perfex's connection (stricton = false) lets it through
            conn.exec_driver_sql("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
            conn.exec_driver_sql(
                f"ALTER TABLE {t.invoices.name} MODIFY total DECIMAL(15,2) NULL"
            )
        inv, pay = t.invoices, t.invoicepaymentrecords
        store(conn, inv, zero.id, "date", "0000-00-00")
        store(conn, inv, impossible.id, "date", "2024-02-31")
        store(conn, pay, payment.id, "date", "0000-00-00")
        if mariadb:
            conn.execute(
                sa.update(inv).where(inv.c.id == no_total.id).values(total=None)
            )
            corpus.bad[("invoices", str(no_total.id))] = "total is empty (NULL)"
        else:
            store(conn, inv, no_total.id, "total", "n/a")  # SQLite keeps the text
            corpus.bad[("invoices", str(no_total.id))] = "total 'n/a' is not an amount"
        conn.execute(
            sa.insert(t.itemable).values(
                rel_id=refund.id,
                rel_type="invoice",
                description="Returned cable",
                long_description="",
                qty=Decimal("-1"),
                rate=REFUND,
                unit="",
                item_order=99,
            )
        )
        conn.execute(
            sa.update(inv)
            .where(inv.c.id == refund.id)
            .values(subtotal=refund.subtotal - REFUND, total=refund.total - REFUND)
        )
        conn.execute(  # the customer is gone; Perfex kept its name on the invoice
            sa.update(inv)
            .where(inv.c.id == orphan.id)
            .values(clientid=99999, deleted_customer_name="Gone Trading Ltd")
        )
        conn.execute(
            sa.update(inv)
            .where(inv.c.id == null.id)
            .values(adjustment=None, discount_percent=None, discount_total=None)
        )
        conn.execute(  # lines 60.00 short of the stored total (Perfex 3.4.0)
            sa.update(inv)
            .where(inv.c.id == short.id)
            .values(total=short.total + 60, subtotal=short.subtotal + 60)
        )
    holder = env.sandbox.inject.contact("Earlier Customer")["ContactID"]
    voided = env.sandbox.inject.invoice(holder, InvoiceNumber=reused.formatted_number)
    env.sandbox.inject.void_invoice(voided["InvoiceID"])
    corpus.bad[("invoices", str(short.id))] = "but its lines come to"
    corpus.bad[("invoices", str(zero.id))] = "date is the zero date '0000-00-00'"
    corpus.bad[("invoices", str(impossible.id))] = "date '2024-02-31' is not a date"
    corpus.bad[("payments", str(payment.id))] = "date is the zero date '0000-00-00'"
    for bad in (zero, impossible, no_total, short):  # dependants fail with it
        for p in reads.read_payments(env.perfex, invoice_ids=[bad.id]):
            corpus.bad[("payments", str(p.id))] = f"its invoice {bad.id} failed"
    return corpus


def store(
    conn: sa.Connection, table: sa.Table, key: int, column: str, raw: str
) -> None:
    """Write a raw text value, past SQLAlchemy's type checks (as PHP writes it)."""
    sql = f"UPDATE {table.name} SET {column} = :raw WHERE id = :key"  # noqa: S608
    conn.execute(sa.text(sql), {"raw": raw, "key": key})


@pytest.fixture
def corpus_env(perfex_url, tmp_path, xero_sandbox):
    """The seeded demo database, damaged (SQLite and MariaDB)."""
    seed_demo(perfex_url, customers=4, invoices=24, seed=5)
    env = UrlEnv(tmp_path, perfex_url, xero_sandbox)
    corpus = damage(env)
    yield env, corpus
    env.close()


def assert_rest_synced_exactly(env: UrlEnv, corpus: Corpus) -> None:
    """Every record but the damaged ones is in Xero once, totals to the cent."""
    assert duplicates(env) == {}
    xero = {i["InvoiceID"]: i for i in env.xero("Invoices")}
    links = env.links("invoices")
    checked = 0
    for inv in reads.read_invoices(env.perfex):
        if ("invoices", str(inv.id)) in corpus.bad:
            assert inv.damaged or inv.id == corpus.short_invoice, inv.id
            assert not (links[str(inv.id)].xero_id or ""), inv.id
            continue
        if inv.status in (5, 6):
            continue
        link = links[str(inv.id)]
        assert link.state == "synced", (inv.id, link.state, link.last_error)
        assert xero[link.xero_id]["Total"] == inv.total, inv.id
        checked += 1
    assert checked >= 5
    orphan = reads.read_invoices(env.perfex, ids=[corpus.orphan_invoice])[0]
    contact = xero[links[str(orphan.id)].xero_id]["Contact"]["ContactID"]
    names = {c["ContactID"]: c["Name"] for c in env.xero("Contacts")}
    assert names[contact].startswith("Gone Trading Ltd"), names[contact]
    reused = reads.read_invoices(env.perfex, ids=[corpus.reused_invoice])[0]
    sent = xero[links[str(reused.id)].xero_id]["InvoiceNumber"]
    assert sent == f"{reused.formatted_number}-2", sent
    null = reads.read_invoices(env.perfex, ids=[corpus.null_invoice])[0]
    assert null.adjustment == 0, null.adjustment
    refund = reads.read_invoices(env.perfex, ids=[corpus.refund_invoice])[0]
    assert any(line.qty < 0 for line in refund.lines)
    assert xero[links[str(refund.id)].xero_id]["Total"] == refund.total
    pay_links = env.links("payments")
    live = {p["PaymentID"] for p in env.xero("Payments") if p["Status"] != "DELETED"}
    for pay in reads.read_payments(env.perfex):
        link = pay_links[str(pay.id)]
        if ("payments", str(pay.id)) in corpus.bad:
            assert link.state == "failed" and not link.xero_id, pay.id
            continue
        assert link.state == "synced" and link.xero_id in live, pay.id


def test_damaged_rows_fail_alone_and_the_rest_syncs_exactly(corpus_env):
    """Each damaged record fails with its column and value; all else is exact."""
    env, corpus = corpus_env
    result = env.sync()
    assert not result.ok
    failed = {(entity, key): error for entity, key, error in result.failed}
    assert set(failed) == set(corpus.bad), failed
    for record, words in corpus.bad.items():
        assert words in failed[record], (record, failed[record])
    assert_rest_synced_exactly(env, corpus)
    again = env.sync()
    assert {(e, k) for e, k, _ in again.failed} == set(corpus.bad)
    assert duplicates(env) == {}


def test_cli_names_each_bad_record_exits_1_then_2_without_traceback(corpus_env):
    """CLI: exit 1 with every reason, exit 2 without a Perfex table, no traceback."""
    env, corpus = corpus_env
    with env.sessions() as session:
        set_setting(session, "payment_account.default", "090")
        session.commit()
    cli = Cli(env)
    run = cli("sync")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output
    lines = output.splitlines()
    for (entity, key), words in corpus.bad.items():
        named = f"INV-{int(key):06d}" if entity == "invoices" else None
        named = named or f"payment {key}"
        words = re.sub(r"^its invoice \d+ failed", "its invoice failed", words)
        assert any(
            line.lstrip().startswith(f"{entity}:") and words in line and named in line
            for line in lines
        ), (entity, key, output)
    with env.perfex.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {env.perfex.tables.itemable.name}")
    broken = cli("sync")
    output = broken.stdout + broken.stderr
    assert broken.returncode == 2, output
    assert "Traceback" not in output
    assert "error:" in broken.stderr and "itemable" in broken.stderr


class Cli:
    """`pxflask` as a subprocess on the corpus and the env's (connected) module DB."""

    def __init__(self, env: UrlEnv) -> None:
        """Environment for the child processes."""
        module = env.engine.url.render_as_string(hide_password=False)
        self.env = {
            **os.environ,
            **{k: str(v) for k, v in env.sandbox.config.items()},
            "PYTHONPATH": str(ROOT),
            "PXFLASK_INSTANCE_PATH": str(Path(env.engine.url.database).parent),
            "PXFLASK_DATABASE_URL": module,
            "PERFEX_DATABASE_URL": env.perfex.engine.url.render_as_string(
                hide_password=False
            ),
            "PXFLASK_SECRET_KEY": "test-secret",
            "PXFLASK_ENCRYPTION_KEY": TEST_KEY,
            "XERO_GRANT": "client_credentials",
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one command; its completed process (text output)."""
        return subprocess.run(  # noqa: S603 - our own console script
            [str(PXFLASK), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
