"""enterprises: registry mirror, enterprise accounts, members and audit

Revision ID: 0003_enterprises
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0003_enterprises'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('enterprise_registry',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('legal_rep_id_type', sa.String(length=24), nullable=False),
    sa.Column('legal_rep_bidx', sa.String(length=64), nullable=False),
    sa.Column('legal_rep_enc', sa.LargeBinary(), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=True),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('size', sa.String(length=32), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_registry')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprise_registry_credit_code'))
    )
    with op.batch_alter_table('enterprise_registry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_registry_legal_rep_bidx'), ['legal_rep_bidx'], unique=False)

    op.create_table('enterprises',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=True),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('size', sa.String(length=32), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('legal_rep_bidx', sa.String(length=64), nullable=False),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprises_credit_code'))
    )
    op.create_table('enterprise_audit',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('enterprise_id', BigId, nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('actor_user_id', BigId, nullable=True),
    sa.Column('subject_user_id', BigId, nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('previous_role', sa.String(length=16), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_audit_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_audit'))
    )
    with op.batch_alter_table('enterprise_audit', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_audit_enterprise_id_id', ['enterprise_id', 'id'], unique=False)

    op.create_table('enterprise_members',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('enterprise_id', BigId, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('granted_by', BigId, nullable=True),
    sa.Column('granted_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_members_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enterprise_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_members')),
    sa.UniqueConstraint('enterprise_id', 'user_id', name='uq_enterprise_members_enterprise_user')
    )
    with op.batch_alter_table('enterprise_members', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_members_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enterprise_members', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_members_user_id')
    op.drop_table('enterprise_members')
    with op.batch_alter_table('enterprise_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_audit_enterprise_id_id')
    op.drop_table('enterprise_audit')
    op.drop_table('enterprises')
    with op.batch_alter_table('enterprise_registry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_registry_legal_rep_bidx'))
    op.drop_table('enterprise_registry')
