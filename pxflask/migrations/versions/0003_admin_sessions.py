"""the panel's server-side sessions and the used authenticator steps

Revision ID: 0003_admin_sessions
Revises: 0002_xero_tax_rates
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op


revision = '0003_admin_sessions'
down_revision = '0002_xero_tax_rates'
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_table('pxf_admin_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('password_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_admin_sessions'))
    )
    with op.batch_alter_table('pxf_admin_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pxf_admin_sessions_staff_id'), ['staff_id'], unique=False)

    op.create_table('pxf_totp_steps',
    sa.Column('staff_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_step', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_pxf_totp_steps'))
    )


def downgrade():
    """Revert this revision: drop the tables (their indexes go with them)."""
    op.drop_table('pxf_totp_steps')
    op.drop_table('pxf_admin_sessions')
