"""The local per-tenant snapshot of Xero's invoices and payments (Parquet, JSON).

The bills (ACCPAY invoices) come in the same invoice pages: they are kept too, in
``bills.parquet`` (no call of their own; the invoices' ``since`` is theirs).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pxflask.reconcile.frames import (
    XERO_BILLS,
    XERO_INVOICES,
    XERO_PAYMENTS,
    FrameError,
    empty_frame,
    validate_frame,
)

SNAPSHOT_VERSION = 2
"""2: with the bills (an older snapshot is read again in full, bills included)."""


SNAPSHOT_SUBDIR = ("reconcile", "xero")
KINDS = ("invoices", "payments")
"""The kinds read from Xero (one series of pages each)."""
FRAMES = (*KINDS, "bills")
"""The stored frames: the bills come from the invoice pages."""
SCHEMAS = {"invoices": XERO_INVOICES, "payments": XERO_PAYMENTS, "bills": XERO_BILLS}
KEYS = {
    "invoices": "xero_invoice_id",
    "payments": "xero_payment_id",
    "bills": "xero_bill_id",
}


class SnapshotMissing(LookupError):
    """No local Xero snapshot exists for the tenant (load with a gateway first)."""


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
    bills: pd.DataFrame = field(default_factory=lambda: empty_frame(XERO_BILLS))
    """The ACCPAY bills of the same invoice pages (``XERO_BILLS``)."""


def snapshot_dir(instance_path: str | os.PathLike[str]) -> Path:
    """The folder of the Xero snapshots inside the instance folder."""
    return Path(instance_path).joinpath(*SNAPSHOT_SUBDIR)


def safe_tenant(tenant_id: str) -> str:
    """A tenant id usable as a file name."""
    clean = "".join(ch for ch in tenant_id.lower() if ch.isalnum() or ch == "-")
    if not clean:
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    return clean


def snapshot_paths(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> dict[str, Path]:
    """The snapshot files of one tenant."""
    base = snapshot_dir(instance_path) / safe_tenant(tenant_id)
    return {
        "meta": base / "meta.json",
        "invoices": base / "invoices.parquet",
        "payments": base / "payments.parquet",
        "bills": base / "bills.parquet",
    }


def snapshot_tenants(instance_path: str | os.PathLike[str]) -> list[str]:
    """Tenants with a stored snapshot, the most recently refreshed first."""
    folder = snapshot_dir(instance_path)
    if not folder.is_dir():
        return []
    metas = [p / "meta.json" for p in folder.iterdir() if (p / "meta.json").is_file()]
    metas.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [p.parent.name for p in metas]


def read_meta(path: Path) -> dict[str, Any] | None:
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
    loaded = load_snapshot(instance_path, tenant_id)
    if loaded is None:
        raise SnapshotMissing(f"no Xero snapshot for tenant {tenant_id}")
    meta, frames = loaded
    return XeroLoad(
        invoices=frames["invoices"],
        payments=frames["payments"],
        bills=frames["bills"],
        tenant_id=tenant_id,
        mode="snapshot",
        since=dict(meta.get("since") or {}),
        loaded_at=meta.get("loaded_at"),
    )


def load_snapshot(
    instance_path: str | os.PathLike[str], tenant_id: str
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]] | None:
    """(meta, frames) of a tenant's snapshot, or None when there is none usable."""
    paths = snapshot_paths(instance_path, tenant_id)
    meta = read_meta(paths["meta"])
    if meta is None:
        return None
    frames = {}
    try:
        for kind in FRAMES:
            raw = pd.read_parquet(paths[kind])
            frames[kind] = validate_frame(raw, SCHEMAS[kind])
    except (OSError, ValueError, FrameError):
        return None
    return meta, frames


def write_snapshot(
    instance_path: str | os.PathLike[str],
    tenant_id: str,
    frames: Mapping[str, pd.DataFrame],
    meta: dict[str, Any],
) -> None:
    """Store the frames, then the meta data (each file replaced atomically)."""
    paths = snapshot_paths(instance_path, tenant_id)
    paths["meta"].parent.mkdir(parents=True, exist_ok=True)
    for kind in FRAMES:
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
        target = folder / safe_tenant(tenant_id)
        if not target.exists():
            return 0
        shutil.rmtree(target)
        return 1
    count = sum(1 for p in folder.iterdir() if p.is_dir())
    shutil.rmtree(folder)
    return count


def merge_by_id(old: pd.DataFrame, new: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of ``new`` replace rows of ``old`` with the same id, in place."""
    if new.empty:
        return old
    if old.empty:
        return new.drop_duplicates(key, keep="last").reset_index(drop=True)
    both = pd.concat([old, new], ignore_index=True)
    latest = both.drop_duplicates(key, keep="last").set_index(key)
    order = pd.Index(both[key]).drop_duplicates(keep="first")
    return latest.loc[order].reset_index()[list(old.columns)]
