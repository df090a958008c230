"""the cached tax rates of the connected organisation

Revision ID: 0002_xero_tax_rates
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op


revision = '0002_xero_tax_rates'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_table('pxf_xero_tax_rates',
    sa.Column('tax_type', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=150), nullable=False),
    sa.Column('rate', sa.String(length=20), nullable=False),
    sa.Column('report_tax_type', sa.String(length=40), nullable=True),
    sa.Column('can_revenue', sa.Boolean(), nullable=False),
    sa.Column('can_expenses', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('components', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('tax_type', name=op.f('pk_pxf_xero_tax_rates'))
    )


def downgrade():
    """Revert this revision."""
    op.drop_table('pxf_xero_tax_rates')
