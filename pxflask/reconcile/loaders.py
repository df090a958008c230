"""Load Perfex, Xero and the sync links into the reconciliation frames (no Flask).

Perfex: ``perfex_side`` (one query per kind; damaged rows are left out and listed
as ``Unreadable``, and the Xero rows linked to them are set aside).

Xero: invoices (``summaryOnly``, 1,000 per page; their ACCPAY bills kept apart, for
the expenses pulled from bills) and payments are kept in a local
snapshot per tenant under ``<instance>/reconcile/xero/`` (Parquet frames plus a JSON
file with the largest ``UpdatedDateUTC`` seen per kind).  A refresh asks Xero only for
what changed since then (``If-Modified-Since``) and merges it by id, so a rerun with
nothing changed costs one call per kind.  Xero never hard-deletes invoices or
payments (they become VOIDED/DELETED), so merging by id keeps the snapshot exact.
``clear_snapshot`` forgets it (a reset of the links, another organisation).

Links: the sync's ``Link`` rows (invoices, payments, each marked ``pulled`` when its
Perfex record came from Xero: the rows' ``origin``; customers give the Perfex id of
each Xero contact, the ``contact_number`` the per-customer totals join on).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import Link
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.frames import (
    LINKS,
    empty_frame,
    links_frame,
    xero_bills_frame,
    xero_invoices_frame,
    xero_payments_frame,
)
from pxflask.reconcile.perfex_side import (
    PERFEX_INVOICE_COLUMNS,
    Unreadable,
    customer_names,
    perfex_invoice_count,
    perfex_invoices,
    perfex_payments,
    set_aside,
)
from pxflask.reconcile.xero_records import (
    api_calls,
    connected_tenant,
    xero_bill_records,
    xero_invoice_records,
    xero_payment_records,
)
from pxflask.reconcile.xero_snapshot import (
    FRAMES,
    KEYS,
    KINDS,
    SCHEMAS,
    SNAPSHOT_VERSION,
    SnapshotMissing,
    XeroLoad,
    clear_snapshot,
    load_snapshot,
    merge_by_id,
    read_snapshot,
    snapshot_dir,
    snapshot_tenants,
    write_snapshot,
)
from pxflask.sync.links import PULLED_FROM_XERO

__all__ = [
    "PAGE_SIZE",
    "PERFEX_INVOICE_COLUMNS",
    "SNAPSHOT_VERSION",
    "ReconcileInputs",
    "SnapshotMissing",
    "Unreadable",
    "XeroLoad",
    "clear_snapshot",
    "contact_numbers",
    "customer_names",
    "load_inputs",
    "load_links",
    "load_xero",
    "perfex_invoice_count",
    "perfex_invoices",
    "perfex_payments",
    "read_snapshot",
    "snapshot_dir",
    "snapshot_tenants",
    "xero_invoice_records",
    "xero_payment_records",
]

PAGE_SIZE = 1000
CONTACT_NUMBER_PREFIX = "PX-C-"  # the sync's ContactNumber of a Perfex customer


# ------------------------------------------------------------------------ links


def load_links(session: SessionLike) -> pd.DataFrame:
    """The invoice and payment links of the sync as a ``LINKS`` frame (``pulled``)."""
    stmt = sa.select(
        Link.entity, Link.perfex_key, Link.xero_id, Link.idempotency_key
    ).where(Link.entity.in_(("invoices", "payments")), Link.xero_id.is_not(None))
    rows = [
        {
            "entity": e,
            "perfex_id": int(k),
            "xero_id": x.lower(),
            "pulled": mark == PULLED_FROM_XERO,
        }
        for e, k, x, mark in session.execute(stmt)
        if k and str(k).isdigit() and x
    ]
    if not rows:
        return empty_frame(LINKS)
    return links_frame(rows)


def contact_numbers(session: SessionLike) -> dict[str, str]:
    """Xero contact id (lower case) -> Perfex customer id, from the customer links."""
    stmt = sa.select(Link.perfex_key, Link.xero_id).where(
        Link.entity == "customers", Link.xero_id.is_not(None)
    )
    return {x.lower(): str(k) for k, x in session.execute(stmt) if k and x}


_RECORDS = {"invoices": xero_invoice_records, "payments": xero_payment_records}
_BUILDERS = {"invoices": xero_invoices_frame, "payments": xero_payments_frame}


def load_xero(
    gateway: Any,
    instance_path: str | os.PathLike[str],
    *,
    full: bool = False,
    page_size: int = PAGE_SIZE,
) -> XeroLoad:
    """Xero's invoices and payments: the snapshot refreshed with what changed.

    ``gateway`` is a connected ``XeroGateway``; ``full`` ignores the stored snapshot
    and reads everything again.  Raises ``NotConnected`` (and the gateway's other
    errors); the snapshot is only written once every page has arrived.
    """
    tenant_id = connected_tenant(gateway)
    stored = None if full else load_snapshot(instance_path, tenant_id)
    start = api_calls(gateway)
    frames: dict[str, pd.DataFrame] = {}
    since: dict[str, str | None] = {}
    fetched: dict[str, int] = {}
    for kind in KINDS:
        previous = stored[1][kind] if stored else empty_frame(SCHEMAS[kind])
        stamp = (stored[0].get("since") or {}).get(kind) if stored else None
        modified_since = datetime.fromisoformat(stamp) if stamp else None
        records: list[dict[str, Any]] = []
        bills: list[dict[str, Any]] = []
        latest = modified_since
        pages = gateway.iter_pages(
            kind,
            modified_since=modified_since,
            summary_only=kind == "invoices",
            page_size=page_size,
        )
        for page in pages:
            page_records, page_latest = _RECORDS[kind](page)
            records.extend(page_records)
            if kind == "invoices":  # the bills come in the same pages
                bills.extend(xero_bill_records(page))
            if page_latest is not None and (latest is None or page_latest > latest):
                latest = page_latest
        new = _BUILDERS[kind](records) if records else empty_frame(SCHEMAS[kind])
        frames[kind] = merge_by_id(previous, new, KEYS[kind])
        since[kind] = latest.isoformat() if latest is not None else None
        fetched[kind] = len(records)
        if kind == "invoices":
            old = stored[1]["bills"] if stored else empty_frame(SCHEMAS["bills"])
            new = xero_bills_frame(bills) if bills else empty_frame(SCHEMAS["bills"])
            frames["bills"] = merge_by_id(old, new, KEYS["bills"])
    loaded_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    meta = {
        "version": SNAPSHOT_VERSION,
        "tenant_id": tenant_id,
        "since": since,
        "loaded_at": loaded_at,
        "counts": {kind: len(frames[kind]) for kind in FRAMES},
    }
    write_snapshot(instance_path, tenant_id, frames, meta)
    return XeroLoad(
        invoices=frames["invoices"],
        payments=frames["payments"],
        bills=frames["bills"],
        tenant_id=tenant_id,
        mode="incremental" if stored else "full",
        calls=api_calls(gateway) - start,
        fetched=fetched,
        since=since,
        loaded_at=loaded_at,
    )


def _with_contact_numbers(
    invoices: pd.DataFrame, numbers: Mapping[str, str]
) -> pd.DataFrame:
    """Linked contacts get the Perfex customer id and lose the sync's name suffix."""
    if not numbers or invoices.empty:
        return invoices
    linked = invoices["contact_id"].map(numbers)
    out = invoices.copy()
    out["contact_number"] = linked.where(linked.notna(), invoices["contact_number"])
    out["contact_number"] = out["contact_number"].astype("str")
    names = invoices["contact_name"].astype("str")
    suffix = " (" + CONTACT_NUMBER_PREFIX + linked.astype("str") + ")"
    clash = linked.notna() & names.notna() & (names.str.len() > suffix.str.len())
    clash &= pd.Series(
        [
            bool(n.endswith(x)) if ok else False
            for n, x, ok in zip(names, suffix, clash, strict=True)
        ],
        index=clash.index,
    )
    if clash.any():
        cut = suffix.str.len()
        out.loc[clash, "contact_name"] = [
            n[: -int(k)] for n, k in zip(names[clash], cut[clash], strict=True)
        ]
    return out


# ------------------------------------------------------------------------- both


@dataclass
class ReconcileInputs:
    """The five input frames of ``reconcile`` and how the Xero side was loaded."""

    perfex_invoices: pd.DataFrame
    xero_invoices: pd.DataFrame
    perfex_payments: pd.DataFrame
    xero_payments: pd.DataFrame
    links: pd.DataFrame
    xero: XeroLoad
    unreadable: list[Unreadable] = field(default_factory=list)
    """Damaged Perfex records left out of the frames (see ``perfex_side``)."""

    def args(
        self,
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Positional arguments for ``reconcile``."""
        return (
            self.perfex_invoices,
            self.xero_invoices,
            self.perfex_payments,
            self.xero_payments,
            self.links,
        )


def load_inputs(
    perfex: PerfexDB,
    session: SessionLike,
    gateway: Any | None,
    instance_path: str | os.PathLike[str],
    *,
    refresh: bool = True,
    full: bool = False,
    tenant_id: str | None = None,
) -> ReconcileInputs:
    """Load both sides and the links; Xero from the refreshed snapshot.

    With ``refresh=False`` (or no gateway) the stored snapshot is used as it is,
    without any call (``SnapshotMissing`` when there is none).
    """
    if refresh and gateway is not None:
        xero = load_xero(gateway, instance_path, full=full)
    else:
        if tenant_id is None and gateway is not None:
            tenant_id = connected_tenant(gateway)
        xero = read_snapshot(instance_path, tenant_id)
    unreadable: list[Unreadable] = []
    p_inv = perfex_invoices(perfex, unreadable)
    p_pay = perfex_payments(perfex, p_inv, unreadable)
    links = load_links(session)
    x_inv = set_aside(xero.invoices, "invoices", links, unreadable)
    x_pay = set_aside(xero.payments, "payments", links, unreadable)
    return ReconcileInputs(
        perfex_invoices=p_inv,
        xero_invoices=_with_contact_numbers(x_inv, contact_numbers(session)),
        perfex_payments=p_pay,
        xero_payments=x_pay,
        links=links,
        xero=xero,
        unreadable=unreadable,
    )
