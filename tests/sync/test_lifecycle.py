"""After the first sync: edits, cancellations, deletions, Xero-side voids."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from pxflask.perfex import reads, writes
from pxflask.perfex.records import INVOICE_DRAFT, INVOICE_UNPAID

from .conftest import Env, delta


def unpaid_without_payments(env: Env) -> int:
    """An invoice id Perfex holds as unpaid, with no payment recorded."""
    paid = {p.invoice_id for p in reads.read_payments(env.perfex)}
    return next(
        i.id
        for i in reads.read_invoices(env.perfex)
        if i.status == INVOICE_UNPAID and i.id not in paid
    )


def invoice_with_payment(env: Env) -> int:
    """An invoice id with at least one synced payment."""
    links = env.links("payments")
    return next(
        p.invoice_id
        for p in reads.read_payments(env.perfex)
        if str(p.id) in links and links[str(p.id)].state == "synced"
    )


def move_due_date(env: Env, invoice_id: int, days: int = 7) -> date:
    """Edit an invoice's due date in Perfex; the new date."""
    inv = env.perfex.tables.invoices
    new = date(2031, 1, 1) + timedelta(days=days)
    env.execute(inv.update().where(inv.c.id == invoice_id).values(duedate=new))
    return new


def xero_invoice(env: Env, invoice_id: int) -> dict:
    """Xero's view of a synced Perfex invoice."""
    link = env.link("invoices", invoice_id)
    assert link is not None and link.xero_id
    return env.sandbox.inject.get("Invoices", link.xero_id)


def test_no_change_run_writes_nothing_and_reads_only_modified(env):
    """A no-change rerun: no write, one If-Modified-Since read of invoices, payments."""
    assert env.sync().ok
    env.sync()  # reads back what the first run changed in Xero
    before = env.calls()
    result = env.sync()
    made = delta(before, env.calls())
    assert result.ok
    assert all(r.writes == 0 for r in result.reports)
    assert not [k for k in made if k.split()[0] in ("PUT", "POST")], made
    assert made.get("GET /Invoices", 0) == 1, made
    assert made.get("GET /Payments", 0) == 1, made  # payments_from_xero (default on)
    assert set(made) <= {"GET /Accounts", "GET /Invoices", "GET /Payments"}, made
    assert result.report("invoices").unchanged == len(reads.read_invoices(env.perfex))


def test_authorised_invoice_edit_is_updated_draft_too(env):
    """AUTHORISED without allocation and DRAFT invoices take Perfex's edits."""
    env.settings["drafts"] = "draft"
    inv = env.perfex.tables.invoices
    draft_id = unpaid_without_payments(env)
    env.execute(inv.update().where(inv.c.id == draft_id).values(status=INVOICE_DRAFT))
    assert env.sync().ok
    assert xero_invoice(env, draft_id)["Status"] == "DRAFT"
    new_due = move_due_date(env, draft_id)
    result = env.sync()
    assert result.report("invoices").updated == 1
    assert xero_invoice(env, draft_id)["DueDate"] == new_due
    env.execute(inv.update().where(inv.c.id == draft_id).values(status=INVOICE_UNPAID))
    assert env.sync().report("invoices").updated == 1
    assert xero_invoice(env, draft_id)["Status"] == "AUTHORISED"
    newer = move_due_date(env, draft_id, 30)
    assert env.sync().report("invoices").updated == 1
    assert xero_invoice(env, draft_id)["DueDate"] == newer


def test_edit_of_paid_invoice_locks_the_link_with_reason(env):
    """An invoice with a payment allocated in Xero is locked, never re-sent."""
    assert env.sync().ok
    invoice_id = invoice_with_payment(env)
    move_due_date(env, invoice_id)
    before = env.writes()
    result = env.sync()
    link = env.link("invoices", invoice_id)
    assert link.state == "locked"
    assert "allocated" in link.last_error
    assert result.report("invoices").blocked == 1
    assert env.writes() == before
    again = env.sync()
    assert env.writes() == before
    assert again.report("invoices").blocked == 0


def test_cancelled_invoice_is_voided_or_locked(env):
    """Cancelled in Perfex: VOIDED in Xero; with a payment allocated: locked."""
    assert env.sync().ok
    inv = env.perfex.tables.invoices
    free = unpaid_without_payments(env)
    paid = invoice_with_payment(env)
    env.execute(inv.update().where(inv.c.id.in_([free, paid])).values(status=5))
    result = env.sync()
    assert xero_invoice(env, free)["Status"] == "VOIDED"
    assert env.link("invoices", free).state == "voided"
    assert env.link("invoices", paid).state == "locked"
    assert "cancelled in Perfex" in env.link("invoices", paid).last_error
    assert xero_invoice(env, paid)["Status"] in ("PAID", "AUTHORISED")
    assert result.report("invoices").blocked == 1
    before = env.writes()
    env.sync()
    assert env.writes() == before


def test_deleted_invoices_are_voided_and_drafts_deleted(env):
    """Deleted in Perfex: AUTHORISED -> VOIDED, DRAFT -> DELETED in Xero."""
    env.settings["drafts"] = "draft"
    inv, lines = env.perfex.tables.invoices, env.perfex.tables.itemable
    free = unpaid_without_payments(env)
    assert env.sync().ok
    new_id = _copy_as_draft(env, free)
    assert env.sync().ok
    assert xero_invoice(env, new_id)["Status"] == "DRAFT"
    voided_id = xero_invoice(env, free)["InvoiceID"]
    deleted_id = xero_invoice(env, new_id)["InvoiceID"]
    for gone in (free, new_id):
        env.execute(lines.delete().where(lines.c.rel_id == gone))
        env.execute(inv.delete().where(inv.c.id == gone))
    env.sync()
    assert env.sandbox.inject.get("Invoices", voided_id)["Status"] == "VOIDED"
    assert env.sandbox.inject.get("Invoices", deleted_id)["Status"] == "DELETED"
    assert env.link("invoices", free).state == "voided"
    assert env.link("invoices", new_id).state == "deleted"


def _copy_as_draft(env: Env, invoice_id: int) -> int:
    """A new Perfex draft invoice copying another's row, lines and line taxes."""
    inv, lines = env.perfex.tables.invoices, env.perfex.tables.itemable
    taxes = env.perfex.tables.item_tax
    with env.perfex.engine.begin() as conn:
        row = dict(
            conn.execute(sa.select(inv).where(inv.c.id == invoice_id)).one()._mapping
        )
        new_id = conn.execute(sa.select(sa.func.max(inv.c.id))).scalar() + 1
        row.update(id=new_id, status=INVOICE_DRAFT, number=1000000000)
        if "formatted_number" in row:
            row["formatted_number"] = None
        conn.execute(inv.insert().values(**row))
        for line in conn.execute(
            sa.select(lines).where(
                lines.c.rel_id == invoice_id, lines.c.rel_type == "invoice"
            )
        ).mappings():
            copy = dict(line)
            old_line = copy.pop("id")
            copy["rel_id"] = new_id
            line_id = conn.execute(lines.insert().values(**copy)).inserted_primary_key[
                0
            ]
            for tax in conn.execute(
                sa.select(taxes).where(
                    taxes.c.itemid == old_line, taxes.c.rel_type == "invoice"
                )
            ).mappings():
                values = {k: v for k, v in tax.items() if k != "id"}
                values.update(itemid=line_id, rel_id=new_id)
                conn.execute(taxes.insert().values(**values))
    return new_id


def test_deleted_invoice_with_payments_deletes_payments_then_voids(env):
    """Invoice and its payments deleted in Perfex: payments deleted, then voided."""
    assert env.sync().ok
    invoice_id = invoice_with_payment(env)
    xero_id = xero_invoice(env, invoice_id)["InvoiceID"]
    pay_keys = [
        str(p.id) for p in reads.read_payments(env.perfex) if p.invoice_id == invoice_id
    ]
    inv, lines = env.perfex.tables.invoices, env.perfex.tables.itemable
    pays = env.perfex.tables.invoicepaymentrecords
    env.execute(pays.delete().where(pays.c.invoiceid == invoice_id))
    env.execute(lines.delete().where(lines.c.rel_id == invoice_id))
    env.execute(inv.delete().where(inv.c.id == invoice_id))
    result = env.sync()
    assert result.ok, result.failed
    assert env.sandbox.inject.get("Invoices", xero_id)["Status"] == "VOIDED"
    assert env.link("invoices", invoice_id).state == "voided"
    for key in pay_keys:
        link = env.link("payments", key)
        assert link.state == "deleted"
        assert env.sandbox.inject.get("Payments", link.xero_id)["Status"] == "DELETED"


def test_voided_in_xero_is_marked_and_never_resent(env):
    """A user voids an invoice in Xero: the link is frozen, Perfex edits blocked."""
    assert env.sync().ok
    invoice_id = unpaid_without_payments(env)
    xero_id = xero_invoice(env, invoice_id)["InvoiceID"]
    env.sandbox.inject.void_invoice(xero_id)
    env.sync()
    link = env.link("invoices", invoice_id)
    assert link.state == "voided"
    assert "in Xero" in link.last_error
    move_due_date(env, invoice_id)
    before = env.writes()
    result = env.sync()
    assert env.writes() == before
    assert result.report("invoices").blocked == 1
    assert env.sandbox.inject.get("Invoices", xero_id)["Status"] == "VOIDED"


def test_payment_deleted_and_edited_in_perfex(env):
    """Deleted: deleted in Xero. Edited: deleted and created again."""
    assert env.sync().ok
    links = env.links("payments")
    synced = [
        p
        for p in reads.read_payments(env.perfex)
        if links.get(str(p.id)) and links[str(p.id)].state == "synced"
    ]
    gone, edited = synced[0], synced[1]
    pays = env.perfex.tables.invoicepaymentrecords
    env.execute(pays.delete().where(pays.c.id == gone.id))
    new_amount = edited.amount - Decimal("1.00")
    env.execute(pays.update().where(pays.c.id == edited.id).values(amount=new_amount))
    old_id = links[str(edited.id)].xero_id
    result = env.sync()
    assert result.ok, result.failed
    gone_link = env.link("payments", gone.id)
    assert gone_link.state == "deleted"
    assert env.sandbox.inject.get("Payments", gone_link.xero_id)["Status"] == "DELETED"
    edited_link = env.link("payments", edited.id)
    assert edited_link.state == "synced" and edited_link.xero_id != old_id
    assert env.sandbox.inject.get("Payments", old_id)["Status"] == "DELETED"
    again = env.sandbox.inject.get("Payments", edited_link.xero_id)
    assert again["Status"] == "AUTHORISED" and again["Amount"] == new_amount
    before = env.writes()
    env.sync()
    assert env.writes() == before


def test_payment_rules_overpayment_unsynced_and_accounts(env):
    """Overpayment and unsynced invoice are skipped with reasons; accounts by mode."""
    env.settings["payment_account.stripe"] = "091"
    env.settings["payment_account.2"] = "091"
    assert env.sync().ok
    free = unpaid_without_payments(env)
    total = next(i.total for i in reads.read_invoices(env.perfex) if i.id == free)
    first = writes.insert_payment(env.perfex, free, total - 10, date(2025, 6, 1), "1")
    over = writes.insert_payment(
        env.perfex, free, Decimal("25.00"), date(2025, 6, 2), "1"
    )
    inv = env.perfex.tables.invoices
    draft = _copy_as_draft(env, free)
    env.execute(inv.update().where(inv.c.id == draft).values(status=INVOICE_DRAFT))
    orphan = writes.insert_payment(
        env.perfex, draft, Decimal("5.00"), date(2025, 6, 3), "1", update_status=False
    )
    result = env.sync()
    payments = result.report("payments")
    assert env.link("payments", first).state == "synced"
    assert env.link("payments", over).state == "skipped"
    assert "above what is due" in env.link("payments", over).last_error
    assert env.link("payments", orphan).state == "skipped"
    assert "not synced" in env.link("payments", orphan).last_error
    assert payments.skipped == 2
    before = env.calls()
    again = env.sync()
    assert again.report("payments").skipped == 0
    made = delta(before, env.calls())
    assert not [k for k in made if "Payments" in k and k != "GET /Payments"], made
    assert made.get("GET /Payments", 0) <= 1, made  # the pull's If-Modified-Since read
    by_mode = {p.id: p.mode for p in reads.read_payments(env.perfex)}
    for key, link in env.links("payments").items():
        if link.state != "synced":
            continue
        code = env.sandbox.inject.get("Payments", link.xero_id)["Account"]["Code"]
        mode = by_mode[int(key)]
        assert code == ("091" if mode in ("stripe", "2") else "090"), (key, mode)
