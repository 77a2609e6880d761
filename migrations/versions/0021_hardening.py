"""hardening: campaign reruns (runs per policy, one inbox message per policy and resident);
enterprise invitations

Revision ID: 0021_hardening
Revises: 0019_proofs
Create Date: 2026-12-03 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0021_hardening'
down_revision = '0019_proofs'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
CAMPAIGN_ROWS = sa.text('policy_id IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('run', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch.drop_constraint('uq_campaigns_policy_id', type_='unique')
        batch.create_unique_constraint('uq_campaigns_policy_run', ['policy_id', 'run'])
    op.add_column('inbox_messages', sa.Column('policy_id', ID, nullable=True))
    # Until now a policy had one campaign, so no resident holds two messages of one policy.
    op.execute("UPDATE inbox_messages SET policy_id = (SELECT c.policy_id FROM campaigns c "
               "WHERE c.id = inbox_messages.campaign_id) WHERE campaign_id IS NOT NULL")
    op.create_index('uq_inbox_messages_policy_user', 'inbox_messages', ['policy_id', 'user_id'], unique=True,
                    postgresql_where=CAMPAIGN_ROWS, sqlite_where=CAMPAIGN_ROWS)
    op.create_table('enterprise_invitations',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('enterprise_id', ID, nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('invited_by', ID, nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_invitations_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_enterprise_invitations_invited_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_invitations')),
    sa.UniqueConstraint('enterprise_id', 'phone', name='uq_enterprise_invitations_enterprise_phone')
    )
    op.create_index('ix_enterprise_invitations_phone', 'enterprise_invitations', ['phone'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_enterprise_invitations_phone', table_name='enterprise_invitations')
    op.drop_table('enterprise_invitations')
    op.drop_index('uq_inbox_messages_policy_user', table_name='inbox_messages',
                  postgresql_where=CAMPAIGN_ROWS, sqlite_where=CAMPAIGN_ROWS)
    with op.batch_alter_table('inbox_messages') as batch:
        batch.drop_column('policy_id')
    op.execute("DELETE FROM campaigns WHERE run > 1")
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_constraint('uq_campaigns_policy_run', type_='unique')
        batch.create_unique_constraint('uq_campaigns_policy_id', ['policy_id'])
        batch.drop_column('run')
