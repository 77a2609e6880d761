"""ratings: 好差评 ratings, counters, rectification cases

Revision ID: 0015_ratings
Revises: 0009_family
Create Date: 2026-12-03 10:38:12.259652
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0015_ratings'
down_revision = '0009_family'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rating_counters',
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stars_sum', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('star_1', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('star_2', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('star_3', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('star_4', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('star_5', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('replied', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('subject_type', 'subject_id', name=op.f('pk_rating_counters'))
    )
    op.create_table('ratings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.Column('access_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('service_kind', sa.String(length=32), nullable=False),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('comment', sa.String(length=600), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.String(length=600), nullable=True),
    sa.Column('replied_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replied_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['access_id'], ['access_records.id'], name=op.f('fk_ratings_access_id_access_records'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['replied_by'], ['users.id'], name=op.f('fk_ratings_replied_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ratings_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('access_id', name=op.f('uq_ratings_access_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_ratings_public_id'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_subject', ['subject_type', 'subject_id', 'id'], unique=False)
        batch_op.create_index('ix_ratings_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('rating_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('rating_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('resolved_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolved_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('answered_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('inbox_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], name=op.f('fk_rating_cases_rating_id_ratings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_rating_cases_resolved_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_cases')),
    sa.UniqueConstraint('rating_id', name=op.f('uq_rating_cases_rating_id'))
    )
    with op.batch_alter_table('rating_cases', schema=None) as batch_op:
        batch_op.create_index('ix_rating_cases_status_due_on', ['status', 'due_on'], unique=False)
        batch_op.create_index('ix_rating_cases_subject', ['subject_type', 'subject_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rating_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_cases_subject')
        batch_op.drop_index('ix_rating_cases_status_due_on')

    op.drop_table('rating_cases')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_user_id_id')
        batch_op.drop_index('ix_ratings_subject')

    op.drop_table('ratings')
    op.drop_table('rating_counters')
