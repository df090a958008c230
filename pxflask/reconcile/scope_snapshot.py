"""A Xero snapshot of one extra scope (expenses, credit notes) beside the invoices'.

Each scope keeps ``<instance>/reconcile/xero/<tenant>/<name>.parquet`` and
``<name>.json`` (the largest ``UpdatedDateUTC`` seen).  A refresh asks Xero only for
what changed since (``If-Modified-Since``) and merges it by id, so a rerun with
nothing changed costs one call.  ``loaders.clear_snapshot`` removes the tenant
folder, and with it these files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pxflask.reconcile.frames import DATE_DTYPE
from pxflask.reconcile.loaders import snapshot_dir
from pxflask.reconcile.xero_records import naive_utc

__all__ = [
    "ScopeLoad",
    "ScopeSnapshot",
    "naive_utc",
    "set_aside",
    "typed_frame",
]

SNAPSHOT_VERSION = 1
Records = Callable[
    [Iterable[Mapping[str, Any]]], tuple[list[dict[str, Any]], datetime | None]
]


def typed_frame(
    records: list[dict[str, Any]], columns: Mapping[str, str]
) -> pd.DataFrame:
    """A frame with exactly these columns and dtypes."""
    out = {}
    for col, dtype in columns.items():
        values = pd.Series([r.get(col) for r in records], dtype=object)
        if dtype == DATE_DTYPE:
            out[col] = pd.to_datetime(values).dt.normalize().astype(DATE_DTYPE)
        else:
            out[col] = values.astype(dtype)
    return pd.DataFrame(out)


@dataclass
class ScopeLoad:
    """The Xero records of one load and what it cost."""

    frame: pd.DataFrame
    mode: str  # full, incremental or snapshot
    calls: int = 0


@dataclass(frozen=True)
class ScopeSnapshot:
    """Where and how one scope's Xero records are kept and refreshed."""

    name: str  # file stem: expenses, credit_notes
    kind: str  # the gateway's collection: bank_transactions, credit_notes
    columns: Mapping[str, str]
    key: str  # the id column the refresh merges on
    records: Records

    def _paths(
        self, instance_path: str | os.PathLike[str], tenant_id: str
    ) -> dict[str, Path]:
        """The snapshot files of a tenant (beside its invoice snapshot)."""
        clean = "".join(ch for ch in tenant_id.lower() if ch.isalnum() or ch == "-")
        base = snapshot_dir(instance_path) / clean
        return {
            "meta": base / f"{self.name}.json",
            "frame": base / f"{self.name}.parquet",
        }

    def empty(self) -> pd.DataFrame:
        """An empty frame of the scope's columns."""
        return typed_frame([], self.columns)

    def stored(
        self, instance_path: str | os.PathLike[str], tenant_id: str
    ) -> tuple[str | None, pd.DataFrame] | None:
        """(since, frame) of the stored snapshot, or None when there is none usable."""
        paths = self._paths(instance_path, tenant_id)
        try:
            meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
            frame = pd.read_parquet(paths["frame"])
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("version") != SNAPSHOT_VERSION:
            return None
        if list(frame.columns) != list(self.columns):
            return None
        return meta.get("since"), frame.astype(dict(self.columns))

    def read(self, instance_path: str | os.PathLike[str], tenant_id: str) -> ScopeLoad:
        """The stored records without any call (empty when none stored)."""
        stored = self.stored(instance_path, tenant_id)
        return ScopeLoad(stored[1] if stored else self.empty(), "snapshot", 0)

    def current(
        self,
        gateway: Any | None,
        instance_path: str | os.PathLike[str],
        tenant_id: str,
        *,
        full: bool = False,
    ) -> ScopeLoad:
        """Refreshed through ``gateway`` when there is one, else as stored."""
        if gateway is None:
            return self.read(instance_path, tenant_id)
        return self.load(gateway, instance_path, tenant_id, full=full)

    def load(
        self,
        gateway: Any,
        instance_path: str | os.PathLike[str],
        tenant_id: str,
        *,
        full: bool = False,
    ) -> ScopeLoad:
        """The stored snapshot refreshed with what changed (all of it with ``full``)."""
        stored = None if full else self.stored(instance_path, tenant_id)
        since = datetime.fromisoformat(stored[0]) if stored and stored[0] else None
        start = _calls(gateway)
        records: list[dict[str, Any]] = []
        latest = since
        for page in gateway.iter_pages(self.kind, modified_since=since):
            page_records, page_latest = self.records(page)
            records.extend(page_records)
            if page_latest is not None and (latest is None or page_latest > latest):
                latest = page_latest
        new = typed_frame(records, self.columns)
        old = stored[1] if stored else self.empty()
        frame = (
            pd.concat([old, new], ignore_index=True)
            .drop_duplicates(self.key, keep="last")
            .reset_index(drop=True)
            if len(new)
            else old
        )
        self._write(instance_path, tenant_id, frame, latest)
        mode = "incremental" if stored else "full"
        return ScopeLoad(frame, mode, _calls(gateway) - start)

    def _write(
        self,
        instance_path: str | os.PathLike[str],
        tenant_id: str,
        frame: pd.DataFrame,
        latest: datetime | None,
    ) -> None:
        """Replace the stored frame and its meta file."""
        paths = self._paths(instance_path, tenant_id)
        paths["frame"].parent.mkdir(parents=True, exist_ok=True)
        tmp = paths["frame"].with_suffix(".tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, paths["frame"])
        meta = {
            "version": SNAPSHOT_VERSION,
            "since": latest.isoformat() if latest else None,
        }
        tmp = paths["meta"].with_suffix(".jtmp")
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, paths["meta"])


def set_aside(
    xero: pd.DataFrame, links: Mapping[int, str], damaged: set[int]
) -> pd.DataFrame:
    """Xero rows without those of damaged Perfex records (by link or Reference id)."""
    if not damaged or xero.empty:
        return xero
    gone = xero["xero_id"].isin({links[i] for i in damaged if i in links})
    gone |= xero["reference_id"].isin(damaged).fillna(False)
    return xero[~gone.to_numpy(bool)].reset_index(drop=True)


def _calls(gateway: Any) -> int:
    """The gateway's API call count so far."""
    return int(gateway.stats.snapshot().get("total", 0))
