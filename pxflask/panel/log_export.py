"""The sync log as CSV (offered before a reset wipes it), through the neutraliser."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TextIO

import pandas as pd
from sqlalchemy import func, select

from pxflask.dbtypes import SessionLike
from pxflask.models import SyncLog
from pxflask.reconcile.export import BOM
from pxflask.reconcile.spreadsheet import write_csv

__all__ = ["LOG_COLUMNS", "log_csv_chunks", "write_log_csv"]

LOG_COLUMNS = (
    "id",
    "run_id",
    "created_at",
    "entity",
    "perfex_key",
    "xero_id",
    "action",
    "outcome",
    "message",
    "payload",
    "response",
)
CHUNK = 2000
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def _frame(rows: list[SyncLog]) -> pd.DataFrame:
    """Log rows as a frame of the export's columns (ids as numbers, text as text)."""
    data = {col: [getattr(r, col) for r in rows] for col in LOG_COLUMNS}
    frame = pd.DataFrame(data, columns=list(LOG_COLUMNS))
    frame["run_id"] = frame["run_id"].astype("Int64")
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


def log_csv_chunks(session: SessionLike) -> Iterator[str]:
    """The whole sync log as CSV text, a chunk at a time (BOM and header first)."""
    last = 0
    first = True
    while True:
        rows = list(
            session.scalars(
                select(SyncLog)
                .where(SyncLog.id > last)
                .order_by(SyncLog.id)
                .limit(CHUNK)
            )
        )
        if first or rows:
            out = io.StringIO()
            if first:
                out.write(BOM)
            write_csv(_frame(rows), out, _DATE_FORMAT, header=first)
            first = False
            yield out.getvalue()
        if len(rows) < CHUNK:
            return
        last = rows[-1].id
        session.expunge_all()


def write_log_csv(session: SessionLike, target: TextIO) -> int:
    """Write the whole sync log to ``target``; return the number of rows."""
    for chunk in log_csv_chunks(session):
        target.write(chunk)
    return int(session.scalar(select(func.count(SyncLog.id))) or 0)
