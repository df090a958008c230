"""Perfex staff (tblstaff): the sign-in look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from pxflask.perfex.db import PerfexDB
from pxflask.perfex.records import Staff


def _staff_select(db: PerfexDB) -> sa.Select[tuple[object, ...]]:
    """The staff columns a Staff needs (2FA columns as NULL where absent)."""
    s = db.tables.staff
    optional = [
        s.c[name] if db.has_column("staff", name) else sa.null()
        for name in ("two_factor_auth_enabled", "google_auth_secret")
    ]
    return sa.select(
        s.c.staffid,
        s.c.email,
        s.c.firstname,
        s.c.lastname,
        s.c.password,
        s.c.admin,
        s.c.active,
        *optional,
    )


def _staff(row: Sequence[Any]) -> Staff:
    """A Staff from a row of _staff_select."""
    return Staff(
        row[0],
        row[1] or "",
        row[2] or "",
        row[3] or "",
        row[4] or "",
        row[5] == 1,
        row[6] == 1,
        int(row[7] or 0),
        str(row[8] or ""),
    )


def find_staff_by_email(db: PerfexDB, email: str) -> Staff | None:
    """The staff member with this email (case-insensitive), or None.

    Emails are not unique in Perfex: an active admin wins, then an active member,
    then anyone; ties go to the lowest staff id.
    """
    s = db.tables.staff
    wanted = (email or "").strip().lower()
    if not wanted:
        return None
    rank = sa.case(
        (sa.and_(s.c.active == 1, s.c.admin == 1), 0),
        (s.c.active == 1, 1),
        else_=2,
    )
    stmt = (
        _staff_select(db)
        .where(sa.func.lower(sa.func.trim(s.c.email)) == wanted)
        .order_by(rank, s.c.staffid)
        .limit(1)
    )
    with db.engine.connect() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else _staff(row)


def get_staff(db: PerfexDB, staff_id: int) -> Staff | None:
    """The staff member with this id, or None."""
    s = db.tables.staff
    with db.engine.connect() as conn:
        row = conn.execute(_staff_select(db).where(s.c.staffid == staff_id)).first()
    return None if row is None else _staff(row)
