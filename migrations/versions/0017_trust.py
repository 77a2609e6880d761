"""trust federation: peers, refreshes, peer scans

Revision ID: 0017_trust
Revises: 0015_ratings
Create Date: 2026-12-03 10:37:56.260411
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0017_trust'
down_revision = '0015_ratings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trust_peers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('jwks_url', sa.String(length=2048), nullable=False),
    sa.Column('token_types', sa.JSON(), nullable=False),
    sa.Column('scenes', sa.JSON(), nullable=False),
    sa.Column('algorithms', sa.JSON(), nullable=False),
    sa.Column('keys', sa.JSON(), nullable=False),
    sa.Column('keys_fetched_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('etag', sa.String(length=256), nullable=True),
    sa.Column('next_refresh_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_trust_peers_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_peers')),
    sa.UniqueConstraint('issuer', name=op.f('uq_trust_peers_issuer'))
    )
    with op.batch_alter_table('trust_peers', schema=None) as batch_op:
        batch_op.create_index('ix_trust_peers_next_refresh_at', ['next_refresh_at'], unique=False)

    op.create_table('trust_peer_scans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('peer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('sub', sa.String(length=256), nullable=False),
    sa.Column('jti', sa.String(length=256), nullable=False),
    sa.Column('scene', sa.String(length=32), nullable=False),
    sa.Column('venue_id', sa.String(length=24), nullable=False),
    sa.Column('staff_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('scanned_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['trust_peers.id'], name=op.f('fk_trust_peer_scans_peer_id_trust_peers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['users.id'], name=op.f('fk_trust_peer_scans_staff_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_peer_scans'))
    )
    with op.batch_alter_table('trust_peer_scans', schema=None) as batch_op:
        batch_op.create_index('ix_trust_peer_scans_scanned_at', ['scanned_at'], unique=False)

    op.create_table('trust_refreshes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('peer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('key_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['trust_peers.id'], name=op.f('fk_trust_refreshes_peer_id_trust_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_refreshes'))
    )
    with op.batch_alter_table('trust_refreshes', schema=None) as batch_op:
        batch_op.create_index('ix_trust_refreshes_peer_id_id', ['peer_id', 'id'], unique=False)
        batch_op.create_index('ix_trust_refreshes_started_at', ['started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trust_refreshes', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_refreshes_started_at')
        batch_op.drop_index('ix_trust_refreshes_peer_id_id')

    op.drop_table('trust_refreshes')
    with op.batch_alter_table('trust_peer_scans', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_peer_scans_scanned_at')

    op.drop_table('trust_peer_scans')
    with op.batch_alter_table('trust_peers', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_peers_next_refresh_at')

    op.drop_table('trust_peers')
