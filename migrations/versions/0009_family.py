"""family: dependents, guardian links, activity; registry guardians

Revision ID: 0009_family
Revises: 0008
Create Date: 2026-12-03 10:37:32.158652
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0009_family'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('family_dependents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id_type', sa.String(length=24), nullable=False),
    sa.Column('id_number_bidx', sa.String(length=64), nullable=False),
    sa.Column('id_number_masked', sa.String(length=32), nullable=False),
    sa.Column('masked_name', sa.String(length=64), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('holder_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_dependents')),
    sa.UniqueConstraint('holder_id', name=op.f('uq_family_dependents_holder_id')),
    sa.UniqueConstraint('id_number_bidx', name=op.f('uq_family_dependents_id_number_bidx'))
    )
    op.create_table('family_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.Column('guardian_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dependent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('live_key', sa.String(length=48), nullable=True),
    sa.Column('approved_via', sa.String(length=16), nullable=True),
    sa.Column('consent', sa.JSON(), nullable=True),
    sa.Column('ended_reason', sa.String(length=24), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dependent_id'], ['family_dependents.id'], name=op.f('fk_family_links_dependent_id_family_dependents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['guardian_user_id'], ['users.id'], name=op.f('fk_family_links_guardian_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_links')),
    sa.UniqueConstraint('live_key', name=op.f('uq_family_links_live_key')),
    sa.UniqueConstraint('public_id', name=op.f('uq_family_links_public_id'))
    )
    with op.batch_alter_table('family_links', schema=None) as batch_op:
        batch_op.create_index('ix_family_links_dependent_id_id', ['dependent_id', 'id'], unique=False)
        batch_op.create_index('ix_family_links_guardian_user_id_id', ['guardian_user_id', 'id'], unique=False)

    op.create_table('family_activity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dependent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('scene', sa.String(length=32), nullable=True),
    sa.Column('accessor', sa.JSON(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=128), nullable=True),
    sa.Column('subject_ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dependent_id'], ['family_dependents.id'], name=op.f('fk_family_activity_dependent_id_family_dependents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['family_links.id'], name=op.f('fk_family_activity_link_id_family_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_activity'))
    )
    with op.batch_alter_table('family_activity', schema=None) as batch_op:
        batch_op.create_index('ix_family_activity_dependent_id_id', ['dependent_id', 'id'], unique=False)
        batch_op.create_index('ix_family_activity_link_id_id', ['link_id', 'id'], unique=False)

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guardian_bidxs', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('guardian_bidxs')

    with op.batch_alter_table('family_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_family_activity_link_id_id')
        batch_op.drop_index('ix_family_activity_dependent_id_id')

    op.drop_table('family_activity')
    with op.batch_alter_table('family_links', schema=None) as batch_op:
        batch_op.drop_index('ix_family_links_guardian_user_id_id')
        batch_op.drop_index('ix_family_links_dependent_id_id')

    op.drop_table('family_links')
    op.drop_table('family_dependents')
