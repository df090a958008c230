"""Load Perfex, Xero and the sync links into the reconciliation frames (no Flask).

Perfex: ``perfex_side`` (one query per kind; damaged rows are left out and listed
as ``Unreadable``, and the Xero rows linked to them are set aside).

Xero: invoices (``summaryOnly``, 1,000 per page) and payments are kept in a local
snapshot per tenant under ``<instance>/reconcile/xero/`` (Parquet frames plus a JSON
file with the largest ``UpdatedDateUTC`` seen per kind).  A refresh asks Xero only for
what changed since then (``If-Modified-Since``) and merges it by id, so a rerun with
nothing changed costs one call per kind.  Xero never hard-deletes invoices or
payments (they become VOIDED/DELETED), so merging by id keeps the snapshot exact.
``clear_snapshot`` forgets it (a reset of the links, another organisation).

Links: the sync's ``Link`` rows (invoices, payments; customers give the Perfex id of
each Xero contact, the ``contact_number`` the per-customer totals join on).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pxflask.models import Link
from pxflask.perfex.db import PerfexDB
from pxflask.reconcile.frames import (
    LINKS,
    XERO_INVOICES,
    XERO_PAYMENTS,
    FrameError,
    empty_frame,
    links_frame,
    validate_frame,
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
from pxflask.reconcile.perfex_side import cents as _cents

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
SNAPSHOT_VERSION = 1
CONTACT_NUMBER_PREFIX = "PX-C-"  # the sync's ContactNumber of a Perfex customer
_SNAPSHOT_SUBDIR = ("reconcile", "xero")
_KINDS = ("invoices", "payments")
_SCHEMAS = {"invoices": XERO_INVOICES, "payments": XERO_PAYMENTS}
_KEYS = {"invoices": "xero_invoice_id", "payments": "xero_payment_id"}


class SnapshotMissing(LookupError):
    """No local Xero snapshot exists for the tenant (load with a gateway first)."""


# ------------------------------------------------------------------------ links


def load_links(session: Session) -> pd.DataFrame:
    """The invoice and payment links of the sync as a ``LINKS`` frame."""
    stmt = sa.select(Link.entity, Link.perfex_key, Link.xero_id).where(
        Link.entity.in_(("invoices", "payments")), Link.xero_id.is_not(None)
    )
    rows = [
        {"entity": e, "perfex_id": int(k), "xero_id": x.lower()}
        for e, k, x in session.execute(stmt)
        if k and str(k).isdigit() and x
    ]
    if not rows:
        return empty_frame(LINKS)
    return links_frame(rows)


def contact_numbers(session: Session) -> dict[str, str]:
    """Xero contact id (lower case) -> Perfex customer id, from the customer links."""
    stmt = sa.select(Link.perfex_key, Link.xero_id).where(
        Link.entity == "customers", Link.xero_id.is_not(None)
    )
    return {x.lower(): str(k) for k, x in session.execute(stmt) if k and x}


# ------------------------------------------------------------------------- Xero


def _naive_utc(value: Any) -> datetime | None:
    """A Xero timestamp as naive UTC (None when absent)."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _lower(value: Any) -> str | None:
    """A GUID in lower case (the links store them so)."""
    return str(value).lower() if value else None


def _text(value: Any) -> str | None:
    """Text or None (enum values are already strings)."""
    if value is None or value == "":
        return None
    return str(getattr(value, "value", value))


def xero_invoice_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """``XERO_INVOICES`` records of a page's ACCREC invoices, and its latest update."""
    records, latest = [], None
    for inv in page:
        updated = _naive_utc(inv.get("UpdatedDateUTC"))
        if updated is not None and (latest is None or updated > latest):
            latest = updated
        if _text(inv.get("Type")) != "ACCREC":
            continue
        contact = inv.get("Contact") or {}
        records.append(
            {
                "xero_invoice_id": _lower(inv.get("InvoiceID")),
                "invoice_number": _text(inv.get("InvoiceNumber")),
                "contact_id": _lower(contact.get("ContactID")),
                "contact_name": _text(contact.get("Name")),
                "contact_number": _text(contact.get("ContactNumber")),
                "date": inv.get("Date"),
                "due_date": inv.get("DueDate"),
                "currency": (_text(inv.get("CurrencyCode")) or "").upper(),
                "subtotal_cents": _cents(inv.get("SubTotal")),
                "tax_cents": _cents(inv.get("TotalTax")),
                "total_cents": _cents(inv.get("Total")),
                "paid_cents": _cents(inv.get("AmountPaid"))
                + _cents(inv.get("AmountCredited")),
                "status": _text(inv.get("Status")),
            }
        )
    return records, latest


def xero_payment_records(
    page: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], datetime | None]:
    """``XERO_PAYMENTS`` records of a page's invoice payments, and its latest update."""
    records, latest = [], None
    for pay in page:
        updated = _naive_utc(pay.get("UpdatedDateUTC"))
        if updated is not None and (latest is None or updated > latest):
            latest = updated
        invoice = pay.get("Invoice") or {}
        kind = _text(pay.get("PaymentType")) or "ACCRECPAYMENT"
        if not invoice.get("InvoiceID") or kind != "ACCRECPAYMENT":
            continue
        if _text(invoice.get("Type")) not in (None, "ACCREC"):
            continue
        records.append(
            {
                "xero_payment_id": _lower(pay.get("PaymentID")),
                "xero_invoice_id": _lower(invoice.get("InvoiceID")),
                "invoice_number": _text(invoice.get("InvoiceNumber")),
                "date": pay.get("Date"),
                "amount_cents": _cents(pay.get("Amount")),
                "currency": (_text(invoice.get("CurrencyCode")) or "").upper(),
                "status": _text(pay.get("Status")),
            }
        )
    return records, latest


_RECORDS = {"invoices": xero_invoice_records, "payments": xero_payment_records}
_BUILDERS = {"invoices": xero_invoices_frame, "payments": xero_payments_frame}


@dataclass
class XeroLoad:
    """The Xero frames of one load and what the load cost."""

    invoices: pd.DataFrame
    payments: pd.DataFrame
    tenant_id: str
    mode: str  # "full", "incremental" or "snapshot" (no call made)
    calls: int = 0
    fetched: dict[str, int] = field(default_factory=dict)
    since: dict[str, str | None] = field(default_factory=dict)
    loaded_at: str | None = None


def snapshot_dir(instance_path: str | os.PathLike[str]) -> Path:
    """The folder of the Xero snapshots inside the instance folder."""
    return Path(instance_path).joinpath(*_SNAPSHOT_SUBDIR)


def _safe_tenant(tenant_id: str) -> str:
    """A tenant id usable as a file name."""
    clean = "".join(ch for ch in tenant_id.lower() if ch.isalnum() or ch == "-")
    if not clean:
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    return clean


def _paths(instance_path: str | os.PathLike[str], tenant_id: str) -> dict[str, Path]:
    """The snapshot files of one tenant."""
    base = snapshot_dir(instance_path) / _safe_tenant(tenant_id)
    return {
        "meta": base / "meta.json",
        "invoices": base / "invoices.parquet",
        "payments": base / "payments.parquet",
    }


def snapshot_tenants(instance_path: str | os.PathLike[str]) -> list[str]:
    """Tenants with a stored snapshot, the most recently refreshed first."""
    folder = snapshot_dir(instance_path)
    if not folder.is_dir():
        return []
    metas = [p / "meta.json" for p in folder.iterdir() if (p / "meta.json").is_file()]
    metas.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [p.parent.name for p in metas]


def _read_meta(path: Path) -> dict[str, Any] | None:
    """The snapshot's meta data, or None when absent, unreadable or outdated."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("version") != SNAPSHOT_VERSION:
        return None
    return meta


def read_snapshot(
    instance_path: str | os.PathLike[str], tenant_id: str | None = None
) -> XeroLoad:
    """The stored Xero frames without any call (latest tenant when not given)."""
    if tenant_id is None:
        tenants = snapshot_tenants(instance_path)
        if not tenants:
            raise SnapshotMissing(
                "no Xero snapshot yet: refresh the reconciliation while connected"
            )
        tenant_id = tenants[0]
    loaded = _load_snapshot(instance_path, tenant_id)
    if loaded is None:
        raise SnapshotMissing(f"no Xero snapshot for tenant {tenant_id}")
    meta, frames = loaded
    return XeroLoad(
        invoices=frames["invoices"],
        payments=frames["payments"],
        tenant_id=tenant_id,
        mode="snapshot",
        since=dict(meta.get("since") or {}),
        loaded_at=meta.get("loaded_at"),
    )


def _load_snapshot(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]] | None:
    """(meta, frames) of a tenant's snapshot, or None when there is none usable."""
    paths = _paths(instance_path, tenant_id)
    meta = _read_meta(paths["meta"])
    if meta is None:
        return None
    frames = {}
    try:
        for kind in _KINDS:
            raw = pd.read_parquet(paths[kind])
            frames[kind] = validate_frame(raw, _SCHEMAS[kind])
    except (OSError, ValueError, FrameError):
        return None
    return meta, frames


def _write_snapshot(
    instance_path: str | os.PathLike[str],
    tenant_id: str,
    frames: Mapping[str, pd.DataFrame],
    meta: dict[str, Any],
) -> None:
    """Store the frames, then the meta data (each file replaced atomically)."""
    paths = _paths(instance_path, tenant_id)
    paths["meta"].parent.mkdir(parents=True, exist_ok=True)
    for kind in _KINDS:
        tmp = paths[kind].with_suffix(".tmp")
        frames[kind].to_parquet(tmp, index=False)
        os.replace(tmp, paths[kind])
    tmp = paths["meta"].with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    os.replace(tmp, paths["meta"])


def clear_snapshot(
    instance_path: str | os.PathLike[str], tenant_id: str | None = None
) -> int:
    """Forget the Xero snapshot of one tenant (or all); return how many went."""
    folder = snapshot_dir(instance_path)
    if not folder.is_dir():
        return 0
    if tenant_id is not None:
        target = folder / _safe_tenant(tenant_id)
        if not target.exists():
            return 0
        shutil.rmtree(target)
        return 1
    count = sum(1 for p in folder.iterdir() if p.is_dir())
    shutil.rmtree(folder)
    return count


def _merge(old: pd.DataFrame, new: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of ``new`` replace rows of ``old`` with the same id, in place."""
    if new.empty:
        return old
    if old.empty:
        return new.drop_duplicates(key, keep="last").reset_index(drop=True)
    both = pd.concat([old, new], ignore_index=True)
    latest = both.drop_duplicates(key, keep="last").set_index(key)
    order = pd.Index(both[key]).drop_duplicates(keep="first")
    return latest.loc[order].reset_index()[list(old.columns)]


def _calls(gateway: Any) -> int:
    """The gateway's API call count so far."""
    return int(gateway.stats.snapshot().get("total", 0))


def _tenant_of(gateway: Any) -> str:
    """The connected tenant id; raise NotConnected when there is none."""
    from pxflask.xero.errors import NotConnected

    status = gateway.connection_status()
    if not status.connected or not status.tenant_id:
        raise NotConnected(status.message or "Xero is not connected")
    return str(status.tenant_id)


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
    tenant_id = _tenant_of(gateway)
    stored = None if full else _load_snapshot(instance_path, tenant_id)
    start = _calls(gateway)
    frames: dict[str, pd.DataFrame] = {}
    since: dict[str, str | None] = {}
    fetched: dict[str, int] = {}
    for kind in _KINDS:
        previous = stored[1][kind] if stored else empty_frame(_SCHEMAS[kind])
        stamp = (stored[0].get("since") or {}).get(kind) if stored else None
        modified_since = datetime.fromisoformat(stamp) if stamp else None
        records: list[dict[str, Any]] = []
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
            if page_latest is not None and (latest is None or page_latest > latest):
                latest = page_latest
        new = _BUILDERS[kind](records) if records else empty_frame(_SCHEMAS[kind])
        frames[kind] = _merge(previous, new, _KEYS[kind])
        since[kind] = latest.isoformat() if latest is not None else None
        fetched[kind] = len(records)
    loaded_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    meta = {
        "version": SNAPSHOT_VERSION,
        "tenant_id": tenant_id,
        "since": since,
        "loaded_at": loaded_at,
        "counts": {kind: len(frames[kind]) for kind in _KINDS},
    }
    _write_snapshot(instance_path, tenant_id, frames, meta)
    return XeroLoad(
        invoices=frames["invoices"],
        payments=frames["payments"],
        tenant_id=tenant_id,
        mode="incremental" if stored else "full",
        calls=_calls(gateway) - start,
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

    def args(self) -> tuple[pd.DataFrame, ...]:
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
    session: Session,
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
            tenant_id = _tenant_of(gateway)
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
