"""refresh tokens: the successor pair, sealed with the rotated token, for the retry grace window

Revision ID: 0023_refresh_grace
Revises: 0022_faults
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0023_refresh_grace'
down_revision = '0022_faults'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('successor_sealed', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_column('successor_sealed')
