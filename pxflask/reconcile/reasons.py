"""Why each flagged row differs, in plain words, with links to both records and the log.

``explain`` reads the sync's own records for the flagged rows of one scope: the link
(``pxf_links``: state, last error, attempts), the latest sync log entry of the record
and the Xero lock date the sync last read, and returns the columns
``REASON_COLUMNS``: what differs (``reason_words``), why, what to do, and three links
(the panel's log entry, the Perfex admin page, the Xero page). ``annotate`` adds them
to a report's frames right after the ``discrepancy`` column, which it puts first. Clean
rows get empty text. ``GLOSSARY`` explains every category code in plain language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, SyncCursor, SyncLog
from pxflask.reconcile._text import STR_DTYPE
from pxflask.reconcile.estimates import ESTIMATE_PLACES
from pxflask.reconcile.expenses import BILL_MATCH
from pxflask.reconcile.glossary import GLOSSARY, Term, glossary
from pxflask.reconcile.reason_join import EDITED, join_payment_reasons
from pxflask.reconcile.reason_words import Scope, cell_text, what
from pxflask.reconcile.refunds import REFUND_PLACES
from pxflask.reconcile.report import ReconciliationReport
from pxflask.reconcile.scopes import OPTIONAL_SCOPES

__all__ = [
    "GLOSSARY",
    "REASON_COLUMNS",
    "SCOPES",
    "Term",
    "annotate",
    "explain",
    "glossary",
    "is_safe_url",
    "lead_columns",
]

REASON_COLUMNS = ("what", "why", "action", "log_url", "perfex_url", "xero_url")
LOG_PATH = "/sync/log/{id}"
"""The panel's page of one sync log entry (blueprint ``sync.log_entry``)."""
LOCK_CURSOR = "xero.lock_date"
"""The cursor the sync keeps the lock date it last read in (xero.connection)."""
KEY_CHUNK = 500
DETAIL_MAX = 20_000
"""Flagged rows per scope explained from the sync's records; more get category words."""
XERO_INVOICE = "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={id}"
XERO_PAYMENT = "https://go.xero.com/Bank/ViewTransaction.aspx?bankTransactionID={id}"
XERO_CREDIT_NOTE = (
    "https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}"
)
XERO_BANK = "https://go.xero.com/Bank/ViewTransaction.aspx?bankTransactionID={id}"
XERO_BILL = "https://go.xero.com/AccountsPayable/View.aspx?InvoiceID={id}"
"""The page of a bill: the Xero id of an expense row ``matched_by`` ``bill``."""


SCOPES = {
    "invoices": Scope(
        "invoices",
        "invoice",
        "perfex_id",
        "xero_invoice_id",
        "/admin/invoices/list_invoices/{id}",
        XERO_INVOICE,
        "invoice_number",
    ),
    "payments": Scope(
        "payments",
        "payment",
        "perfex_payment_id",
        "xero_payment_id",
        "/admin/payments/payment/{id}",
        XERO_PAYMENT,
        "invoice_number",
    ),
    "expenses": Scope(
        "expenses",
        "expense",
        "perfex_expense_id",
        "xero_bank_transaction_id",
        "/admin/expenses/list_expenses/{id}",
        XERO_BANK,
        "reference",
    ),
    "credit_notes": Scope(
        "credit-notes",
        "credit note",
        "perfex_credit_note_id",
        "xero_credit_note_id",
        "/admin/credit_notes/list_credit_notes/{id}",
        XERO_CREDIT_NOTE,
        "credit_note_number",
    ),
    "refunds": Scope(*REFUND_PLACES, XERO_PAYMENT),
    "estimates": Scope(*ESTIMATE_PLACES),
}


@dataclass(frozen=True)
class _Facts:
    """What the sync knows about some records of one entity."""

    links: dict[str, Any]  # perfex key -> Link row
    by_xero: dict[str, str]  # Xero id -> perfex key
    logs: dict[str, Any]  # perfex key -> newest SyncLog row (id, outcome, message)
    logs_by_xero: dict[str, Any]
    lock: dt.date | None


def _chunks(values: list[str]) -> Iterable[list[str]]:
    """The values in IN-list sized pieces."""
    for i in range(0, len(values), KEY_CHUNK):
        yield values[i : i + KEY_CHUNK]


def _lock_date(session: SessionLike) -> dt.date | None:
    """The lock date the last sync run read (None: open, or never read)."""
    value = session.scalar(
        sa.select(SyncCursor.value).where(SyncCursor.name == LOCK_CURSOR)
    )
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _newest_logs(
    session: SessionLike, entity: str, column: Any, values: list[str]
) -> dict:
    """The newest log row per value of ``column`` (perfex_key or xero_id)."""
    out: dict[str, Any] = {}
    for part in _chunks(values):
        newest = (
            sa.select(sa.func.max(SyncLog.id))
            .where(SyncLog.entity == entity, column.in_(part))
            .group_by(column)
        )
        rows = session.execute(
            sa.select(
                SyncLog.id, SyncLog.perfex_key, SyncLog.xero_id, SyncLog.outcome
            ).where(SyncLog.id.in_(newest))
        )
        for row in rows:
            out[
                str(row.perfex_key if column is SyncLog.perfex_key else row.xero_id)
            ] = row
    if not out:
        return out
    messages = dict(
        session.execute(
            sa.select(SyncLog.id, SyncLog.message).where(
                SyncLog.id.in_([r.id for r in out.values()])
            )
        ).all()
    )
    return {k: (r.id, r.outcome, messages.get(r.id)) for k, r in out.items()}


def _facts(
    session: SessionLike, entity: str, keys: list[str], xero_ids: list[str]
) -> _Facts:
    """Links and newest log rows of the given keys and Xero ids (chunked IN-lists)."""
    cols = (
        Link.perfex_key,
        Link.xero_id,
        Link.state,
        Link.last_error,
        Link.attempts,
        Link.synced_at,
    )
    links: dict[str, Any] = {}
    for part in _chunks(keys):
        for row in session.execute(
            sa.select(*cols).where(Link.entity == entity, Link.perfex_key.in_(part))
        ):
            links[row.perfex_key] = row
    by_xero: dict[str, str] = {}
    for part in _chunks(xero_ids):
        for row in session.execute(
            sa.select(*cols).where(Link.entity == entity, Link.xero_id.in_(part))
        ):
            links.setdefault(row.perfex_key, row)
            by_xero[str(row.xero_id)] = row.perfex_key
    all_keys = sorted(set(keys) | set(by_xero.values()))
    logs = _newest_logs(session, entity, SyncLog.perfex_key, all_keys)
    logs_by_xero = _newest_logs(session, entity, SyncLog.xero_id, xero_ids)
    return _Facts(links, by_xero, logs, logs_by_xero, _lock_date(session))


_FROZEN = {
    "failed": "The sync failed to send it",
    "skipped": "The sync skipped it",
    "deleted": "It was deleted in Xero, so the sync no longer sends it",
    "voided": "It was voided in Xero, so the sync no longer sends it",
    "locked": "The sync may not change it in Xero",
    "pending": "A sync of it did not finish",
}


def _why(
    scope: Scope,
    row: dict[str, Any],
    codes: list[str],
    link: Any,
    log: Any,
    lock: dt.date | None,
) -> tuple[str, str]:
    """(why, kind of reason) of one flagged row, from the sync's records."""
    has_p = bool(cell_text(row.get(scope.key)))
    error = (link.last_error or "").strip() if link is not None else ""
    if (
        link is not None
        and link.state in _FROZEN
        and (error or link.state == "pending")
    ):
        why = _FROZEN[link.state] + (f": {error}" if error else "")
        if link.state == "failed" and link.attempts:
            why += f" ({link.attempts} attempt(s))"
        kind = "lock" if "lock date" in error else link.state
        return why, kind
    if log is not None and log[1] in ("failed", "skipped") and log[2]:
        kind = "lock" if "lock date" in log[2] else log[1]
        return f"The last sync of it {log[1]}: {log[2]}", kind
    status = cell_text(row.get("xero_status"))
    if has_p and status in ("DELETED", "VOIDED"):
        return f"It is {status} in Xero; the sync has not run since", "deleted"
    if not has_p:
        if link is not None:
            return (
                f"Linked to Perfex {scope.noun} {link.perfex_key}, which is gone from"
                " Perfex or outside the report's dates",
                "orphan",
            )
        return "Entered in Xero directly: the sync has no link to it", "xero_only"
    if link is None:
        if cell_text(row.get("perfex_status")) == "draft":
            return "A Perfex draft: drafts are not sent (setting drafts=skip)", "draft"
        return (
            f"Never synced: no sync link for this {scope.noun} (not synced yet, or"
            " its entity is off)",
            "unsynced",
        )
    day = row.get("perfex_date")
    if lock is not None and cell_text(day) and cell_text(day) <= lock.isoformat():
        return (
            f"Dated on or before Xero's period lock date {lock.isoformat()}: the sync"
            " cannot correct it in Xero",
            "lock",
        )
    when = link.synced_at.strftime("%Y-%m-%d %H:%M") if link.synced_at else "once"
    return f"Synced {when} UTC {EDITED}", "edited"


_ACTIONS = {
    "lock": "Unlock the period in Xero (or change the date in Perfex), then retry"
    " the record from its log entry.",
    "failed": "Fix what the error names (settings page or the record), then retry"
    " the record from its log entry.",
    "skipped": "Remove the cause of the skip, then retry the record from its log"
    " entry.",
    "deleted": "Decide which side is right: cancel or delete it in Perfex, or"
    " re-create it in Xero.",
    "voided": "Decide which side is right: cancel it in Perfex, or re-create it in"
    " Xero.",
    "locked": "Change it in Xero by hand (it has payments or is paid there), or"
    " remove the allocation first.",
    "pending": "Run the sync again: it looks the record up before creating it.",
    "orphan": "Void it in Xero if the Perfex record was deleted on purpose.",
    "xero_only": "Enter it in Perfex if it is real, or void it in Xero if not.",
    "draft": "Nothing, unless it should be in Xero: then set drafts=draft.",
    "unsynced": "Run the sync (Sync page) for this entity.",
}


def _action(kind: str, codes: list[str]) -> str:
    """What to do: by the reason's kind, else by the first category."""
    if kind in _ACTIONS:
        return _ACTIONS[kind]
    return " ".join(GLOSSARY[c].action for c in codes[:2] if c in GLOSSARY)


def _url(base: str, path: str, value: str) -> str:
    """``base`` + path with the id, or '' when either is missing."""
    return f"{base.rstrip('/')}{path.format(id=value)}" if base and value else ""


def _records(frame: pd.DataFrame, rows: np.ndarray) -> list[dict[str, Any]]:
    """Some rows as dicts (column by column: faster than ``to_dict``)."""
    names = list(frame.columns)
    values = [frame[c].iloc[rows].tolist() for c in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _by_category(frame: pd.DataFrame, rows: np.ndarray, out: dict) -> None:
    """What and what to do of rows from their categories alone (no sync records)."""
    codes = frame["discrepancy"].iloc[rows].astype("category")
    what = {
        c: "; ".join(GLOSSARY[k].title for k in c.split(";") if k in GLOSSARY)
        for c in codes.cat.categories
    }
    action = {c: _action("", c.split(";")) for c in codes.cat.categories}
    out["what"][rows] = codes.map(what).astype(object).to_numpy()
    out["action"][rows] = codes.map(action).astype(object).to_numpy()
    out["why"][rows] = f"Not looked up: more than {DETAIL_MAX:,} flagged rows"


def _links(
    frame: pd.DataFrame, rows: np.ndarray, spec: Scope, base: str, out: dict
) -> None:
    """The Perfex and Xero links of some rows, column-wise."""
    for col, template, prefix in (
        ("perfex_url", spec.perfex_path, base.rstrip("/")),
        ("xero_url", spec.xero_url, ""),
    ):
        source = spec.key if col == "perfex_url" else spec.xero_id
        if (col == "perfex_url" and not base) or source not in frame:
            continue
        head, _, tail = template.partition("{id}")
        ids = frame[source].iloc[rows].astype("string")
        urls = (prefix + head + ids + tail).fillna("")
        out[col][rows] = urls.astype(object).to_numpy()


def explain(
    scope: str, frame: pd.DataFrame, session: SessionLike, perfex_url: str | None = None
) -> pd.DataFrame:
    """The REASON_COLUMNS of ``frame`` (same index; '' on clean rows)."""
    spec = SCOPES[scope]
    out = {c: np.full(len(frame), "", dtype=object) for c in REASON_COLUMNS}
    if len(frame) and "discrepancy" in frame:
        flagged = np.flatnonzero((frame["discrepancy"].astype("str") != "").to_numpy())
    else:
        flagged = np.empty(0, np.int64)
    if len(flagged) > DETAIL_MAX:  # the rest: the categories' own words
        _by_category(frame, flagged[DETAIL_MAX:], out)
        _links(frame, flagged[DETAIL_MAX:], spec, perfex_url or "", out)
        flagged = flagged[:DETAIL_MAX]
    if len(flagged):
        rows = _records(frame, flagged)
        keys = sorted({k for r in rows if (k := cell_text(r.get(spec.key)))})
        ids = sorted({x for r in rows if (x := cell_text(r.get(spec.xero_id)))})
        facts = _facts(session, spec.entity, keys, ids)
        for pos, row in zip(flagged, rows, strict=True):
            codes = [c for c in str(row["discrepancy"]).split(";") if c]
            key = cell_text(row.get(spec.key))
            xero_id = cell_text(row.get(spec.xero_id))
            if not key and xero_id:
                key_of = facts.by_xero.get(xero_id, "")
            else:
                key_of = key
            link = facts.links.get(key_of)
            log = facts.logs.get(key_of) or facts.logs_by_xero.get(xero_id)
            why, kind = _why(spec, row, codes, link, log, facts.lock)
            out["what"][pos] = what(spec, row, codes)
            out["why"][pos] = why
            out["action"][pos] = _action(kind, codes)
            out["log_url"][pos] = LOG_PATH.format(id=log[0]) if log else ""
            out["perfex_url"][pos] = _url(perfex_url or "", spec.perfex_path, key)
            out["xero_url"][pos] = spec.xero_url.format(id=xero_id) if xero_id else ""
    if scope == "expenses" and "matched_by" in frame:
        _bill_urls(frame, out)
    return pd.DataFrame(
        {c: pd.array(v, dtype=STR_DTYPE) for c, v in out.items()}, index=frame.index
    )


BILL_CHANGED = (
    "Made in Xero as a bill and brought into Perfex by the expenses pull; the bill"
    " changed in Xero since",
    "Nothing to do by hand: the next expenses pull (expenses_from_xero) rewrites the"
    " expense from the bill",
)
BILL_GONE = (
    "Made in Xero as a bill and brought into Perfex by the expenses pull; the bill"
    " was voided or deleted in Xero since",
    "Delete the expense in Perfex if the bill is gone for good",
)


def _bill_urls(frame: pd.DataFrame, out: dict) -> None:
    """Expense rows paired with a Xero bill: the bill's page and the bill's story."""
    bill = (frame["matched_by"].astype("str") == BILL_MATCH).to_numpy(bool)
    for pos in np.flatnonzero(bill & (out["xero_url"] != "")):
        xero_id = cell_text(frame[SCOPES["expenses"].xero_id].iloc[pos])
        out["xero_url"][pos] = XERO_BILL.format(id=xero_id)
    for pos in np.flatnonzero(bill & (out["why"] != "")):
        codes = str(frame["discrepancy"].iloc[pos]).split(";")
        out["why"][pos], out["action"][pos] = (
            BILL_GONE if "deleted_in_xero" in codes else BILL_CHANGED
        )


def is_safe_url(url: str) -> bool:
    """True for a link the pages may render: http(s) or a path of the panel."""
    if url.startswith("/"):
        return not url.startswith("//") and "\\" not in url
    return url.startswith(("https://", "http://"))


def lead_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``discrepancy`` and the reason columns first."""
    first = [c for c in ("discrepancy", *REASON_COLUMNS) if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def _annotated(
    scope: str, frame: pd.DataFrame, session: SessionLike, perfex_url: str | None
) -> pd.DataFrame:
    """One frame with its reason columns, discrepancy first."""
    reasons = explain(scope, frame, session, perfex_url)
    merged = frame.drop(columns=[c for c in REASON_COLUMNS if c in frame.columns])
    return lead_columns(pd.concat([merged, reasons], axis=1))


def annotate(
    report: ReconciliationReport, session: SessionLike, perfex_url: str | None = None
) -> ReconciliationReport:
    """The report with the reasons and links of every flagged row added."""
    changes: dict[str, pd.DataFrame] = {
        "invoices": _annotated("invoices", report.invoices, session, perfex_url),
        "payments": _annotated("payments", report.payments, session, perfex_url),
    }
    changes["invoices"] = join_payment_reasons(changes["invoices"], changes["payments"])
    for scope in OPTIONAL_SCOPES:
        frame = getattr(report, scope)
        if frame is not None:
            changes[scope] = _annotated(scope, frame, session, perfex_url)
    return dataclasses.replace(report, **changes)
