"""Reset forgets links and, with them, the reconciliation's Xero snapshot."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pxflask.models import Base, Link, SyncCursor
from pxflask.panel.maintenance import reset_links
from pxflask.reconcile.loaders import snapshot_dir
from pxflask.reconcile.service import report_dir


def test_reset_clears_links_cursors_and_the_reconciliation_snapshot(tmp_path):
    """After a reset nothing local still points at the old Xero organisation."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    Base.metadata.create_all(engine)
    tenant_folder = snapshot_dir(tmp_path) / "tenant-a"
    tenant_folder.mkdir(parents=True)
    (tenant_folder / "invoices.parquet").write_bytes(b"old organisation")
    report_dir(tmp_path).mkdir(parents=True)
    with Session(engine) as session:
        session.add_all(
            [
                Link(entity="invoices", perfex_key="1", xero_id="x", state="synced"),
                SyncCursor(name="accounts", value="2026-01-01T00:00:00"),
            ]
        )
        session.commit()
        summary = reset_links(session, instance_path=tmp_path)
        assert summary.links == 1
        assert session.scalars(select(Link)).all() == []
        assert session.scalars(select(SyncCursor)).all() == []
    assert not snapshot_dir(tmp_path).exists()
    assert not report_dir(tmp_path).exists()
    engine.dispose()
