"""Where a synced record came from: the record page's line for one made in Xero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, SyncLog
from pxflask.sync.links import PULLED_FROM_XERO

__all__ = ["PULL_ACTION", "Provenance", "provenance"]

PULL_ACTION = "pull"
"""The log action of a record written into Perfex from Xero."""


@dataclass(frozen=True)
class Provenance:
    """A Perfex record made in Xero and when pxflask brought it into Perfex."""

    pulled_at: datetime | None
    """The first pull logged for it (else its link's last sync); None if unknown."""


def provenance(session: SessionLike, link: Link | None) -> Provenance | None:
    """The provenance of a linked record pulled from Xero; None for any other."""
    if link is None or link.idempotency_key != PULLED_FROM_XERO:
        return None
    first = session.scalar(
        select(func.min(SyncLog.created_at)).where(
            SyncLog.entity == link.entity,
            SyncLog.perfex_key == link.perfex_key,
            SyncLog.action == PULL_ACTION,
        )
    )
    return Provenance(first or link.synced_at)
