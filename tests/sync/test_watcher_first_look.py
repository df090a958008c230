"""Edits made while the watcher was stopped reach Xero on its first look."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from pxflask.sync.watcher import detect_changes

ENTITIES = ["customers", "items", "invoices", "payments"]


def test_edit_while_stopped_is_synced_by_the_first_cycle_after_a_start(env):
    """A due date edited while stopped (unseen by the marks) is sent at once."""
    assert env.sync().ok
    marks: dict[str, str] = {}
    synced = {k for k in ENTITIES if env.links(k)}.__contains__

    def look(now: float):
        return detect_changes(
            env.perfex,
            ENTITIES,
            marks.get,
            marks.__setitem__,
            synced=synced,
            stale_after=120,
            now=now,
        )

    look(1_000)
    assert look(1_030) == []
    inv = env.perfex.tables.invoices
    target = env.execute(
        sa.select(inv.c.id, inv.c.date).where(inv.c.status == 1).limit(1)
    ).one()
    due = target.date + timedelta(days=77)
    env.execute(inv.update().where(inv.c.id == target.id).values(duedate=due))
    assert look(1_060) == [], "the marks alone would miss this edit"

    changes = look(9_000)  # started again after a stop
    invoices = [c for c in changes if c.entity == "invoices"]
    assert invoices and invoices[0].everything
    result = env.sync(entities=["invoices"])
    assert result.ok and result.report("invoices").updated == 1
    link = env.link("invoices", target.id)
    sent = next(i for i in env.xero("Invoices") if i["InvoiceID"] == link.xero_id)
    assert str(sent["DueDate"])[:10] == due.isoformat()
