"""the sync log indexed by Xero id: the reconciliation's reasons look records up by it

Revision ID: 0005_sync_log_xero_index
Revises: 0004_reconcile_reports
Create Date: 2026-12-04
"""

from alembic import op


revision = '0005_sync_log_xero_index'
down_revision = '0004_reconcile_reports'
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_index('ix_pxf_sync_log_xero', 'pxf_sync_log', ['entity', 'xero_id'],
                    unique=False)


def downgrade():
    """Revert this revision."""
    op.drop_index('ix_pxf_sync_log_xero', table_name='pxf_sync_log')
