"""merge area branches

Revision ID: 0008
Revises: 0003_enterprises, 0004_codes, 0005_licences, 0006_notifications, 0007_miniprograms
Create Date: 2026-11-22 01:29:21.795593
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0008'
down_revision = ('0003_enterprises', '0004_codes', '0005_licences', '0006_notifications', '0007_miniprograms')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
