"""faults: pending cache invalidations; index of recently signed-out sessions

Revision ID: 0022_faults
Revises: 0021_hardening
Create Date: 2026-12-04 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0022_faults'
down_revision = '0021_hardening'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_invalidations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_invalidations'))
    )
    op.create_index('ix_auth_sessions_revoked_at', 'auth_sessions', ['revoked_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_auth_sessions_revoked_at', table_name='auth_sessions')
    op.drop_table('pending_invalidations')
