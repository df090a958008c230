"""the used sign-in tokens of the Perfex module (single use until they expire)

Revision ID: 0006_sso_nonces
Revises: 0005_sync_log_xero_index
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op


revision = '0006_sso_nonces'
down_revision = '0005_sync_log_xero_index'
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_table('pxf_sso_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_pxf_sso_nonces'))
    )
    with op.batch_alter_table('pxf_sso_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pxf_sso_nonces_expires_at'), ['expires_at'], unique=False)


def downgrade():
    """Revert this revision."""
    op.drop_table('pxf_sso_nonces')
