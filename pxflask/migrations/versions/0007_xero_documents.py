"""online invoice URLs and invoice e-mails per linked Xero document

Revision ID: 0007_xero_documents
Revises: 0006_sso_nonces
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op


revision = '0007_xero_documents'
down_revision = '0006_sso_nonces'
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_table('pxf_xero_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('xero_id', sa.String(length=64), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('online_state', sa.String(length=20), nullable=True),
    sa.Column('online_checked_at', sa.DateTime(), nullable=True),
    sa.Column('email_state', sa.String(length=20), nullable=True),
    sa.Column('email_message', sa.Text(), nullable=True),
    sa.Column('emailed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_xero_documents')),
    sa.UniqueConstraint('entity', 'xero_id', name='uq_pxf_xero_documents_entity_id')
    )


def downgrade():
    """Revert this revision."""
    op.drop_table('pxf_xero_documents')
