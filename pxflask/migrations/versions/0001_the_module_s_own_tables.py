"""the module's own tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Apply this revision."""
    op.create_table('pxf_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('perfex_key', sa.String(length=100), nullable=False),
    sa.Column('xero_id', sa.String(length=64), nullable=True),
    sa.Column('xero_number', sa.String(length=255), nullable=True),
    sa.Column('payload_hash', sa.String(length=64), nullable=True),
    sa.Column('source_hash', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('synced_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_links')),
    sa.UniqueConstraint('entity', 'perfex_key', name='uq_pxf_links_entity_key')
    )
    with op.batch_alter_table('pxf_links', schema=None) as batch_op:
        batch_op.create_index('ix_pxf_links_entity_state', ['entity', 'state'], unique=False)
        batch_op.create_index('ix_pxf_links_entity_xero_id', ['entity', 'xero_id'], unique=False)

    op.create_table('pxf_login_failures',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_pxf_login_failures'))
    )
    op.create_table('pxf_settings',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_pxf_settings'))
    )
    op.create_table('pxf_sync_cursors',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_pxf_sync_cursors'))
    )
    op.create_table('pxf_sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('since', sa.String(length=10), nullable=True),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('current_entity', sa.String(length=40), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('ok_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('api_calls', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_sync_runs'))
    )
    op.create_table('pxf_xero_accounts',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=True),
    sa.Column('name', sa.String(length=150), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('account_class', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tax_type', sa.String(length=50), nullable=True),
    sa.Column('currency_code', sa.String(length=3), nullable=True),
    sa.Column('bank_account_number', sa.String(length=60), nullable=True),
    sa.Column('enable_payments', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_pxf_xero_accounts'))
    )
    with op.batch_alter_table('pxf_xero_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pxf_xero_accounts_code'), ['code'], unique=False)

    op.create_table('pxf_xero_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_type', sa.String(length=30), nullable=False),
    sa.Column('client_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('tenant_name', sa.String(length=255), nullable=True),
    sa.Column('tenant_type', sa.String(length=30), nullable=True),
    sa.Column('connection_id', sa.String(length=64), nullable=True),
    sa.Column('token_encrypted', sa.Text(), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('access_expires_at', sa.DateTime(), nullable=True),
    sa.Column('refresh_issued_at', sa.DateTime(), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('refresh_owner', sa.String(length=64), nullable=True),
    sa.Column('refresh_until', sa.DateTime(), nullable=True),
    sa.Column('minute_remaining', sa.Integer(), nullable=True),
    sa.Column('day_remaining', sa.Integer(), nullable=True),
    sa.Column('quota_seen_at', sa.DateTime(), nullable=True),
    sa.Column('connected_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_xero_connection'))
    )
    op.create_table('pxf_sync_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('perfex_key', sa.String(length=100), nullable=True),
    sa.Column('xero_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['pxf_sync_runs.id'], name=op.f('fk_pxf_sync_log_run_id_pxf_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pxf_sync_log'))
    )
    with op.batch_alter_table('pxf_sync_log', schema=None) as batch_op:
        batch_op.create_index('ix_pxf_sync_log_filter', ['entity', 'outcome', 'created_at'], unique=False)
        batch_op.create_index('ix_pxf_sync_log_record', ['entity', 'perfex_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pxf_sync_log_run_id'), ['run_id'], unique=False)



def downgrade():
    """Revert this revision: drop the tables (their indexes go with them)."""
    for table in (
        "pxf_sync_log",
        "pxf_sync_runs",
        "pxf_sync_cursors",
        "pxf_links",
        "pxf_xero_accounts",
        "pxf_xero_connection",
        "pxf_settings",
        "pxf_login_failures",
    ):
        op.drop_table(table)
