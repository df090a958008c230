"""What a Perfex document is filed under: its project, sale agent or a custom field.

One query per call whatever the number of documents. A document without the
value (no project, no agent, an empty field) is absent from the answer; so are
all documents when the install lacks the table or column the dimension needs.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.query import chunks

PROJECT = "project"
SALE_AGENT = "sale_agent"
CUSTOM = "custom"
FIELD_TO = {
    "invoices": "invoice",
    "creditnotes": "credit_note",
    "expenses": "expenses",
    "estimates": "estimate",
}
"""Document table -> Perfex's `fieldto` of its custom fields."""


def dimension_values(
    db: PerfexDB,
    table: str,
    dimension: str,
    field_name: str = "",
    ids: Iterable[int] | None = None,
) -> dict[int, str]:
    """Document id -> its value of the dimension (whitespace collapsed)."""
    if not db.columns.get(table):
        return {}
    if dimension == PROJECT:
        stmt = _projects(db, table)
    elif dimension == SALE_AGENT:
        stmt = _agents(db, table)
    elif dimension == CUSTOM and table in FIELD_TO:
        stmt = _custom(db, FIELD_TO[table], field_name)
    else:
        return {}
    if stmt is None:
        return {}
    found: dict[int, str] = {}
    with db.engine.connect() as conn:
        if ids is None:
            rows = list(conn.execute(stmt))
        else:
            key = stmt.selected_columns[0]
            rows = [
                r
                for part in chunks(list(ids))
                for r in conn.execute(stmt.where(key.in_(part)))
            ]
    for doc_id, *parts in rows:
        value = " ".join(" ".join(str(p or "") for p in parts).split())
        if value:
            found[int(doc_id)] = value
    return found


def _projects(db: PerfexDB, table: str) -> sa.Select | None:
    """Document id and its project's name."""
    if "project_id" not in db.columns[table] or not db.columns.get("projects"):
        return None
    doc, p = db.tables.table(table), db.tables.projects
    return (
        sa.select(doc.c.id, p.c.name)
        .join(p, p.c.id == doc.c.project_id)
        .where(doc.c.project_id > 0)
    )


def _agents(db: PerfexDB, table: str) -> sa.Select | None:
    """Document id and its sale agent's first and last name."""
    if "sale_agent" not in db.columns[table]:
        return None
    doc, s = db.tables.table(table), db.tables.staff
    return (
        sa.select(doc.c.id, s.c.firstname, s.c.lastname)
        .join(s, s.c.staffid == doc.c.sale_agent)
        .where(doc.c.sale_agent > 0)
    )


def _custom(db: PerfexDB, field_to: str, name: str) -> sa.Select | None:
    """Record id and its value of the active custom field named `name`."""
    if not name or not db.columns.get("customfields"):
        return None
    if not db.columns.get("customfieldsvalues"):
        return None
    f, v = db.tables.customfields, db.tables.customfieldsvalues
    return (
        sa.select(v.c.relid, v.c.value)
        .join(f, f.c.id == v.c.fieldid)
        .where(
            f.c.fieldto == field_to,
            f.c.name == name,
            f.c.active == 1,
            v.c.fieldto == field_to,
        )
    )


def custom_field_names(db: PerfexDB) -> list[str]:
    """The names of the active custom fields of synced documents (for settings)."""
    if not db.columns.get("customfields"):
        return []
    f = db.tables.customfields
    stmt = (
        sa.select(f.c.name)
        .where(f.c.active == 1, f.c.fieldto.in_(sorted(FIELD_TO.values())))
        .distinct()
        .order_by(f.c.name)
    )
    with db.engine.connect() as conn:
        return [str(n) for n in conn.execute(stmt).scalars()]
