"""mini-programs: apps, consents, pairwise ids, subscription messages

Revision ID: 0007_miniprograms
Revises: 0001
Create Date: 2026-11-22 00:36:37.567857
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0007_miniprograms'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('miniprograms',
    sa.Column('appid', sa.String(length=19), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('owner_org', sa.String(length=128), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('request_domain', sa.String(length=255), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('secret_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('secret_rotated_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('appid', name=op.f('pk_miniprograms'))
    )
    op.create_table('miniprogram_consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('appid', sa.String(length=19), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('granted_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appid'], ['miniprograms.appid'], name=op.f('fk_miniprogram_consents_appid_miniprograms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_miniprogram_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_miniprogram_consents')),
    sa.UniqueConstraint('user_id', 'appid', 'scope', name='uq_miniprogram_consents_user_app_scope')
    )
    op.create_table('miniprogram_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('appid', sa.String(length=19), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template_id', sa.String(length=128), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('page', sa.String(length=512), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('inbox_ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appid'], ['miniprograms.appid'], name=op.f('fk_miniprogram_messages_appid_miniprograms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_miniprogram_messages_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_miniprogram_messages'))
    )
    with op.batch_alter_table('miniprogram_messages', schema=None) as batch_op:
        batch_op.create_index('ix_miniprogram_messages_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('miniprogram_users',
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('appid', sa.String(length=19), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unionid', sa.String(length=64), nullable=False),
    sa.Column('first_login_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appid'], ['miniprograms.appid'], name=op.f('fk_miniprogram_users_appid_miniprograms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_miniprogram_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('openid', name=op.f('pk_miniprogram_users')),
    sa.UniqueConstraint('appid', 'user_id', name='uq_miniprogram_users_app_user')
    )


def downgrade() -> None:
    op.drop_table('miniprogram_users')
    with op.batch_alter_table('miniprogram_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_miniprogram_messages_user_id_id')

    op.drop_table('miniprogram_messages')
    op.drop_table('miniprogram_consents')
    op.drop_table('miniprograms')
