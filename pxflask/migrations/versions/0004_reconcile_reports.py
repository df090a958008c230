"""the reconciliation history: every report kept, with its sign-off

Revision ID: 0004_reconcile_reports
Revises: 0003_admin_sessions
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op


revision = '0004_reconcile_reports'
down_revision = '0003_admin_sessions'
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_table('pxf_reconcile_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=True),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('tolerance', sa.String(length=40), nullable=False),
    sa.Column('organisation', sa.String(length=255), nullable=True),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('generated_by', sa.String(length=255), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('signed_off_by', sa.String(length=255), nullable=True),
    sa.Column('signed_off_at', sa.DateTime(), nullable=True),
    sa.Column('sign_off_comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_reconcile_reports'))
    )
    with op.batch_alter_table('pxf_reconcile_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pxf_reconcile_reports_generated_at'), ['generated_at'], unique=False)


def downgrade():
    """Revert this revision: drop the table (its index goes with it)."""
    op.drop_table('pxf_reconcile_reports')
