"""Maintenance: reset every sync link before switching Xero organisations (no Flask).

A reset forgets which Perfex record is which Xero record (links), the history
(runs and log) and the cached chart of accounts, so the next sync treats the
connected organisation as new. Settings and the Xero connection are kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, func, select

from pxflask.dbtypes import SessionLike, rowcount
from pxflask.models import (
    Link,
    SyncCursor,
    SyncLog,
    SyncRun,
    XeroAccount,
    XeroDocumentLink,
    XeroTaxRate,
)
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.service import clear_all as clear_reconciliation

CONFIRM_WORD = "RESET"


class ResetRefused(RuntimeError):
    """A reset cannot run now (a sync is queued or running, or not confirmed)."""


@dataclass(frozen=True)
class ResetSummary:
    """How many rows a reset removed, per kind."""

    links: int
    runs: int
    log: int
    accounts: int

    def __str__(self) -> str:
        """One line for the CLI and the flash message."""
        return (
            f"{self.links} link(s), {self.runs} run(s), {self.log} log row(s) "
            f"and {self.accounts} cached account(s) removed"
        )


def reset_counts(session: SessionLike) -> ResetSummary:
    """What a reset would remove now."""

    def count(model: type) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    return ResetSummary(count(Link), count(SyncRun), count(SyncLog), count(XeroAccount))


def confirmation_phrase(organisation: str | None) -> str:
    """What the admin types to confirm: the organisation's name, or RESET."""
    return (
        organisation.strip() if organisation and organisation.strip() else CONFIRM_WORD
    )


def is_confirmed(typed: str, organisation: str | None) -> bool:
    """True when the typed text matches the phrase (surrounding spaces ignored)."""
    return typed.strip() == confirmation_phrase(organisation)


def reset_links(
    session: SessionLike,
    *,
    force: bool = False,
    instance_path: str | os.PathLike[str] | None = None,
) -> ResetSummary:
    """Forget links, cursors, runs, log, chart, reconciliation; refuse mid-sync."""
    active = (
        session.scalar(
            select(func.count())
            .select_from(SyncRun)
            .where(SyncRun.status.in_(("queued", "running")))
        )
        or 0
    )
    if active and not force:
        raise ResetRefused(
            f"{active} sync run(s) are queued or running; wait for them to finish "
            "before resetting"
        )
    try:
        log = rowcount(session.execute(delete(SyncLog)))
        runs = rowcount(session.execute(delete(SyncRun)))
        links = rowcount(session.execute(delete(Link)))
        accounts = rowcount(session.execute(delete(XeroAccount)))
        session.execute(delete(XeroTaxRate))  # the next organisation has its own
        session.execute(delete(SyncCursor))
        session.execute(delete(XeroDocumentLink))  # online URLs, e-mails sent
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if instance_path is not None:
        clear_reconciliation(instance_path)
    return ResetSummary(links, runs, log, accounts)


# ------------------------------------------------------------------ re-link


@dataclass(frozen=True)
class RelinkMatch:
    """A Perfex record found in the connected organisation."""

    entity: str
    perfex_key: str
    xero_id: str
    number: str
    linked_to: str | None = None

    @property
    def conflict(self) -> bool:
        """Already linked to another Xero record."""
        return self.linked_to is not None and self.linked_to != self.xero_id


@dataclass(frozen=True)
class RelinkPreview:
    """Matches by ContactNumber and InvoiceNumber, with per-entity totals."""

    matches: tuple[RelinkMatch, ...]
    perfex_totals: dict[str, int]
    xero_totals: dict[str, int]

    def new_links(self) -> list[RelinkMatch]:
        """Matches that are not linked yet."""
        return [m for m in self.matches if m.linked_to is None]

    def conflicts(self) -> list[RelinkMatch]:
        """Matches already linked to another Xero record."""
        return [m for m in self.matches if m.conflict]

    def to_dict(self) -> dict[str, object]:
        """Plain data (a job result)."""
        return {
            "matches": [m.__dict__ for m in self.matches],
            "perfex_totals": self.perfex_totals,
            "xero_totals": self.xero_totals,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RelinkPreview:
        """Rebuild a preview from to_dict's data."""
        return cls(
            tuple(RelinkMatch(**m) for m in data["matches"]),
            dict(data["perfex_totals"]),
            dict(data["xero_totals"]),
        )


def _linked(session: SessionLike, entity: str) -> dict[str, str | None]:
    """Perfex key -> linked Xero id of one entity."""
    rows = session.execute(
        select(Link.perfex_key, Link.xero_id).where(Link.entity == entity)
    ).all()
    return {row.perfex_key: row.xero_id for row in rows}


class XeroReader(Protocol):
    """What the re-link preview uses of the Xero gateway."""

    def read_all(self, kind: str, **query: Any) -> list[dict[str, Any]]:
        """Every record of a kind."""
        ...


def relink_preview(
    session: SessionLike, perfex: PerfexDB, gateway: XeroReader
) -> RelinkPreview:
    """Find Perfex customers and invoices already in Xero (by their numbers)."""
    from pxflask.perfex.reads import read_customers, read_invoices
    from pxflask.sync.entities.customers.mapper import customer_id_from_number
    from pxflask.sync.entities.invoices.mapper import invoice_number

    contacts = gateway.read_all("contacts", summary_only=True)
    invoices = gateway.read_all("invoices", summary_only=True)
    customers = {str(c.id) for c in read_customers(perfex)}
    numbers = {invoice_number(inv): str(inv.id) for inv in read_invoices(perfex)}
    matches: list[RelinkMatch] = []
    linked = _linked(session, "customers")
    for contact in contacts:
        if contact.get("ContactStatus") == "ARCHIVED":
            continue
        customer = customer_id_from_number(contact.get("ContactNumber"))
        if customer is not None and str(customer) in customers:
            key = str(customer)
            matches.append(
                RelinkMatch(
                    "customers",
                    key,
                    str(contact["ContactID"]),
                    contact["ContactNumber"],
                    linked.get(key),
                )
            )
    linked = _linked(session, "invoices")
    for invoice in invoices:
        if invoice.get("Type") not in (None, "ACCREC"):
            continue
        if invoice.get("Status") in ("DELETED", "VOIDED"):
            continue
        invoice_key = numbers.get(str(invoice.get("InvoiceNumber") or ""))
        if invoice_key is not None:
            matches.append(
                RelinkMatch(
                    "invoices",
                    invoice_key,
                    str(invoice["InvoiceID"]),
                    invoice["InvoiceNumber"],
                    linked.get(invoice_key),
                )
            )
    return RelinkPreview(
        tuple(matches),
        {"customers": len(customers), "invoices": len(numbers)},
        {"customers": len(contacts), "invoices": len(invoices)},
    )


def apply_relink(session: SessionLike, preview: RelinkPreview) -> int:
    """Link every match not linked yet; the next sync brings them in line."""
    created = 0
    for match in preview.new_links():
        exists = session.scalar(
            select(Link).where(
                Link.entity == match.entity, Link.perfex_key == match.perfex_key
            )
        )
        if exists is not None:
            continue
        session.add(
            Link(
                entity=match.entity,
                perfex_key=match.perfex_key,
                xero_id=match.xero_id,
                xero_number=match.number,
                state="synced",
                payload_hash=None,
            )
        )
        created += 1
    session.commit()
    return created
